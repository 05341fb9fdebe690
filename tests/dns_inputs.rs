//! Publication settings that cannot work are refused before anything changes, each with
//! a message naming the config key, and the TSIG secret never appears anywhere.

mod common;
use common::*;

const SECRET: &str = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=";

fn publish(extra: &str) -> String {
    format!(
        "{CONFIG}dns:\n  publish:\n    server: 192.0.2.53\n    tsig_name: firstboot\n    tsig_secret_file: /etc/firstboot/tsig.key\n{extra}"
    )
}

/// Run and plan both refuse with `code`, naming `key`; the root is left as it was.
fn refused(t: &Tree, code: i32, want: &[&str]) -> String {
    let before = t.snapshot(true);
    let mut all = String::new();
    for args in [
        &["run", "--profile", "standard", "--only", "dns"][..],
        &["plan", "--profile", "standard", "--only", "dns"][..],
    ] {
        let o = t.fb(args);
        let out = format!("{}{}", stdout(&o), stderr(&o));
        assert_eq!(o.status.code(), Some(code), "{args:?}:\n{out}");
        for w in want {
            assert!(out.contains(w), "{args:?}: expected {w:?} in:\n{out}");
        }
        all.push_str(&out);
    }
    same_contents(&before, &t.snapshot(true)).unwrap();
    all
}

#[test]
fn a_secret_file_that_is_not_base64_is_named_and_not_shown() {
    let t = Tree::new(&publish(""));
    t.write(
        "/etc/firstboot/tsig.key",
        "hmac-sha256:firstboot:c2VjcmV0\n",
    );
    let out = refused(
        &t,
        2,
        &["config.yaml:9: dns.publish.tsig_secret_file: /etc/firstboot/tsig.key does not hold a base64 TSIG secret"],
    );
    assert!(!out.contains("c2VjcmV0"), "secret shown:\n{out}");
}

#[test]
fn a_missing_or_empty_secret_file_is_named() {
    let t = Tree::new(&publish(""));
    refused(
        &t,
        2,
        &["config.yaml:9: dns.publish.tsig_secret_file: /etc/firstboot/tsig.key does not exist"],
    );
    t.write("/etc/firstboot/tsig.key", "\n");
    refused(
        &t,
        2,
        &["dns.publish.tsig_secret_file: /etc/firstboot/tsig.key is empty"],
    );
}

#[test]
fn an_unknown_tsig_algorithm_is_an_input_error() {
    let t = Tree::new(&publish("    tsig_algorithm: hmac-md5\n"));
    t.write("/etc/firstboot/tsig.key", SECRET);
    refused(
        &t,
        2,
        &["dns.publish.tsig_algorithm: ", "hmac-md5", "hmac-sha256"],
    );
}

#[test]
fn an_spf_policy_typo_is_an_input_error() {
    let t = Tree::new(&format!("{CONFIG}dns:\n  spf_policy: \"-al\"\n"));
    refused(&t, 2, &["config.yaml:6: dns.spf_policy: ", "-al"]);
}

#[test]
fn publication_settings_need_a_server_and_a_key_name() {
    let t = Tree::new(&format!(
        "{CONFIG}dns:\n  publish:\n    tsig_secret_file: /etc/firstboot/tsig.key\n"
    ));
    refused(
        &t,
        2,
        &[
            "dns.publish.server: is missing",
            "dns.publish.tsig_name: is missing",
        ],
    );
}

#[test]
fn an_offline_root_plans_publication_without_sending_or_showing_the_secret() {
    let t = Tree::new(&publish(""));
    t.write("/etc/firstboot/tsig.key", &format!("{SECRET}\n"));
    let warning = "/etc/firstboot/tsig.key can be read by others (mode 0644); make it 0600";
    let o = t.fb(&["plan", "--profile", "standard", "--only", "dns"]);
    ok(&o);
    // Once: not again each time the step loads the key (plan, apply).
    assert_eq!(stderr(&o).matches(warning).count(), 1, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("action publish_records (example.test at 192.0.2.53): send 6 records to 192.0.2.53; 1 pending until the file it is computed from exists (offline root: recorded, not run)"),
        "{out}"
    );
    let o = t.fb(&["run", "--profile", "standard", "--only", "dns"]);
    ok(&o);
    assert_eq!(stderr(&o).matches(warning).count(), 1, "{}", stderr(&o));
    let logs = t.read("/var/log/firstboot/firstboot.log") + &stdout(&o) + &stderr(&o);
    assert!(
        !logs.contains(SECRET) && !logs.contains("secret-secret"),
        "{logs}"
    );
}

#[test]
fn a_bad_secret_is_an_input_error_before_7_ssl_config_changes_anything() {
    // The secret file is checked when the modules are built, before the first change:
    // exit 2, named once (8-dns_config and 9-mail_config both publish with it).
    let t = Tree::new(&publish(""));
    t.write("/etc/firstboot/tsig.key", "not base64!\n");
    let before = t.snapshot(false);
    let o = t.fb(&["run", "--profile", "standard"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("1 problem found"), "{err}");
    assert!(
        err.contains("config.yaml:9: dns.publish.tsig_secret_file: /etc/firstboot/tsig.key does not hold a base64 TSIG secret"),
        "{err}"
    );
    assert_eq!(
        before,
        t.snapshot(false),
        "nothing changed, 7-ssl_config included"
    );
}
