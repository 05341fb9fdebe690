//! Shapes of the `mail_queue` check: an empty queue, a refused relay AUTH (current and
//! from before the credentials changed), old deferrals named, a queue over its limit.

use super::*;
use crate::checks::Retry;
use crate::host::fake::{self, exit};
use crate::redact::Redactor;
use std::time::Duration;

const NOW: i64 = 1_800_000_000;

fn check() -> QueueCheck {
    QueueCheck {
        max_messages: 3,
        max_age_minutes: 60,
        relay_map: "/etc/postfix/sasl_passwd.db".into(),
    }
}

fn line(queue: &str, id: &str, arrival: i64, reason: &str) -> String {
    let reason = if reason.is_empty() {
        String::new()
    } else {
        format!(
            r#", "delay_reason": {}"#,
            serde_json::to_string(reason).unwrap()
        )
    };
    format!(
        r#"{{"queue_name": "{queue}", "queue_id": "{id}", "arrival_time": {arrival}, "message_size": 412, "forced_expire": false, "sender": "alice@example.test", "recipients": [{{"address": "bob@example.net"{reason}}}]}}"#
    )
}

#[test]
fn limits_default_to_100_messages_and_an_hour() {
    let c: QueueCheck = serde_json::from_value(serde_json::json!({})).unwrap();
    assert_eq!((c.max_messages, c.max_age_minutes), (100, 60));
}

#[test]
fn either_sign_of_a_refused_auth_is_one() {
    assert!(is_auth_failure(
        "SASL authentication failed; server x said: 454"
    ));
    assert!(is_auth_failure(
        "host mx.example.net[192.0.2.20] said: 535 5.7.8 Error"
    ));
    assert!(!is_auth_failure(
        "connect to mx.example.net: Connection refused"
    ));
}

const SASL: &str = "SASL authentication failed; server mx.example.net[192.0.2.20] said: 535 5.7.8 Error: authentication failed: authentication failure";

#[test]
fn an_empty_or_quiet_queue_passes() {
    assert_eq!(judge(&check(), &[], NOW, None).0, CheckStatus::Pass);
    let q = parse(&line("active", "A1", NOW - 10, "")).unwrap();
    let (s, d) = judge(&check(), &q, NOW, Some(NOW - 100));
    assert_eq!(s, CheckStatus::Pass, "{d}");
    assert_eq!(d, "1 message(s) queued, 0 deferred");
}

#[test]
fn a_refused_relay_auth_fails_saying_the_password_is_wrong() {
    let text = [
        line("deferred", "4F1A2B", NOW - 30, SASL),
        line("active", "B2", NOW, ""),
    ]
    .join("\n");
    let q = parse(&text).unwrap();
    let (s, d) = judge(&check(), &q, NOW, Some(NOW - 100));
    assert_eq!(s, CheckStatus::Fail);
    assert!(d.starts_with("the relay password is wrong"), "{d}");
    assert!(d.contains("4F1A2B") && d.contains("535 5.7.8"), "{d}");
    // Without a map (no relay AUTH configured) a 535 still counts.
    assert_eq!(judge(&check(), &q, NOW, None).0, CheckStatus::Fail);
    // Deferred before the credentials changed: about the old password, a warning.
    let (s, d) = judge(&check(), &q, NOW, Some(NOW - 10));
    assert_eq!(s, CheckStatus::Warn, "{d}");
    assert!(d.contains("before the relay credentials changed"), "{d}");
    // Other deferral reasons are not a password problem.
    let q = parse(&line(
        "deferred",
        "C3",
        NOW - 30,
        "connect to mx.example.net[192.0.2.20]:587: Connection refused",
    ))
    .unwrap();
    assert_eq!(judge(&check(), &q, NOW, None).0, CheckStatus::Pass);
}

#[test]
fn messages_deferred_over_an_hour_are_named_and_a_long_queue_warns() {
    let text = [
        line(
            "deferred",
            "OLD1",
            NOW - 2 * 3600,
            "connect to mx.example.net[192.0.2.20]:25: Connection timed out",
        ),
        line("deferred", "NEW1", NOW - 60, "host busy"),
    ]
    .join("\n");
    let q = parse(&text).unwrap();
    let (s, d) = judge(&check(), &q, NOW, None);
    assert_eq!(s, CheckStatus::Warn);
    assert!(
        d.contains("OLD1 to bob@example.net, 120 min: connect to"),
        "{d}"
    );
    assert!(!d.contains("NEW1"), "{d}");
    let many: Vec<String> = (0..4)
        .map(|i| line("active", &format!("M{i}"), NOW, ""))
        .collect();
    let (s, d) = judge(&check(), &parse(&many.join("\n")).unwrap(), NOW, None);
    assert_eq!(s, CheckStatus::Warn);
    assert_eq!(d, "4 messages queued (more than 3)");
}

#[test]
fn postqueue_is_asked_and_its_failures_fail() {
    let dir = tempfile::tempdir().unwrap();
    let (h, f) = fake::host(dir.path());
    let redactor = Redactor::default();
    let cx = CheckCx {
        host: &h,
        redactor: &redactor,
        timeout: Duration::from_secs(1),
        retry: Retry::NONE,
        answers: Default::default(),
    };
    f.exec.on(
        "postqueue",
        Box::new(|_, _| exit(0, &line("deferred", "D9", 0, SASL))),
    );
    let r = check().run(&cx);
    assert_eq!(r.status, CheckStatus::Fail);
    assert!(r.detail.contains("relay password is wrong"), "{}", r.detail);
    assert!(r.hint.unwrap().contains("mail.relay.password_file"));
    assert_eq!(f.exec.calls(), ["postqueue -j"]);
    // A warning points at the reasons; a pass needs no hint.
    let many: Vec<String> = (0..4)
        .map(|i| line("active", &format!("M{i}"), 0, ""))
        .collect();
    let text = many.join("\n");
    f.exec.on("postqueue", Box::new(move |_, _| exit(0, &text)));
    let r = check().run(&cx);
    assert_eq!(r.status, CheckStatus::Warn, "{}", r.detail);
    assert!(r.hint.unwrap().contains("postqueue -p"));
    f.exec.on("postqueue", Box::new(|_, _| exit(0, "")));
    let r = check().run(&cx);
    assert_eq!((r.status, r.hint), (CheckStatus::Pass, None));
    f.exec
        .on("postqueue", Box::new(|_, _| exit(0, "not json\n")));
    let r = check().run(&cx);
    assert_eq!(r.status, CheckStatus::Fail);
    assert!(r.detail.starts_with("postqueue -j, line 1"), "{}", r.detail);
    f.exec.on("postqueue", Box::new(|_, _| exit(1, "")));
    assert_eq!(check().run(&cx).status, CheckStatus::Fail);
}

#[test]
fn limits_are_exceeded_only_past_them() {
    // Deferred exactly max_age_minutes ago: not yet named; a second more: named.
    let at = |age: i64, id: &str| line("deferred", id, NOW - age, "host busy");
    let q = parse(&at(3600, "EDGE")).unwrap();
    assert_eq!(judge(&check(), &q, NOW, None).0, CheckStatus::Pass);
    let q = parse(&at(3601, "PAST")).unwrap();
    let (s, d) = judge(&check(), &q, NOW, None);
    assert_eq!(s, CheckStatus::Warn);
    assert!(d.contains("PAST to bob@example.net, 60 min"), "{d}");
    // Five old ones are all named; a sixth and seventh are counted.
    let five: Vec<String> = (0..5).map(|i| at(7200, &format!("O{i}"))).collect();
    let c = QueueCheck {
        max_messages: 100,
        ..check()
    };
    let (_, d) = judge(&c, &parse(&five.join("\n")).unwrap(), NOW, None);
    assert!(d.contains("O4 to") && !d.contains("more"), "{d}");
    let seven: Vec<String> = (0..7).map(|i| at(7200, &format!("O{i}"))).collect();
    let (_, d) = judge(&c, &parse(&seven.join("\n")).unwrap(), NOW, None);
    assert!(d.ends_with(" and 2 more"), "{d}");
    // Exactly max_messages queued: no warning.
    let three: Vec<String> = (0..3)
        .map(|i| line("active", &format!("M{i}"), NOW, ""))
        .collect();
    let (s, d) = judge(&check(), &parse(&three.join("\n")).unwrap(), NOW, None);
    assert_eq!(s, CheckStatus::Pass, "{d}");
}
