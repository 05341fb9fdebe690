//! DKIM rotation on temporary roots: the stages live in firstboot's own overrides file,
//! which every command resolves over the config (checked like it); `dkim rotate` refuses
//! an offline tree. The live stages run in e2e (tests/e2e/scenarios/73-dkim-rotation.sh).

mod common;
use common::*;

fn overrides(t: &Tree, json: &str) {
    t.write("/var/lib/firstboot/overrides.json", json);
}

#[test]
fn rotate_refuses_an_offline_tree_and_changes_nothing() {
    let t = Tree::new(CONFIG);
    let o = t.fb(&["dkim", "rotate", "--profile", "standard"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("works on the running system only"),
        "{}",
        stderr(&o)
    );
    assert!(!t.exists("/var/lib/firstboot/overrides.json"));
    assert!(!t.exists("/var/log/firstboot"));
}

#[test]
fn a_rotation_stage_in_the_overrides_shapes_records_and_status() {
    let t = Tree::new(CONFIG);
    overrides(&t, r#"{"mail": {"dkim": {"next": "s2027"}}}"#);
    let o = t.fb(&["records", "--profile", "standard"]);
    ok(&o);
    let out = stdout(&o);
    assert!(out.contains("default._domainkey"), "{out}");
    assert!(
        out.contains("s2027._domainkey"),
        "the next selector's record is declared:\n{out}"
    );
    let o = t.fb(&["dkim", "status", "--profile", "standard"]);
    ok(&o);
    assert!(
        stdout(&o).contains("signing selector: default"),
        "{}",
        stdout(&o)
    );
    assert!(
        stdout(&o).contains("s2027 made and published"),
        "{}",
        stdout(&o)
    );

    overrides(
        &t,
        r#"{"mail": {"dkim": {"selector": "s2027", "retired": "default"}}}"#,
    );
    let o = t.fb(&["dkim", "status", "--profile", "standard"]);
    ok(&o);
    assert!(
        stdout(&o).contains("signing selector: s2027"),
        "{}",
        stdout(&o)
    );
    assert!(stdout(&o).contains("default retired"), "{}", stdout(&o));
    // No clock kept for it (set by hand, or lost): never "withdraw now".
    assert!(stdout(&o).contains("with no clock yet"), "{}", stdout(&o));
    t.write(
        "/var/lib/firstboot/dkim-rotation.json",
        r#"{"switched_at": 1800000000}"#,
    );
    let o = t.fb(&["dkim", "status", "--profile", "standard"]);
    assert!(
        stdout(&o).contains("published until 2027-01-22T08:00:00Z"),
        "7 days after the switch: {}",
        stdout(&o)
    );
    // The config says otherwise; the rotation's own value wins (the config is the
    // first boot's, the rotation moved on since).
    let t2 = Tree::new(&format!("{CONFIG}mail:\n  dkim: {{selector: default}}\n"));
    overrides(&t2, r#"{"mail": {"dkim": {"selector": "s2027"}}}"#);
    let o = t2.fb(&["dkim", "status", "--profile", "standard"]);
    assert!(
        stdout(&o).contains("signing selector: s2027"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_bad_overrides_file_is_an_input_error_naming_it() {
    let t = Tree::new(CONFIG);
    overrides(&t, r#"{"mail": {"dkim": {"next": "a b"}}}"#);
    let o = t.fb(&["plan", "--profile", "standard"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("overrides.json: mail.dkim.next:"),
        "{}",
        stderr(&o)
    );
    overrides(&t, "[]");
    let o = t.fb(&["plan", "--profile", "standard"]);
    assert_ne!(o.status.code(), Some(0));
    assert!(
        stderr(&o).contains("written by firstboot commands only"),
        "{}",
        stderr(&o)
    );
}
