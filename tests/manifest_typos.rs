//! Manifest mistakes are found before anything runs: each fixture under
//! tests/fixtures/typos/ overrides 10-monitoring with one mistake, and `run` (and
//! `plan`) exits 2 naming the file, the line and the path, with the root unchanged.

mod common;
use common::*;

fn refused(case: &str, file: &str, want: &str) {
    let t = Tree::new(CONFIG);
    let before = t.snapshot(false);
    let dir = fixture_modules(&format!("typos/{case}"));
    for cmd in ["run", "plan"] {
        let o = t.fb(&["--modules-dir", &dir, cmd, "--profile", "advanced"]);
        let err = stderr(&o);
        assert_eq!(
            o.status.code(),
            Some(2),
            "{case} {cmd}:\n{}\n{err}",
            stdout(&o)
        );
        let at = format!("{dir}/10-monitoring/{file}");
        assert!(err.contains(&at), "{case} {cmd}: names {at}:\n{err}");
        assert!(
            err.contains(want),
            "{case} {cmd}: expected {want:?} in:\n{err}"
        );
        assert_eq!(before, t.snapshot(false), "{case} {cmd}: root unchanged");
    }
}

#[test]
fn an_unknown_variable_in_a_template() {
    refused(
        "unknown-var",
        "templates/jail.local.tera",
        "jail.local.tera:6: monitoring.fail2ban.bantme: unknown variable `monitoring.fail2ban.bantme`: `monitoring.fail2ban` has no input `bantme`",
    );
}

#[test]
fn a_when_reading_a_path_that_does_not_exist() {
    refused(
        "bad-when",
        "module.yaml",
        "module.yaml:31: steps[2].when: unknown variable `mail.mod`: `mail` has no input `mod` (it has: mode,",
    );
}

#[test]
fn a_templated_field_rendering_to_a_value_outside_its_enum() {
    refused(
        "bad-enum",
        "module.yaml",
        "module.yaml:38: steps[3].action.publish_records.tsig_algorithm: unknown variant `hmac-sha3`, expected one of `hmac-sha256`",
    );
}

#[test]
fn an_include_of_a_missing_template() {
    refused(
        "missing-include",
        "templates/jail.local.tera",
        "jail.local.tera:10: sshd.tera: no template `sshd.tera` in 10-monitoring/templates/",
    );
}

#[test]
fn a_step_group_shares_its_condition() {
    // The same module with its steps in a group whose `when` is false: nothing of
    // 10-monitoring is planned; with a group whose `when` holds, all of it is.
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("10-monitoring");
    std::fs::create_dir_all(m.join("templates")).unwrap();
    let src = format!("{}/modules/10-monitoring", env!("CARGO_MANIFEST_DIR"));
    for t in std::fs::read_dir(format!("{src}/templates")).unwrap() {
        let t = t.unwrap();
        std::fs::copy(t.path(), m.join("templates").join(t.file_name())).unwrap();
    }
    let manifest = std::fs::read_to_string(format!("{src}/module.yaml")).unwrap();
    let (head, rest) = manifest.split_once("steps:\n").unwrap();
    let (steps, checks) = rest.split_once("checks:\n").unwrap();
    let indented: String = steps.lines().map(|l| format!("    {l}\n")).collect();
    for (when, planned) in [
        ("mail.mode == \"relay\"", false),
        ("mail.mode == \"full\"", true),
    ] {
        let grouped =
            format!("{head}steps:\n  - when: {when}\n    steps:\n{indented}checks:\n{checks}");
        std::fs::write(m.join("module.yaml"), grouped).unwrap();
        let t = Tree::new(CONFIG);
        let o = t.fb(&[
            "--modules-dir",
            dir.path().to_str().unwrap(),
            "plan",
            "--profile",
            "advanced",
            "--only",
            "monitoring",
        ]);
        ok(&o);
        let out = stdout(&o);
        assert_eq!(
            out.contains("jail.d/firstboot.local"),
            planned,
            "{when}:\n{out}"
        );
        assert_eq!(out.contains("service fail2ban"), planned, "{when}:\n{out}");
    }
}

#[test]
fn two_checks_that_both_apply_with_one_id() {
    refused(
        "dup-check-id",
        "module.yaml",
        "checks[1].id: check id \"fail2ban.jails\" is already used by checks[0]",
    );
}
