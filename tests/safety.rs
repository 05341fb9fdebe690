//! Nothing on the host is lost: failed checks roll back, hand edits survive, rollback
//! restores, a killed run is recovered, two runs never overlap.

mod common;
use common::*;

/// Same paths, contents, modes, and file mtimes; only firstboot's own files ignored.
fn assert_same_tree(t: &Tree, before: &std::collections::BTreeMap<String, FileState>) {
    let after = t.snapshot(true);
    if let Err(e) = same_contents(before, &after) {
        panic!("{e}");
    }
    for (k, v) in before {
        if !v.data.is_empty() {
            assert_eq!(v.mtime_ns, after[k].mtime_ns, "mtime of {k} restored");
        }
    }
}

#[test]
fn failing_check_rolls_the_module_back_byte_identical() {
    let t = Tree::new(CONFIG);
    let before = t.snapshot(true);
    let fx = fixture_modules("failing-check");
    let o = t.fb(&[
        "--modules-dir",
        &fx,
        "run",
        "--profile",
        "advanced",
        "--only",
        "monitoring",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("10-monitoring")
            && err.contains("rolled back")
            && err.contains("/etc/fixture/deep/new.conf"),
        "{err}"
    );
    assert_same_tree(&t, &before);
    assert!(!t.exists("/etc/fixture"), "created directories removed");
    let state = t.read("/var/lib/firstboot/state.json");
    assert!(state.contains("rolled-back"), "{state}");
}

#[test]
fn hand_edited_file_survives_a_rerun_and_is_reported_as_drift() {
    let t = Tree::new(CONFIG);
    ok(&t.fb(&["run", "--profile", "standard"]));
    t.write("/etc/mailname", "hand.example.test\n");
    let plan = t.fb(&["plan", "--profile", "standard", "--force"]);
    ok(&plan);
    let p = stdout(&plan);
    assert!(p.contains("! file /etc/mailname: edited by hand"), "{p}");
    assert!(
        p.contains("-hand.example.test") && p.contains("+example.test"),
        "drift diff shown:\n{p}"
    );
    let rerun = t.fb(&["run", "--profile", "standard", "--force"]);
    assert_eq!(rerun.status.code(), Some(1));
    assert!(
        stderr(&rerun).contains("/etc/mailname edited by hand"),
        "{}",
        stderr(&rerun)
    );
    assert_eq!(t.read("/etc/mailname"), "hand.example.test\n", "edit kept");
    // Edits outside our block of /etc/hosts are not drift.
    let mut hosts = t.read("/etc/hosts");
    hosts.push_str("198.51.100.7 other.example.net\n");
    t.write("/etc/hosts", &hosts);
    let o = t.fb(&["run", "--profile", "standard", "--force", "--overwrite"]);
    ok(&o);
    assert_eq!(t.read("/etc/mailname"), "example.test\n");
    assert!(t
        .read("/etc/hosts")
        .ends_with("198.51.100.7 other.example.net\n"));
    let backups = t.path("/var/log/firstboot/backups");
    let kept = walkdir_contains(&backups, "hand.example.test\n");
    assert!(kept, "edited copy kept in the backup");
}

fn walkdir_contains(dir: &std::path::Path, text: &str) -> bool {
    std::fs::read_dir(dir).is_ok_and(|rd| {
        rd.flatten().any(|e| {
            let p = e.path();
            if p.is_dir() {
                walkdir_contains(&p, text)
            } else {
                std::fs::read_to_string(&p).is_ok_and(|s| s == text)
            }
        })
    })
}

#[test]
fn rollback_after_a_successful_run_restores_the_original_tree() {
    let t = Tree::new(CONFIG);
    let before = t.snapshot(true);
    ok(&t.fb(&["run", "--profile", "standard"]));
    assert_ne!(t.read("/etc/hostname"), "debian\n");
    for m in ["mail", "8-dns_config", "ssl"] {
        let o = t.fb(&["rollback", m]);
        ok(&o);
    }
    assert_same_tree(&t, &before);
    let status = t.fb(&["status"]);
    assert!(stdout(&status).contains("reverted"), "{}", stdout(&status));
    // Reverted modules run again on the next plain run.
    let again = t.fb(&["run", "--profile", "standard"]);
    ok(&again);
    assert!(!stdout(&again).contains("already done"));
}

#[test]
fn rollback_refuses_to_lose_later_edits_without_force() {
    let t = Tree::new(CONFIG);
    ok(&t.fb(&["run", "--profile", "standard"]));
    t.write("/etc/mailname", "edited-later.test\n");
    let o = t.fb(&["rollback", "dns"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("/etc/mailname"), "{}", stderr(&o));
    assert_eq!(t.read("/etc/mailname"), "edited-later.test\n");
    ok(&t.fb(&["rollback", "dns", "--force"]));
    assert!(!t.exists("/etc/mailname"));
}

#[test]
fn run_killed_between_two_writes_is_rolled_back_by_the_next_invocation() {
    let t = Tree::new(CONFIG);
    let before = t.snapshot(true);
    // Abort after every change 7-ssl_config makes plus one: the first change of
    // 8-dns_config is /etc/hostname, the second /etc/hosts.
    let failpoint = format!(
        "abort-after-changes:{}",
        planned_changes(&t, "7-ssl_config") + 1
    );
    let killed = t.fb_env(
        &["run", "--profile", "standard"],
        &[("FIRSTBOOT_FAILPOINT", &failpoint)],
    );
    assert!(
        killed.status.code().is_none(),
        "process was killed by a signal"
    );
    assert_eq!(
        t.read("/etc/hostname"),
        "mail.example.test\n",
        "first write of 8-dns_config happened"
    );
    assert_eq!(t.read("/etc/hosts"), HOSTS, "second write never happened");
    assert!(t.exists("/var/lib/firstboot/inflight.json"));
    let plan = t.fb(&["plan", "--profile", "standard"]);
    assert!(
        stderr(&plan).contains("was killed in module 8-dns_config"),
        "plan warns: {}",
        stderr(&plan)
    );
    let next = t.fb(&["run", "--profile", "standard", "--only", "ssl"]);
    ok(&next);
    assert!(
        stdout(&next).contains("interrupted run of 8-dns_config was rolled back"),
        "{}",
        stdout(&next)
    );
    assert!(!t.exists("/var/lib/firstboot/inflight.json"));
    let mut after = t.snapshot(true);
    let mut expect = before.clone();
    // ssl's own directory exists (it completed before the kill); compare the rest.
    after.retain(|k, _| !k.starts_with("/etc/firstboot/ssl"));
    expect.retain(|k, _| !k.starts_with("/etc/firstboot/ssl"));
    same_contents(&expect, &after).unwrap();
    assert_eq!(
        after["/etc/hostname"].mtime_ns,
        before["/etc/hostname"].mtime_ns
    );
    let status = stdout(&t.fb(&["status"]));
    assert!(status.contains("8-dns_config     interrupted"), "{status}");
}

/// How many steps of `module` would change something (from `plan --json`).
fn planned_changes(t: &Tree, module: &str) -> usize {
    let o = t.fb(&["plan", "--profile", "standard", "--json"]);
    ok(&o);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let m = v["modules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == module);
    m.and_then(|m| m["steps"].as_array())
        .map(|steps| {
            let quiet = ["none", "skipped"];
            steps
                .iter()
                .filter(|s| !quiet.contains(&s["change"].as_str().unwrap_or("none")))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn a_second_concurrent_firstboot_refuses_to_start() {
    let t = Tree::new(CONFIG);
    ok(&t.fb(&["plan", "--profile", "standard"]));
    std::fs::create_dir_all(t.path("/var/lib/firstboot")).unwrap();
    let f = std::fs::File::create(t.path("/var/lib/firstboot/lock")).unwrap();
    f.lock().unwrap();
    let before = t.read("/etc/hostname");
    let o = t.fb(&["run", "--profile", "standard"]);
    assert_eq!(o.status.code(), Some(3), "its own exit status");
    assert!(
        stderr(&o).contains("another firstboot is already running"),
        "{}",
        stderr(&o)
    );
    assert_eq!(t.read("/etc/hostname"), before);
    f.unlock().unwrap();
    ok(&t.fb(&["run", "--profile", "standard"]));
}

#[test]
fn secrets_never_reach_plans_logs_or_errors() {
    let secret = "tok-9f8e7d6c5b4a";
    let t = Tree::new(&format!("{CONFIG}monitoring:\n  token: {secret}\n"));
    let fx = fixture_modules("secret");
    let plan = t.fb(&[
        "--modules-dir",
        &fx,
        "plan",
        "--profile",
        "advanced",
        "--only",
        "monitoring",
    ]);
    ok(&plan);
    let p = stdout(&plan);
    assert!(!p.contains(secret), "{p}");
    assert!(p.contains("(contents hidden: they hold a secret)"), "{p}");
    assert!(
        p.contains("+public = yes"),
        "non-secret files still diffed:\n{p}"
    );
    let run = t.fb(&[
        "--modules-dir",
        &fx,
        "-vv",
        "run",
        "--profile",
        "advanced",
        "--only",
        "monitoring",
    ]);
    ok(&run);
    assert!(!stdout(&run).contains(secret) && !stderr(&run).contains(secret));
    let logs = t.read("/var/log/firstboot/firstboot.log")
        + &t.read("/var/log/firstboot/10-monitoring.log");
    assert!(!logs.contains(secret), "{logs}");
    assert_eq!(t.snapshot(true)["/etc/fixture/token.conf"].mode, 0o600);
    let bad = Tree::new(&format!("{CONFIG}monitoring:\n  token: \"{secret}\\n\"\n"));
    let o = bad.fb(&[
        "--modules-dir",
        &fx,
        "plan",
        "--profile",
        "advanced",
        "--only",
        "monitoring",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("monitoring.token") && !stderr(&o).contains(secret),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_managed_file_that_was_a_symlink_is_restored_as_that_symlink() {
    let t = Tree::new(CONFIG);
    // Image trees often hold absolute links; inside --root they point into the tree.
    t.write("/etc/hosts.d/base", HOSTS);
    std::fs::remove_file(t.path("/etc/hosts")).unwrap();
    std::os::unix::fs::symlink("/etc/hosts.d/base", t.path("/etc/hosts")).unwrap();
    let before = t.snapshot(true);
    let plan = t.fb(&["plan", "--profile", "standard", "--only", "dns"]);
    ok(&plan);
    assert!(
        stdout(&plan).contains(" ff02::1 ip6-allnodes"),
        "diffed against the link's target in the tree:\n{}",
        stdout(&plan)
    );
    ok(&t.fb(&["run", "--profile", "standard", "--only", "dns"]));
    assert!(t.read("/etc/hosts").contains("# BEGIN firstboot"));
    assert_eq!(
        t.read("/etc/hosts.d/base"),
        HOSTS,
        "the link's target is not written through"
    );
    ok(&t.fb(&["rollback", "dns"]));
    let target = std::fs::read_link(t.path("/etc/hosts")).expect("a symlink again");
    assert_eq!(target, std::path::PathBuf::from("/etc/hosts.d/base"));
    same_contents(&before, &t.snapshot(true)).unwrap();
}
