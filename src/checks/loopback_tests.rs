//! The `mail_loopback` check against fakes: a `sendmail` that "signs" and delivers into
//! the Maildir, and an SMTP server that delivers what DATA carried with the
//! Authentication-Results a verifier would add.

use super::*;
use crate::checks::Retry;
use crate::host::fake::{self, exit, ScriptedSmtp};
use crate::redact::Redactor;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

const BOX: &str = "/var/vmail/example.test/alice/Maildir";

fn check() -> LoopbackCheck {
    LoopbackCheck {
        from: "firstboot-loopback@example.test".into(),
        to: "alice@example.test".into(),
        maildir: BOX.into(),
        address: "192.0.2.10".into(),
        hostname: "mail.example.test".into(),
        wait_seconds: 2,
    }
}

/// A host whose sendmail signs (or not) and whose port 25 adds `results`.
fn rig(
    dir: &std::path::Path,
    sign: bool,
    results: &'static str,
) -> (crate::host::Host, fake::Fakes, PathBuf) {
    let new = dir.join(BOX.trim_start_matches('/')).join("new");
    std::fs::create_dir_all(&new).unwrap();
    let (h, f) = fake::host(dir);
    let n1 = new.clone();
    f.exec.on(
        "sendmail",
        Box::new(move |_, stdin| {
            let msg = String::from_utf8_lossy(stdin.unwrap_or_default()).to_string();
            let sig = if sign {
                "DKIM-Signature: v=1; d=example.test; b=x\n"
            } else {
                ""
            };
            let text = format!("Return-Path: <x>\nDelivered-To: alice@example.test\n{sig}{msg}");
            std::fs::write(n1.join("1.leg1"), text).unwrap();
            exit(0, "")
        }),
    );
    let n2 = new.clone();
    let data = Arc::new(Mutex::new(None::<String>));
    f.net.smtp(ScriptedSmtp::new(
        "220 mail.example.test ESMTP",
        move |line| {
            let mut d = data.lock().unwrap();
            if let Some(buf) = d.as_mut() {
                if line == "." {
                    let text = format!("{results}\n{buf}");
                    std::fs::write(n2.join("2.leg2"), text).unwrap();
                    *d = None;
                    return "250 2.0.0 queued".into();
                }
                buf.push_str(line.strip_prefix('.').unwrap_or(line));
                buf.push('\n');
                return String::new();
            }
            if line == "DATA" {
                *d = Some(String::new());
                return "354 go ahead".into();
            }
            "250 ok".into()
        },
    ));
    (h, f, new)
}

fn run(h: &crate::host::Host) -> CheckResult {
    let redactor = Redactor::default();
    let cx = CheckCx {
        host: h,
        redactor: &redactor,
        timeout: Duration::from_secs(1),
        retry: Retry::NONE,
    };
    check().run(&cx)
}

const ALL_PASS: &str =
    "Authentication-Results: mail.example.test; dkim=pass header.d=example.test\n\
Authentication-Results: mail.example.test; spf=pass smtp.mailfrom=example.test\n\
Authentication-Results: mail.example.test; dmarc=pass header.from=example.test";

#[test]
fn signed_and_verified_passes_and_both_copies_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let (h, f, new) = rig(dir.path(), true, ALL_PASS);
    let r = run(&h);
    assert_eq!(r.status, CheckStatus::Pass, "{}", r.detail);
    assert_eq!(r.detail, "dkim=pass spf=pass dmarc=pass");
    assert_eq!(
        std::fs::read_dir(&new).unwrap().count(),
        0,
        "the probe copies are removed"
    );
    let calls = f.exec.calls();
    assert_eq!(
        calls,
        ["sendmail -i -f firstboot-loopback@example.test -- alice@example.test"]
    );
    let lines = f.net.smtp_lines();
    assert!(
        lines.contains(&"MAIL FROM:<firstboot-loopback@example.test>".to_string()),
        "{lines:?}"
    );
    // The second leg carries the signature, not what delivery added.
    assert!(
        lines.iter().any(|l| l.starts_with("DKIM-Signature:")),
        "{lines:?}"
    );
    assert!(
        !lines.iter().any(|l| l.starts_with("Delivered-To:")),
        "{lines:?}"
    );
}

#[test]
fn a_dkim_failure_fails_an_unsigned_message_fails_no_delivery_fails() {
    let dir = tempfile::tempdir().unwrap();
    let (h, _f, _) = rig(
        dir.path(),
        true,
        "Authentication-Results: mail.example.test; dkim=fail; spf=pass; dmarc=pass",
    );
    let r = run(&h);
    assert_eq!(r.status, CheckStatus::Fail);
    assert_eq!(r.detail, "dkim=fail spf=pass dmarc=pass");
    let dir = tempfile::tempdir().unwrap();
    let (h, _f, _) = rig(dir.path(), false, ALL_PASS);
    let r = run(&h);
    assert_eq!(r.status, CheckStatus::Fail);
    assert!(r.detail.contains("left unsigned"), "{}", r.detail);
    let dir = tempfile::tempdir().unwrap();
    let (h, f, _) = rig(dir.path(), true, ALL_PASS);
    f.exec.on("sendmail", Box::new(|_, _| exit(0, "")));
    let r = run(&h);
    assert_eq!(r.status, CheckStatus::Fail);
    assert!(
        r.detail.contains("leg 1 (sendmail): not delivered"),
        "{}",
        r.detail
    );
}

#[test]
fn results_not_settled_yet_are_pending_and_no_mailbox_skips() {
    let dir = tempfile::tempdir().unwrap();
    let (h, _f, _) = rig(
        dir.path(),
        true,
        "Authentication-Results: mail.example.test; dkim=temperror; spf=pass; dmarc=none",
    );
    assert_eq!(run(&h).status, CheckStatus::Pending);
    let mut c = check();
    c.to = String::new();
    let redactor = Redactor::default();
    let cx = CheckCx {
        host: &h,
        redactor: &redactor,
        timeout: Duration::from_secs(1),
        retry: Retry::NONE,
    };
    assert_eq!(c.run(&cx).status, CheckStatus::Skipped);
}
