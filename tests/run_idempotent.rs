//! A run against a copy of a real /etc does real work, and a second run changes nothing.

mod common;
use common::*;

#[test]
fn first_run_writes_the_dns_files_and_keeps_the_rest_of_etc_hosts() {
    let t = Tree::new(CONFIG);
    ok(&t.fb(&["run", "--profile", "standard"]));
    assert_eq!(t.read("/etc/hostname"), "mail.example.test\n");
    assert_eq!(t.read("/etc/mailname"), "example.test\n");
    let hosts = t.read("/etc/hosts");
    assert!(hosts.starts_with(HOSTS), "original lines kept:\n{hosts}");
    assert!(hosts.contains("# BEGIN firstboot\n192.0.2.10 mail.example.test mail\n2001:db8::10 mail.example.test mail\n# END firstboot\n"), "{hosts}");
    assert!(t.read("/etc/aliases").contains("abuse: admin@example.test"));
    let state = t.read("/var/lib/firstboot/state.json");
    assert!(
        state.contains("\"8-dns_config\"") && state.contains("\"ok\""),
        "{state}"
    );
    assert!(t
        .read("/var/log/firstboot/8-dns_config.log")
        .contains("/etc/hostname"));
}

#[test]
fn second_forced_run_changes_no_file_and_restarts_nothing() {
    let t = Tree::new(CONFIG);
    let first = t.fb(&["run", "--profile", "standard"]);
    ok(&first);
    assert!(
        stdout(&first).contains("service postfix: reload"),
        "first run notifies postfix:\n{}",
        stdout(&first)
    );
    let before = t.snapshot(true);
    let state_before = t.snapshot(false)["/var/lib/firstboot/state.json"].clone();
    let second = t.fb(&["run", "--profile", "standard", "--force"]);
    ok(&second);
    let after = t.snapshot(true);
    assert_eq!(before, after, "same contents, modes and mtimes");
    assert_eq!(
        t.snapshot(false)["/var/lib/firstboot/state.json"],
        state_before,
        "a run that changes nothing leaves the state file alone"
    );
    let out = stdout(&second);
    assert!(
        !out.contains("reload") && !out.contains("restart"),
        "nothing reloaded:\n{out}"
    );
    // Every step still reported is one an offline root only records (package, service,
    // command, host name) or a block left alone because its package's file is absent:
    // nothing in the tree was about to change.
    let acted = |out: &str| -> Vec<String> {
        out.lines()
            .filter(|l| l.contains("Z   ") && !l.contains("Z   check "))
            .filter(|l| !l.contains("(offline root: recorded, not run)"))
            // A block for a file its package makes, absent offline: said, not changed.
            .filter(|l| !l.contains("(its package makes it); left alone"))
            .map(String::from)
            .collect()
    };
    assert!(
        !acted(&stdout(&first)).is_empty(),
        "the filter sees the first run's changes"
    );
    assert_eq!(
        acted(&out),
        Vec::<String>::new(),
        "steps that changed something"
    );
}

#[test]
fn plain_second_run_skips_modules_done_on_this_instance() {
    let t = Tree::new(CONFIG);
    ok(&t.fb(&["run", "--profile", "standard"]));
    let again = t.fb(&["run", "--profile", "standard"]);
    ok(&again);
    assert_eq!(
        stdout(&again)
            .matches("already done on this instance")
            .count(),
        3,
        "{}",
        stdout(&again)
    );
    t.write("/etc/machine-id", "fedcba9876543210fedcba9876543210\n");
    let new_instance = t.fb(&["run", "--profile", "standard"]);
    ok(&new_instance);
    assert!(
        !stdout(&new_instance).contains("already done"),
        "a new instance runs again"
    );
}

#[test]
fn plan_writes_nothing_and_shows_diffs() {
    let t = Tree::new(CONFIG);
    let before = t.snapshot(false);
    let o = t.fb(&["plan", "--profile", "advanced"]);
    ok(&o);
    assert_eq!(before, t.snapshot(false), "plan changed the tree");
    let out = stdout(&o);
    assert!(
        out.contains("+++ b/etc/hostname") && out.contains("+mail.example.test"),
        "{out}"
    );
    assert!(
        out.contains("== 10-monitoring (monitoring): will run"),
        "{out}"
    );
    let j = t.fb(&["plan", "--profile", "advanced", "--json"]);
    ok(&j);
    let v: serde_json::Value = serde_json::from_slice(&j.stdout).expect("plan --json is JSON");
    assert_eq!(v["modules"].as_array().map(Vec::len), Some(4));
    assert_eq!(v["modules"][1]["steps"][0]["change"], "update");
    assert_eq!(v["modules"][1]["steps"][0]["target"], "file /etc/hostname");
}

#[test]
fn modules_run_in_numeric_order() {
    let t = Tree::new(CONFIG);
    let o = t.fb(&["run", "--profile", "advanced"]);
    ok(&o);
    let out = stdout(&o);
    let pos = |id: &str| {
        out.find(&format!("{id}: start"))
            .unwrap_or_else(|| panic!("{id} missing:\n{out}"))
    };
    assert!(pos("7-ssl_config") < pos("8-dns_config"));
    assert!(
        pos("9-mail_config") < pos("10-monitoring"),
        "10 runs after 9:\n{out}"
    );
    assert!(
        t.read("/etc/postfix/main.cf").contains("mode full"),
        "advanced = full mail mode"
    );
    assert!(t
        .read("/etc/fail2ban/jail.d/firstboot.local")
        .contains("[postfix]"));
}
