//! Relay mode through the real binary on temporary roots: main.cf for a smarthost on
//! 587 (STARTTLS) and 465 (wrapper mode), SMTP AUTH from a password file, the inputs
//! that go together refused apart, an unusable password file an input error naming
//! the key (exit 2, nothing written), and the password in no output, log or state.

mod common;
use common::*;

const PASSWORD: &str = "relay-secret-8c1f";

fn relay_config(relay: &str) -> String {
    format!("{CONFIG}mail:\n  mode: relay\n  relay: {{host: smtp.example.net{relay}}}\n")
}

/// An offline run of the mail module; returns the tree.
fn offline_run(relay: &str) -> Tree {
    let t = Tree::new(&relay_config(relay));
    t.write("/etc/firstboot/relay.password", &format!("{PASSWORD}\n"));
    let o = t.fb(&["run", "--profile", "standard", "--only", "mail"]);
    ok(&o);
    let shown = format!("{}{}", stdout(&o), stderr(&o));
    assert!(!shown.contains(PASSWORD), "{shown}");
    t
}

fn rejected(t: &Tree, expect: &[&str]) {
    let before = t.snapshot(false);
    let o = t.fb(&["plan", "--profile", "standard", "--only", "mail"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{}\n{err}", stdout(&o));
    let file = t.path("/etc/firstboot/config.yaml").display().to_string();
    assert!(err.contains(&file), "names the file:\n{err}");
    for e in expect {
        assert!(err.contains(e), "expected {e:?} in:\n{err}");
    }
    assert!(!err.contains(PASSWORD), "{err}");
    assert_eq!(before, t.snapshot(false), "root unchanged");
}

#[test]
fn submission_port_with_auth() {
    let t =
        offline_run(", username: me@example.test, password_file: /etc/firstboot/relay.password");
    let main = t.read("/etc/postfix/main.cf");
    for line in [
        "relayhost = [smtp.example.net]:587",
        "smtp_tls_security_level = encrypt",
        "smtp_sasl_auth_enable = yes",
        "smtp_sasl_password_maps = hash:/etc/postfix/sasl_passwd",
        "smtp_sasl_security_options = noanonymous",
    ] {
        assert!(main.lines().any(|l| l == line), "{line:?} missing:\n{main}");
    }
    assert!(!main.contains("wrappermode"), "{main}");
    // The table is written on the running system only (with postmap).
    assert!(!t.exists("/etc/postfix/sasl_passwd"));
    for dir in ["/var/lib/firstboot", "/var/log/firstboot"] {
        let out = std::process::Command::new("grep")
            .args(["-r", PASSWORD])
            .arg(t.path(dir))
            .output()
            .unwrap();
        assert!(
            out.stdout.is_empty(),
            "{dir}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

#[test]
fn a_password_file_others_can_read_is_warned_about_once() {
    let t = Tree::new(&relay_config(
        ", username: me@example.test, password_file: /etc/firstboot/relay.password",
    ));
    t.write("/etc/firstboot/relay.password", PASSWORD);
    let want = "mail.relay.password_file: /etc/firstboot/relay.password can be read by others (mode 0644); make it 0600";
    let o = t.fb(&["plan", "--profile", "standard", "--only", "mail"]);
    ok(&o);
    assert_eq!(stderr(&o).matches(want).count(), 1, "{}", stderr(&o));
    assert!(!stdout(&o).contains(PASSWORD) && !stderr(&o).contains(PASSWORD));
    std::fs::set_permissions(
        t.path("/etc/firstboot/relay.password"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let o = t.fb(&["plan", "--profile", "standard", "--only", "mail"]);
    ok(&o);
    assert!(
        !stderr(&o).contains("can be read by others"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn port_465_is_wrapper_mode_and_no_username_is_no_auth() {
    let t = offline_run(", port: 465");
    let main = t.read("/etc/postfix/main.cf");
    assert!(
        main.contains("relayhost = [smtp.example.net]:465\n"),
        "{main}"
    );
    assert!(main.contains("smtp_tls_wrappermode = yes\n"), "{main}");
    assert!(
        main.contains("smtp_tls_security_level = encrypt\n"),
        "{main}"
    );
    assert!(!main.contains("smtp_sasl"), "{main}");
}

#[test]
fn username_and_password_file_go_together() {
    let t = Tree::new(&relay_config(", username: me@example.test"));
    rejected(
        &t,
        &["mail.relay.password_file: is required when mail.relay.username"],
    );
    let t = Tree::new(&relay_config(
        ", password_file: /etc/firstboot/relay.password",
    ));
    t.write("/etc/firstboot/relay.password", PASSWORD);
    rejected(
        &t,
        &["mail.relay.username: is required when mail.relay.password_file"],
    );
    let t = Tree::new(&relay_config(
        ", username: \"me:x\", password_file: /etc/firstboot/relay.password",
    ));
    t.write("/etc/firstboot/relay.password", PASSWORD);
    rejected(&t, &["mail.relay.username: must not hold ':'"]);
}

#[test]
fn an_unusable_password_file_is_an_input_error() {
    let cfg =
        relay_config(", username: me@example.test, password_file: /etc/firstboot/relay.password");
    let key = "config.yaml:7: mail.relay.password_file: /etc/firstboot/relay.password";
    let t = Tree::new(&cfg);
    rejected(&t, &[&format!("{key} does not exist")]);
    t.write("/etc/firstboot/relay.password", "");
    rejected(&t, &[&format!("{key} is empty")]);
    t.write(
        "/etc/firstboot/relay.password",
        &format!("{PASSWORD}\nsecond line\n"),
    );
    rejected(&t, &[&format!("{key} holds more than one line")]);
    std::fs::remove_file(t.path("/etc/firstboot/relay.password")).unwrap();
    std::fs::create_dir(t.path("/etc/firstboot/relay.password")).unwrap();
    rejected(&t, &[&format!("{key} is a directory")]);
}

#[test]
fn plan_warns_when_spf_does_not_cover_the_smarthost() {
    let warn = "warning: mail.mode is relay but dns.spf_extra does not cover the smarthost smtp.example.net";
    let t = Tree::new(&relay_config(""));
    let o = t.fb(&["plan", "--profile", "standard"]);
    ok(&o);
    assert!(stderr(&o).contains(warn), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("dns.spf_extra: [\"include:example.net\"]"),
        "{}",
        stderr(&o)
    );
    let t = Tree::new(&format!(
        "{}dns: {{spf_extra: [\"include:_spf.example.net\"]}}\n",
        relay_config("")
    ));
    let o = t.fb(&["plan", "--profile", "standard"]);
    ok(&o);
    assert!(!stderr(&o).contains("warning:"), "{}", stderr(&o));
}
