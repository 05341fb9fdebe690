//! Once per instance: a complete run stamps the instance (/var/lib/firstboot/instance.json);
//! `run --once-per-instance` (the unit's command) then does nothing on later boots of that
//! instance, and runs again on an instance cloned from the image (a new id).

mod common;
use common::*;

const STAMP: &str = "/var/lib/firstboot/instance.json";
const MACHINE_ID: &str = "0123456789abcdef0123456789abcdef";

fn stamp(t: &Tree) -> serde_json::Value {
    serde_json::from_str(&t.read(STAMP)).expect("stamp is JSON")
}

#[test]
fn a_later_boot_of_the_same_instance_does_nothing_not_even_read_the_config() {
    let t = Tree::new(CONFIG);
    let first = t.fb(&["run", "--profile", "standard", "--once-per-instance"]);
    ok(&first);
    assert!(
        stdout(&first).contains("8-dns_config"),
        "{}",
        stdout(&first)
    );
    let s = stamp(&t);
    assert_eq!(s["instance_id"], MACHINE_ID);
    assert_eq!(s["profile"], "standard");
    // A broken config would be exit 2 if it were read.
    t.write("/etc/firstboot/config.yaml", "domain: [\n");
    let before = t.snapshot(false);
    let again = t.fb(&["run", "--once-per-instance"]);
    ok(&again);
    let out = stdout(&again);
    assert!(
        out.contains(&format!("instance {MACHINE_ID} was provisioned by run"))
            && out.contains("nothing to do"),
        "{out}"
    );
    assert_eq!(before, t.snapshot(false), "nothing written, not even a log");
}

#[test]
fn a_clone_with_a_new_instance_id_runs_again_and_is_stamped() {
    let t = Tree::new(CONFIG);
    ok(&t.fb(&["run", "--profile", "standard"]));
    let first_run = stamp(&t)["run"].clone();
    // The image is cloned: cloud-init reports a new instance id.
    t.write(
        "/run/cloud-init/instance-data.json",
        r#"{"v1": {"instance_id": "i-0clone", "local_hostname": "debian"}}"#,
    );
    let second = t.fb(&["run", "--once-per-instance"]);
    ok(&second);
    let out = stdout(&second);
    assert!(
        !out.contains("nothing to do") && !out.contains("already done on this instance"),
        "every module runs again on the new instance:\n{out}"
    );
    let s = stamp(&t);
    assert_eq!(s["instance_id"], "i-0clone");
    assert_ne!(s["run"], first_run);
    let state = t.read("/var/lib/firstboot/state.json");
    assert!(
        !state.contains(MACHINE_ID),
        "modules recorded on the new instance:\n{state}"
    );
    // And the next boot of the clone does nothing.
    assert!(stdout(&t.fb(&["run", "--once-per-instance"])).contains("nothing to do"));
}

#[test]
fn force_runs_even_when_stamped() {
    let t = Tree::new(CONFIG);
    ok(&t.fb(&["run", "--profile", "standard"]));
    let forced = t.fb(&["run", "--once-per-instance", "--force"]);
    ok(&forced);
    let out = stdout(&forced);
    assert!(
        !out.contains("nothing to do") && out.contains("run ") && out.contains("finished"),
        "{out}"
    );
}

#[test]
fn a_partial_or_failed_run_leaves_no_stamp() {
    let t = Tree::new(CONFIG);
    ok(&t.fb(&["run", "--profile", "standard", "--only", "dns"]));
    assert!(!t.exists(STAMP), "only one module of the profile ran");
    // The unit's flag is for whole runs only.
    let o = t.fb(&["run", "--once-per-instance", "--only", "dns"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    // A whole profile whose last module fails its check (and is rolled back) stamps nothing.
    let t = Tree::new(CONFIG);
    let fx = fixture_modules("failing-check");
    let failed = t.fb(&["--modules-dir", &fx, "run", "--profile", "advanced"]);
    assert_eq!(failed.status.code(), Some(1), "{}", stderr(&failed));
    assert!(!t.exists(STAMP));
}

#[test]
fn no_instance_id_no_stamp() {
    let t = Tree::new(CONFIG);
    std::fs::remove_file(t.path("/etc/machine-id")).unwrap();
    ok(&t.fb(&["run", "--profile", "standard", "--once-per-instance"]));
    assert!(!t.exists(STAMP), "an unnamed instance is never stamped");
    let again = t.fb(&["run", "--once-per-instance"]);
    ok(&again);
    assert!(!stdout(&again).contains("nothing to do"));
}
