//! `validate`'s outputs as scripts and monitoring read them: `--json` carries every
//! check's stable id and status, `--textfile` writes a file a Prometheus text-format
//! parser (the prometheus-parse crate, not ours) reads back to the same results, and
//! the table fits 80 columns.

mod common;
use common::*;

fn validated(t: &Tree, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["validate"];
    args.extend_from_slice(extra);
    t.fb(&args)
}

#[test]
fn the_textfile_parses_as_prometheus_text_and_agrees_with_the_json() {
    let t = Tree::new(CONFIG);
    ok(&t.fb(&["run", "--profile", "standard"]));
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let o = validated(&t, &["--json", "--textfile", d]);
    assert_ne!(o.status.code(), Some(2), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["version"], 1);
    let text = std::fs::read_to_string(dir.path().join("firstboot.prom")).unwrap();
    let lines = text.lines().map(|l| Ok(l.to_string()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("prometheus text format");
    let value = |module: &str, check: &str| {
        scrape
            .samples
            .iter()
            .find(|s| {
                s.metric == "firstboot_check_status"
                    && s.labels.get("module") == Some(module)
                    && s.labels.get("check") == Some(check)
            })
            .map(|s| match s.value {
                prometheus_parse::Value::Gauge(v) => v,
                ref other => panic!("{check}: not a gauge: {other:?}"),
            })
    };
    let mut seen = 0;
    for m in doc["modules"].as_array().unwrap() {
        let module = m["id"].as_str().unwrap();
        for c in m["checks"].as_array().unwrap() {
            let id = c["id"].as_str().unwrap();
            assert!(!id.is_empty(), "{c}");
            let want = match c["status"].as_str().unwrap() {
                "pass" => 0.0,
                "skipped" => 1.0,
                "pending" => 2.0,
                "warn" => 3.0,
                "fail" => 4.0,
                s => panic!("unknown status {s}"),
            };
            assert_eq!(value(module, id), Some(want), "{module} {id}");
            seen += 1;
        }
    }
    assert!(seen >= 5, "only {seen} checks");
    let counted: f64 = scrape
        .samples
        .iter()
        .filter(|s| s.metric == "firstboot_validate_checks")
        .map(|s| match s.value {
            prometheus_parse::Value::Gauge(v) => v,
            _ => 0.0,
        })
        .sum();
    assert_eq!(counted as usize, seen);
    assert!(scrape
        .samples
        .iter()
        .any(|s| s.metric == "firstboot_validate_last_run_timestamp_seconds"));
    assert_eq!(
        doc["failed"].as_u64().unwrap() > 0,
        o.status.code() == Some(1),
        "exit 1 exactly when a check failed"
    );
}

#[test]
fn a_textfile_directory_that_does_not_exist_is_a_usage_error_before_any_check() {
    let t = Tree::new(CONFIG);
    ok(&t.fb(&["run", "--profile", "standard"]));
    let o = validated(&t, &["--textfile", "/nonexistent/collector"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--textfile /nonexistent/collector"),
        "{}",
        stderr(&o)
    );
    assert!(stdout(&o).is_empty(), "no check ran: {}", stdout(&o));
}

#[test]
fn the_table_names_each_check_by_id_within_80_columns() {
    let t = Tree::new(CONFIG);
    ok(&t.fb(&["run", "--profile", "advanced"]));
    let o = validated(&t, &["--wait", "1s"]);
    let out = stdout(&o);
    for l in out.lines() {
        assert!(l.chars().count() <= 80, "{l:?}");
    }
    for id in [
        "host.hostname_file",
        "postfix.config",
        "dns.dkim",
        "fail2ban.jails",
    ] {
        assert!(out.contains(id), "{id} missing:\n{out}");
    }
    assert!(
        out.lines().last().unwrap_or("").contains(" pass, "),
        "{out}"
    );
}

#[test]
fn an_advisory_check_fails_validate_but_never_rolls_a_run_back() {
    let t = Tree::new(CONFIG);
    let fx = fixture_modules("advisory-check");
    let o = t.fb(&["--modules-dir", &fx, "run", "--profile", "advanced"]);
    ok(&o);
    assert!(
        t.exists("/etc/fixture/deep/new.conf"),
        "the module was kept"
    );
    let log = t.read("/var/log/firstboot/10-monitoring.log");
    assert!(
        log.contains("check fixture.advisory failed: advisory"),
        "{log}"
    );
    let v = t.fb(&["--modules-dir", &fx, "validate", "--json"]);
    assert_eq!(v.status.code(), Some(1), "{}", stderr(&v));
    let doc: serde_json::Value = serde_json::from_slice(&v.stdout).unwrap();
    let failed: Vec<&str> = doc["modules"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["checks"].as_array().unwrap())
        .filter(|c| c["status"] == "fail")
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(failed.contains(&"fixture.advisory"), "{failed:?}");
}
