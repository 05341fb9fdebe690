//! Pass and fail shapes of the `smtp` check against scripted SMTP servers.

use super::*;
use crate::checks::Retry;
use crate::host::fake::{self, Fakes, ScriptedSmtp};
use crate::host::Host;
use crate::redact::Redactor;
use std::time::Duration;

fn check(probe: Probe) -> SmtpCheck {
    SmtpCheck {
        probe,
        address: "192.0.2.10".into(),
        port: 25,
        hostname: "mail.example.test".into(),
        domain: "example.test".into(),
        foreign: foreign(),
    }
}

fn run(h: &Host, c: &SmtpCheck) -> CheckResult {
    let redactor = Redactor::default();
    let cx = CheckCx {
        host: h,
        redactor: &redactor,
        timeout: Duration::from_secs(1),
        retry: Retry::NONE,
        answers: Default::default(),
    };
    c.run(&cx)
}

/// A Postfix-like server: EHLO lists `ehlo`; RCPT answers `rcpt(address)`.
fn server(f: &Fakes, banner: &str, ehlo: &'static str, rcpt: fn(&str) -> &'static str) {
    f.net.smtp(ScriptedSmtp::new(banner, move |cmd| {
        let up = cmd.to_ascii_uppercase();
        if up.starts_with("EHLO") {
            ehlo.to_string()
        } else if up.starts_with("RCPT TO:<") {
            rcpt(&cmd[9..cmd.len() - 1]).to_string()
        } else {
            "250 2.0.0 Ok".to_string()
        }
    }));
}

const EHLO_25: &str = "250-mail.example.test\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 8BITMIME";
const EHLO_AUTH: &str =
    "250-mail.example.test\r\n250-STARTTLS\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME";
const BANNER: &str = "220 mail.example.test ESMTP";

fn refused(_: &str) -> &'static str {
    "554 5.7.1 Relay access denied"
}

#[test]
fn banner_naming_the_host_passes_another_name_fails() {
    let dir = tempfile::tempdir().unwrap();
    let (h, f) = fake::host(dir.path());
    server(&f, BANNER, EHLO_25, refused);
    let r = run(&h, &check(Probe::Banner));
    assert_eq!(r.status, CheckStatus::Pass, "{}", r.detail);
    assert!(r.name.contains("192.0.2.10:25"), "{}", r.name);
    server(
        &f,
        "220 localhost.localdomain ESMTP Postfix (Debian)",
        EHLO_25,
        refused,
    );
    let r = run(&h, &check(Probe::Banner));
    assert_eq!(r.status, CheckStatus::Fail);
    assert!(
        r.detail.contains("expected 220 mail.example.test"),
        "{}",
        r.detail
    );
    server(&f, "554 5.3.2 busy", EHLO_25, refused);
    assert_eq!(run(&h, &check(Probe::Banner)).status, CheckStatus::Fail);
}

#[test]
fn auth_offered_before_tls_fails() {
    let dir = tempfile::tempdir().unwrap();
    let (h, f) = fake::host(dir.path());
    server(&f, BANNER, EHLO_25, refused);
    let r = run(&h, &check(Probe::AuthBeforeTls));
    assert_eq!(r.status, CheckStatus::Pass, "{}", r.detail);
    assert!(r.detail.contains("STARTTLS offered"), "{}", r.detail);
    server(&f, BANNER, EHLO_AUTH, refused);
    let r = run(&h, &check(Probe::AuthBeforeTls));
    assert_eq!(r.status, CheckStatus::Fail);
    assert!(
        r.detail.contains("AUTH offered before STARTTLS"),
        "{}",
        r.detail
    );
    // The old `AUTH=` form counts too.
    server(
        &f,
        BANNER,
        "250-mail.example.test\r\n250 AUTH=LOGIN",
        refused,
    );
    assert_eq!(
        run(&h, &check(Probe::AuthBeforeTls)).status,
        CheckStatus::Fail
    );
    let sent = f.net.smtp_lines();
    assert!(sent.iter().all(|l| !l.starts_with("AUTH")), "{sent:?}");
}

#[test]
fn a_closed_relay_passes_and_nothing_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let (h, f) = fake::host(dir.path());
    server(&f, BANNER, EHLO_25, refused);
    let r = run(&h, &check(Probe::OpenRelay));
    assert_eq!(r.status, CheckStatus::Pass, "{}", r.detail);
    assert!(
        r.detail.starts_with("5 recipient(s) refused"),
        "{}",
        r.detail
    );
    let sent = f.net.smtp_lines();
    let rcpts: Vec<&String> = sent.iter().filter(|l| l.starts_with("RCPT")).collect();
    assert_eq!(rcpts.len(), 5, "{sent:?}");
    for want in [
        "RCPT TO:<firstboot-relay-probe@example.com>",
        "RCPT TO:<firstboot-relay-probe%example.com@example.test>",
        "RCPT TO:<example.com!firstboot-relay-probe@example.test>",
        "RCPT TO:<\"firstboot-relay-probe@example.com\"@example.test>",
    ] {
        assert!(sent.iter().any(|l| l == want), "{want} not in {sent:?}");
    }
    // Every RCPT is followed by RSET; no DATA, ever; QUIT at the end.
    for (i, l) in sent.iter().enumerate() {
        if l.starts_with("RCPT") {
            assert_eq!(sent[i + 1], "RSET", "{sent:?}");
        }
    }
    assert!(
        !sent.iter().any(|l| l.eq_ignore_ascii_case("DATA")),
        "{sent:?}"
    );
    assert_eq!(sent.last().map(String::as_str), Some("QUIT"));
}

#[test]
fn an_open_relay_answer_fails_naming_the_trick() {
    let dir = tempfile::tempdir().unwrap();
    let (h, f) = fake::host(dir.path());
    server(&f, BANNER, EHLO_25, |_| "250 2.1.5 Ok");
    let r = run(&h, &check(Probe::OpenRelay));
    assert_eq!(r.status, CheckStatus::Fail);
    assert!(
        r.detail.starts_with("open relay: accepted foreign domain"),
        "{}",
        r.detail
    );
    // Only the percent hack gets through: still an open relay.
    server(&f, BANNER, EHLO_25, |rcpt| {
        if rcpt.contains('%') {
            "250 2.1.5 Ok"
        } else {
            "554 5.7.1 Relay access denied"
        }
    });
    let r = run(&h, &check(Probe::OpenRelay));
    assert_eq!(r.status, CheckStatus::Fail);
    assert!(r.detail.contains("percent hack"), "{}", r.detail);
    assert!(!r.detail.contains("bang path"), "{}", r.detail);
}

#[test]
fn a_temporary_refusal_warns() {
    let dir = tempfile::tempdir().unwrap();
    let (h, f) = fake::host(dir.path());
    server(&f, BANNER, EHLO_25, |_| "450 4.7.1 try again later");
    let r = run(&h, &check(Probe::OpenRelay));
    assert_eq!(r.status, CheckStatus::Warn, "{}", r.detail);
    assert!(r.detail.contains("4xx, not 5xx"), "{}", r.detail);
}

#[test]
fn no_address_skips_a_dead_port_fails_an_offline_root_skips() {
    let dir = tempfile::tempdir().unwrap();
    let (h, _f) = fake::host(dir.path());
    let mut c = check(Probe::OpenRelay);
    let r = run(&h, &c);
    assert_eq!(r.status, CheckStatus::Fail);
    assert!(
        r.detail.contains("cannot connect to 192.0.2.10:25"),
        "{}",
        r.detail
    );
    c.address = " ".into();
    assert_eq!(run(&h, &c).status, CheckStatus::Skipped);
    c.address = "mail.example.test".into();
    assert_eq!(run(&h, &c).status, CheckStatus::Fail);
    let offline = Host::new(
        crate::host::Root::new(dir.path()),
        crate::host::Runner::new(Duration::from_secs(1), Redactor::default()),
    );
    let r = run(&offline, &check(Probe::Banner));
    assert_eq!(r.status, CheckStatus::Skipped);
}

#[test]
fn a_timed_out_connection_warns_instead_of_failing() {
    let dir = tempfile::tempdir().unwrap();
    let (h, f) = fake::host(dir.path());
    let drop: crate::host::fake::TcpHandler =
        Box::new(|_| Err(std::io::ErrorKind::TimedOut.into()));
    *f.net.tcp.lock().unwrap() = Some(std::sync::Arc::new(drop));
    let r = run(&h, &check(Probe::OpenRelay));
    assert_eq!(r.status, CheckStatus::Warn, "{}", r.detail);
    assert!(r.detail.contains("a firewall drops it?"), "{}", r.detail);
}

#[test]
fn smtp_probes_are_marked_as_probes_so_a_no_op_run_skips_them() {
    // They leave `connect from` lines in mail.log: a run that changed nothing must not
    // run them (the e2e engine_rerun_is_noop_live compares mail.log across a re-run).
    for p in [Probe::Banner, Probe::AuthBeforeTls, Probe::OpenRelay] {
        assert!(check(p).probes());
    }
    let queue = crate::checks::queue::QueueCheck {
        max_messages: 1,
        max_age_minutes: 1,
        relay_map: String::new(),
    };
    assert!(!queue.probes(), "postqueue -j leaves no log line");
}

#[test]
fn mail_from_refused_passes_when_permanent_warns_when_temporary() {
    for (answer, want) in [
        ("550 5.7.1 no mail from you", CheckStatus::Pass),
        ("451 4.3.0 try later", CheckStatus::Warn),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (h, f) = fake::host(dir.path());
        f.net.smtp(ScriptedSmtp::new(BANNER, move |cmd| {
            match cmd.to_ascii_uppercase() {
                c if c.starts_with("EHLO") => EHLO_25.to_string(),
                c if c.starts_with("MAIL FROM") => answer.to_string(),
                _ => "250 2.0.0 Ok".to_string(),
            }
        }));
        let r = run(&h, &check(Probe::OpenRelay));
        assert_eq!(r.status, want, "{answer}: {}", r.detail);
        assert_eq!(r.detail, format!("MAIL FROM refused: {answer}"));
    }
}

#[test]
fn a_greeting_other_than_220_fails_the_session_probes() {
    for probe in [Probe::AuthBeforeTls, Probe::OpenRelay] {
        let dir = tempfile::tempdir().unwrap();
        let (h, f) = fake::host(dir.path());
        server(&f, "554 5.3.2 no service here", EHLO_25, |_| "250 2.1.5 Ok");
        let r = run(&h, &check(probe));
        assert_eq!(r.status, CheckStatus::Fail, "{}", r.detail);
        assert_eq!(r.detail, "greeting is \"554 5.3.2 no service here\"");
    }
}
