//! `firstboot watch` against log files in a temp root: each event is reported once,
//! across runs and across a log rotation, and an empty period prints nothing.

mod common;
use common::*;

const SASL: &str = "Dec  3 05:00:00 mail postfix/submission/smtpd[123]: warning: unknown[198.51.100.20]: SASL PLAIN authentication failed: (reason unavailable), sasl_username=alice\n";
const BAN: &str = "2026-12-03 05:00:01,123 fail2ban.actions        [812]: NOTICE  [postfix-sasl] Ban 198.51.100.20\n";
const DEFERRED: &str = "Dec  3 05:10:00 mail postfix/smtp[77]: 4ABC12: to=<bob@example.net>, relay=none, delay=30, status=deferred (connect to mx.example.net[198.51.100.20]:25: Connection refused)\n";

fn watch(t: &Tree) -> std::process::Output {
    t.fb(&["watch", "--print", "--profile", "standard"])
}

#[test]
fn each_event_is_reported_once_across_runs_and_rotation() {
    let t = Tree::new(CONFIG);
    ok(&t.fb(&["run", "--profile", "standard"]));
    t.write("/var/log/mail.log", &format!("{SASL}{SASL}{SASL}"));
    t.write("/var/log/fail2ban.log", BAN);
    let o = watch(&t);
    ok(&o);
    let out = stdout(&o);
    assert!(
        out.contains("Subject: firstboot on mail.example.test: 1 ban(s), 3 authentication failure(s), 0 warning(s), 0 deferred"),
        "{out}"
    );
    assert!(out.contains("198.51.100.20 in jail postfix-sasl"), "{out}");
    assert!(out.contains("198.51.100.20 (smtp) (3 times)"), "{out}");

    // Nothing new: nothing printed.
    let o = watch(&t);
    ok(&o);
    assert!(stdout(&o).is_empty(), "{}", stdout(&o));

    // A line written before the rotation and one after: each once.
    let mut old = t.read("/var/log/mail.log");
    old.push_str(DEFERRED);
    t.write("/var/log/mail.log", &old);
    std::fs::rename(t.path("/var/log/mail.log"), t.path("/var/log/mail.log.1")).unwrap();
    t.write("/var/log/mail.log", SASL);
    let out = stdout(&watch(&t));
    assert!(
        out.contains("1 authentication failure(s), 0 warning(s), 1 deferred"),
        "{out}"
    );
    assert!(
        out.contains("to bob@example.net: connect to mx.example.net"),
        "{out}"
    );
    assert!(stdout(&watch(&t)).is_empty());
}

#[test]
fn a_check_that_starts_failing_is_alerted_once_and_its_recovery_once() {
    let t = Tree::new(CONFIG);
    ok(&t.fb(&["run", "--profile", "standard"]));
    assert!(stdout(&watch(&t)).is_empty(), "all checks pass or skip");
    let mailname = t.read("/etc/mailname");
    t.write("/etc/mailname", "elsewhere.test\n");
    let out = stdout(&watch(&t));
    assert!(
        out.contains(
            "Subject: firstboot on mail.example.test: ALERT 1 check(s) newly failing (1 failing)"
        ),
        "{out}"
    );
    assert!(
        out.contains("FAIL 8-dns_config/host.mailname (new): file /etc/mailname"),
        "{out}"
    );
    assert!(
        stdout(&watch(&t)).is_empty(),
        "the same failure is not alerted twice"
    );
    t.write("/etc/mailname", &mailname);
    let out = stdout(&watch(&t));
    assert!(
        out.contains(
            "Subject: firstboot on mail.example.test: recovered, all checks pass (1 recovered)"
        ),
        "{out}"
    );
    assert!(out.contains("  8-dns_config/host.mailname"), "{out}");
    assert!(stdout(&watch(&t)).is_empty());
}

#[test]
fn an_unreadable_positions_file_is_an_error_naming_it() {
    let t = Tree::new(CONFIG);
    t.write("/var/lib/firstboot/watch.json", "{not json");
    let o = watch(&t);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("/var/lib/firstboot/watch.json is unreadable"),
        "{}",
        stderr(&o)
    );
}
