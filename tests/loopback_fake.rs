//! The `mail_loopback` check (`mail.loopback`) on a host of fakes: a `sendmail` that
//! signs with a real DKIM key (mail-auth's signer, Ed25519) and queues the message,
//! Postfix's hold queue as `postqueue -j`, `postcat` and `postsuper` see it, and a
//! scripted DNS server holding the key, SPF and DMARC records. The signed copy is judged
//! by mail-auth through our own client: pass, a DKIM record of another key, SPF without
//! the host's address, a key not published yet, relay mode judged from the smarthost,
//! a message not held (its queue entry deleted), no hold rule, an offline root.

use firstboot::checks::{run_checks, CheckKind, CheckResult, CheckStatus, Declared};
mod common;
use common::dns_zone::{serve, Zone};
use firstboot::dns::RType;
use firstboot::host::fake::{exit, host, Fakes};
use firstboot::redact::Redactor;
use mail_auth::common::crypto::Ed25519Key;
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::DkimSigner;
use serde_json::{json, Value};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const HOLD: &str = "etc/postfix/firstboot-hold";
const SECRET: &str = "0123456789abcdef0123456789abcdef";

/// A fresh Ed25519 key: its PKCS#8 form and its DKIM record.
fn key() -> (Vec<u8>, String) {
    let der = Ed25519Key::generate_pkcs8().unwrap();
    let public = Ed25519Key::from_pkcs8_der(&der).unwrap().public_key();
    let p = data_encoding::BASE64.encode(&public);
    (der, format!("v=DKIM1; k=ed25519; p={p}"))
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// The zone of a well set up host whose DKIM record is `dkim`.
fn zone(dkim: &str) -> Vec<(&'static str, RType, &'static str)> {
    vec![
        (
            "default._domainkey.example.test",
            RType::Txt,
            leak(dkim.into()),
        ),
        ("example.test", RType::Txt, "v=spf1 ip4:192.0.2.10 -all"),
        ("_dmarc.example.test", RType::Txt, "v=DMARC1; p=reject"),
        ("mail.example.test", RType::A, "192.0.2.10"),
    ]
}

/// The one message of the fake queue: its queue, id, envelope sender and text.
type Queue = Arc<Mutex<Option<(&'static str, &'static str, String, String)>>>;

/// A host whose sendmail signs with `der` and queues the message in `queue_name` (hold:
/// the hold rule worked), with the hold rule's table in place.
fn rig(
    dir: &Path,
    der: Vec<u8>,
    queue_name: &'static str,
    records: Vec<(&'static str, RType, &'static str)>,
) -> (firstboot::host::Host, Fakes, Queue) {
    std::fs::create_dir_all(dir.join("etc/postfix")).unwrap();
    std::fs::write(dir.join(HOLD), firstboot::hold_rule::table(SECRET)).unwrap();
    let (h, f) = host(dir);
    let queue: Queue = Arc::default();
    let q = queue.clone();
    f.exec.on(
        "sendmail",
        Box::new(move |argv, stdin| {
            let msg = String::from_utf8_lossy(stdin.unwrap_or_default()).replace('\n', "\r\n");
            let signer = DkimSigner::from_key(Ed25519Key::from_pkcs8_der(&der).unwrap())
                .domain("example.test")
                .selector("default")
                .headers(["From", "To", "Subject"]);
            let sig = signer.sign(msg.as_bytes()).unwrap().to_header();
            // Cleanup adds its Received header; postcat shows bare LFs.
            let text = format!("{sig}Received: by mail.example.test (Postfix)\r\n{msg}");
            let id = if queue_name == "hold" {
                "HOLD1"
            } else {
                "BBB2"
            };
            *q.lock().unwrap() =
                Some((queue_name, id, argv[5].clone(), text.replace("\r\n", "\n")));
            exit(0, "")
        }),
    );
    let q = queue.clone();
    f.exec.on(
        "postqueue",
        Box::new(move |_, _| {
            // Another message, then the probe (its sender as sendmail was given it).
            let mut out = "{\"queue_name\":\"deferred\",\"queue_id\":\"AAA1\",\"arrival_time\":1,\"sender\":\"alice@example.test\",\"recipients\":[]}\n".to_string();
            if let Some((name, id, sender, _)) = q.lock().unwrap().as_ref() {
                out.push_str(&format!("{{\"queue_name\":\"{name}\",\"queue_id\":\"{id}\",\"arrival_time\":1,\"sender\":\"{sender}\",\"recipients\":[]}}\n"));
            }
            exit(0, &out)
        }),
    );
    let q = queue.clone();
    f.exec.on(
        "postcat",
        Box::new(move |argv, _| match q.lock().unwrap().as_ref() {
            Some((_, id, _, text)) if argv.last() == Some(&id.to_string()) => exit(0, text),
            _ => exit(1, ""),
        }),
    );
    let q = queue.clone();
    f.exec.on(
        "postsuper",
        Box::new(move |_, _| {
            *q.lock().unwrap() = None;
            exit(0, "")
        }),
    );
    let zone: Zone = Arc::new(Mutex::new(records));
    *f.net.handler.lock().unwrap() = Some(Arc::new(serve(zone, Arc::default())));
    (h, f, queue)
}

/// The zone of a host relaying through smtp.relay.test (198.51.100.25), which SPF lists.
fn relay_zone(dkim: &str) -> Vec<(&'static str, RType, &'static str)> {
    let mut z = zone(dkim);
    z.retain(|(n, _, _)| *n != "example.test");
    z.push(("example.test", RType::Txt, "v=spf1 a:smtp.relay.test -all"));
    z.push(("smtp.relay.test", RType::A, "198.51.100.25"));
    z
}

fn check() -> Value {
    json!({"mail_loopback": {"from": "firstboot-loopback@example.test",
        "to": "admin@example.test", "hold_file": format!("/{HOLD}"), "ipv4": "192.0.2.10",
        "hostname": "mail.example.test", "server": "192.0.2.53", "wait_seconds": 1,
        "dkim_record": "default._domainkey.example.test"}})
}

fn run(h: &firstboot::host::Host, kind: Value) -> CheckResult {
    let redactor = Redactor::default();
    let cx = common::check_cx(h, &redactor, Duration::from_millis(500));
    let k: CheckKind = serde_json::from_value(kind).unwrap();
    run_checks(&cx, &[Declared::new("mail.loopback", k)], &mut |_| {})[0].clone()
}

#[test]
fn signed_and_published_passes_and_the_held_probe_is_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let (der, rec) = key();
    let (h, f, queue) = rig(dir.path(), der, "hold", zone(&rec));
    let r = run(&h, check());
    assert_eq!(r.status, CheckStatus::Pass, "{}", r.detail);
    assert_eq!(
        r.name,
        "a message sent from here passes DKIM, SPF and DMARC"
    );
    assert!(
        r.detail
            .starts_with("dkim=pass spf=pass dmarc=pass (d=example.test s=default"),
        "{}",
        r.detail
    );
    assert!(
        r.detail.ends_with("from 192.0.2.10, at 192.0.2.53)"),
        "{}",
        r.detail
    );
    assert!(queue.lock().unwrap().is_none(), "the held probe is deleted");
    let calls = f.exec.calls();
    assert_eq!(calls.len(), 4, "{calls:?}");
    assert!(
        calls[0].starts_with("sendmail -i -N never -f firstboot-loopback+"),
        "{calls:?}"
    );
    assert!(
        calls[0].ends_with("@example.test -- admin@example.test"),
        "{calls:?}"
    );
    assert_eq!(
        calls[1..],
        [
            "postqueue -j",
            "postcat -bh -q HOLD1",
            "postsuper -d HOLD1 hold"
        ]
    );
    assert!(!r.detail.contains(SECRET) && calls.iter().all(|c| !c.contains(SECRET)));
}

#[test]
fn the_probe_carries_the_secret_of_the_hold_rule() {
    let dir = tempfile::tempdir().unwrap();
    let (der, rec) = key();
    let (h, f, _) = rig(dir.path(), der, "hold", zone(&rec));
    let seen = Arc::new(Mutex::new(String::new()));
    let s = seen.clone();
    f.exec.on(
        "sendmail",
        Box::new(move |_, stdin| {
            *s.lock().unwrap() = String::from_utf8_lossy(stdin.unwrap_or_default()).into();
            exit(0, "")
        }),
    );
    let r = run(&h, check());
    assert_eq!(r.status, CheckStatus::Fail, "never held: {}", r.detail);
    let msg = seen.lock().unwrap().clone();
    assert!(
        msg.contains(&format!("\nX-Firstboot-Hold: {SECRET}\n")),
        "{msg}"
    );
}

#[test]
fn another_key_fails_dkim_and_spf_without_the_address_fails_spf() {
    let dir = tempfile::tempdir().unwrap();
    let (der, _) = key();
    let (_, other) = key();
    let (h, _, _) = rig(dir.path(), der, "hold", zone(&other));
    let r = run(&h, check());
    assert_eq!(r.status, CheckStatus::Fail, "{}", r.detail);
    assert!(
        r.detail.starts_with("dkim=fail spf=pass dmarc=pass"),
        "{}",
        r.detail
    );

    let dir = tempfile::tempdir().unwrap();
    let (der, rec) = key();
    let mut z = zone(&rec);
    z.retain(|(n, _, _)| *n != "example.test");
    z.push(("example.test", RType::Txt, "v=spf1 ip4:192.0.2.99 -all"));
    let (h, _, _) = rig(dir.path(), der, "hold", z);
    let r = run(&h, check());
    assert_eq!(r.status, CheckStatus::Fail, "{}", r.detail);
    assert!(
        r.detail.starts_with("dkim=pass spf=fail dmarc=pass"),
        "{}",
        r.detail
    );
}

#[test]
fn spf_exists_is_judged_by_whether_the_senders_name_has_an_address() {
    for (listed, want) in [(true, "spf=pass"), (false, "spf=fail")] {
        let dir = tempfile::tempdir().unwrap();
        let (der, rec) = key();
        let mut z = zone(&rec);
        z.retain(|(n, t, _)| !(*n == "example.test" && *t == RType::Txt));
        z.push((
            "example.test",
            RType::Txt,
            "v=spf1 exists:%{i}._ok.%{d} -all",
        ));
        if listed {
            z.push(("192.0.2.10._ok.example.test", RType::A, "127.0.0.2"));
        }
        let (h, _, _) = rig(dir.path(), der, "hold", z);
        let r = run(&h, check());
        assert!(
            r.detail.starts_with(&format!("dkim=pass {want}")),
            "{}",
            r.detail
        );
    }
}

#[test]
fn an_exists_beyond_ten_lookups_is_permerror_and_never_asked() {
    // Ten exists: terms, then one for this host's address: a receiver stops at the
    // limit (permerror); listed at the third, it passes before getting there.
    let mut terms: Vec<String> = (1..=10)
        .map(|n| format!("exists:n{n}._x.example.test"))
        .collect();
    terms.push("exists:%{i}._ok.example.test".into());
    let record = leak(format!("v=spf1 {} -all", terms.join(" ")));
    for (listed, want) in [
        (None, "spf=permerror"),
        (Some("n3._x.example.test"), "spf=pass"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (der, rec) = key();
        let mut z = zone(&rec);
        z.retain(|(n, t, _)| !(*n == "example.test" && *t == RType::Txt));
        z.push(("example.test", RType::Txt, record));
        z.push(("192.0.2.10._ok.example.test", RType::A, "127.0.0.2"));
        z.extend(listed.map(|n| (n, RType::A, "127.0.0.2")));
        let (h, f, _) = rig(dir.path(), der, "hold", z.clone());
        let asked = Arc::new(Mutex::new(Vec::new()));
        *f.net.handler.lock().unwrap() =
            Some(Arc::new(serve(Arc::new(Mutex::new(z)), asked.clone())));
        let r = run(&h, check());
        assert!(
            r.detail.starts_with(&format!("dkim=pass {want}")),
            "{}",
            r.detail
        );
        let got = asked.lock().unwrap().clone();
        assert!(
            got.iter().any(|a| a.ends_with("A n10._x.example.test.")),
            "{got:?}"
        );
        assert!(
            !got.iter()
                .any(|a| a.contains("_ok.example.test") || a.contains("invalid")),
            "{got:?}"
        );
    }
}

#[test]
fn relay_mode_judges_the_message_from_the_smarthost() {
    let dir = tempfile::tempdir().unwrap();
    let (der, rec) = key();
    let (h, _, _) = rig(dir.path(), der, "hold", relay_zone(&rec));
    let mut v = check();
    v["mail_loopback"]["relay_host"] = json!("smtp.relay.test");
    let r = run(&h, v.clone());
    assert_eq!(r.status, CheckStatus::Pass, "{}", r.detail);
    assert!(
        r.detail.ends_with("from 198.51.100.25, at 192.0.2.53)"),
        "{}",
        r.detail
    );
    // The host's own address is not where relayed mail leaves from: SPF without the
    // smarthost fails although it lists the host.
    let dir = tempfile::tempdir().unwrap();
    let (der, rec) = key();
    let mut z = zone(&rec);
    z.push(("smtp.relay.test", RType::A, "198.51.100.25"));
    let (h, _, _) = rig(dir.path(), der, "hold", z);
    let r = run(&h, v.clone());
    assert_eq!(r.status, CheckStatus::Fail, "{}", r.detail);
    assert!(r.detail.contains("spf=fail"), "{}", r.detail);
    // A smarthost without an address yet: pending, nothing sent.
    let dir = tempfile::tempdir().unwrap();
    let (der, rec) = key();
    let (h, f, _) = rig(dir.path(), der, "hold", zone(&rec));
    let r = run(&h, v);
    assert_eq!(r.status, CheckStatus::Pending, "{}", r.detail);
    assert_eq!(
        r.detail,
        "smarthost smtp.relay.test has no address at 192.0.2.53"
    );
    assert!(f.exec.calls().is_empty());
}

#[test]
fn a_server_refusing_names_above_the_domain_leaves_dmarc_to_the_domain_record() {
    // An authoritative-only server (the publication server) refuses `_dmarc.test`.
    let dir = tempfile::tempdir().unwrap();
    let (der, rec) = key();
    let (h, f, _) = rig(dir.path(), der, "hold", zone(&rec));
    let inner = f.net.handler.lock().unwrap().clone().unwrap();
    let refusing: firstboot::host::fake::NetHandler = Box::new(move |t, server, bytes| {
        let q = hickory_proto::op::Message::from_vec(bytes).map_err(std::io::Error::other)?;
        let name = q.queries[0].name().to_ascii();
        if name.trim_end_matches('.').ends_with("example.test") {
            return inner(t, server, bytes);
        }
        let mut r = hickory_proto::op::Message::response(q.metadata.id, q.metadata.op_code);
        r.add_query(q.queries[0].clone());
        r.metadata.response_code = hickory_proto::op::ResponseCode::Refused;
        r.to_vec().map_err(std::io::Error::other)
    });
    *f.net.handler.lock().unwrap() = Some(Arc::new(refusing));
    let r = run(&h, check());
    assert_eq!(r.status, CheckStatus::Pass, "{}", r.detail);
    assert!(
        r.detail
            .starts_with("dkim=pass spf=pass dmarc=pass (d=example.test"),
        "{}",
        r.detail
    );
}

#[test]
fn a_key_not_published_yet_is_pending() {
    let dir = tempfile::tempdir().unwrap();
    let (der, rec) = key();
    let mut z = zone(&rec);
    z.retain(|(n, _, _)| !n.contains("_domainkey"));
    let (h, _, _) = rig(dir.path(), der, "hold", z);
    let r = run(&h, check());
    assert_eq!(r.status, CheckStatus::Pending, "{}", r.detail);
    assert!(
        r.detail.starts_with("dkim=permerror spf=pass dmarc=pass"),
        "{}",
        r.detail
    );
}

#[test]
fn a_probe_not_held_fails_and_its_queue_entry_is_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let (der, rec) = key();
    let (h, f, queue) = rig(dir.path(), der, "active", zone(&rec));
    let r = run(&h, check());
    assert_eq!(r.status, CheckStatus::Fail, "{}", r.detail);
    assert_eq!(
        r.detail,
        "sendmail to admin@example.test: not held within 1 s (it is in the active queue): \
         is `header_checks = regexp:/etc/postfix/firstboot-hold` in main.cf?; queue entry BBB2 deleted"
    );
    assert!(queue.lock().unwrap().is_none());
    let calls = f.exec.calls();
    assert_eq!(calls.last().unwrap(), "postsuper -d BBB2", "{calls:?}");
    assert!(calls.iter().all(|c| !c.starts_with("postcat")), "{calls:?}");
}

#[test]
fn no_hold_rule_fails_before_anything_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let (der, rec) = key();
    let (h, f, _) = rig(dir.path(), der, "hold", zone(&rec));
    std::fs::write(dir.path().join(HOLD), firstboot::hold_rule::placeholder()).unwrap();
    let r = run(&h, check());
    assert_eq!(r.status, CheckStatus::Fail);
    assert_eq!(r.detail, "/etc/postfix/firstboot-hold holds no hold rule");
    std::fs::remove_file(dir.path().join(HOLD)).unwrap();
    let r = run(&h, check());
    assert_eq!(r.status, CheckStatus::Fail);
    assert_eq!(
        r.detail,
        "/etc/postfix/firstboot-hold is missing: nothing holds the probe"
    );
    assert!(f.exec.calls().is_empty());
}

#[test]
fn an_offline_root_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let h = firstboot::host::Host::new(
        firstboot::host::Root::new(dir.path()),
        firstboot::host::Runner::new(Duration::from_secs(5), Redactor::default()),
    );
    let r = run(&h, check());
    assert_eq!(
        (r.status, r.detail.as_str()),
        (CheckStatus::Skipped, "offline root")
    );
}

#[test]
fn what_the_judgement_asks_is_asked_once_dmarc_up_the_tree() {
    let dir = tempfile::tempdir().unwrap();
    let (der, rec) = key();
    let (h, f, _) = rig(dir.path(), der, "hold", zone(&rec));
    let asked = Arc::new(Mutex::new(Vec::new()));
    let z: Zone = Arc::new(Mutex::new(zone(&rec)));
    *f.net.handler.lock().unwrap() = Some(Arc::new(serve(z, asked.clone())));
    let r = run(&h, check());
    assert_eq!(r.status, CheckStatus::Pass, "{}", r.detail);
    let got = asked.lock().unwrap().clone();
    for q in [
        "TXT default._domainkey.example.test.",
        "TXT example.test.",
        "TXT mail.example.test.",
        "TXT _dmarc.example.test.",
        "TXT _dmarc.test.",
    ] {
        let n = got.iter().filter(|a| a.ends_with(q)).count();
        assert_eq!(n, 1, "{q} in {got:?}");
    }
    assert_eq!(got.len(), 5, "nothing else is asked: {got:?}");
}

#[test]
fn a_probe_held_a_moment_later_is_waited_for() {
    let dir = tempfile::tempdir().unwrap();
    let (der, rec) = key();
    let (h, f, queue) = rig(dir.path(), der, "hold", zone(&rec));
    // The first listing still shows it in the incoming queue, the next ones held.
    let calls = Arc::new(Mutex::new(0u32));
    let (q, n) = (queue.clone(), calls.clone());
    f.exec.on(
        "postqueue",
        Box::new(move |_, _| {
            let mut n = n.lock().unwrap();
            *n += 1;
            let name = if *n == 1 { "incoming" } else { "hold" };
            let out = match q.lock().unwrap().as_ref() {
                Some((_, id, sender, _)) => format!(
                    "{{\"queue_name\":\"{name}\",\"queue_id\":\"{id}\",\"arrival_time\":1,\"sender\":\"{sender}\",\"recipients\":[]}}\n"
                ),
                None => String::new(),
            };
            exit(0, &out)
        }),
    );
    let r = run(&h, check());
    assert_eq!(r.status, CheckStatus::Pass, "{}", r.detail);
    assert!(*calls.lock().unwrap() >= 2);
}

#[test]
fn each_probe_has_a_token_of_its_own_and_delivery_waits_20_s_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let (der, rec) = key();
    let (h, f, _) = rig(dir.path(), der, "hold", zone(&rec));
    run(&h, check());
    run(&h, check());
    let senders: Vec<String> = f
        .exec
        .calls()
        .into_iter()
        .filter(|c| c.starts_with("sendmail"))
        .map(|c| c.split(' ').nth(5).unwrap().to_string())
        .collect();
    assert_eq!(senders.len(), 2);
    for s in &senders {
        let token = s
            .strip_prefix("firstboot-loopback+")
            .and_then(|t| t.strip_suffix("@example.test"))
            .unwrap();
        assert!(
            token.len() == 16 && token.bytes().all(|b| b.is_ascii_hexdigit()),
            "{s}"
        );
    }
    assert_ne!(senders[0], senders[1]);
    let mut v = check();
    v["mail_loopback"]
        .as_object_mut()
        .unwrap()
        .remove("wait_seconds");
    let c: firstboot::checks::loopback::LoopbackCheck =
        serde_json::from_value(v["mail_loopback"].clone()).unwrap();
    assert_eq!(c.wait_seconds, 20);
}

#[test]
fn no_public_address_skips_unless_mail_leaves_through_a_smarthost() {
    let dir = tempfile::tempdir().unwrap();
    let (der, rec) = key();
    let (h, f, _) = rig(dir.path(), der, "hold", zone(&rec));
    let mut v = check();
    v["mail_loopback"]["ipv4"] = json!("");
    let r = run(&h, v.clone());
    assert_eq!(r.status, CheckStatus::Skipped);
    assert_eq!(r.detail, "the host has no public address set");
    assert!(f.exec.calls().is_empty());
    // Relay mode judges from the smarthost: the host's own addresses do not matter.
    let dir = tempfile::tempdir().unwrap();
    let (der, rec) = key();
    let (h, _, _) = rig(dir.path(), der, "hold", relay_zone(&rec));
    v["mail_loopback"]["relay_host"] = json!("smtp.relay.test");
    let r = run(&h, v);
    assert_eq!(r.status, CheckStatus::Pass, "{}", r.detail);
    assert!(
        r.detail.ends_with("from 198.51.100.25, at 192.0.2.53)"),
        "{}",
        r.detail
    );
}
