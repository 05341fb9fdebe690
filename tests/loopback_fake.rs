//! The `mail_loopback` check (`mail.loopback`) on a host of fakes: a `sendmail` that
//! signs with a real DKIM key (mail-auth's signer, Ed25519) and delivers into the
//! Maildir, and a scripted DNS server holding the key, SPF and DMARC records. The
//! signed copy is judged by mail-auth through our own client: pass, a DKIM record of
//! another key, SPF without the host's address, a key not published yet, a message
//! never delivered (its queue entry deleted), and no mailbox at all.

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
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const BOX: &str = "/var/vmail/example.test/admin/Maildir";

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

/// A host whose sendmail signs with `der` and delivers into the Maildir (`deliver`).
fn rig(
    dir: &Path,
    der: Vec<u8>,
    deliver: bool,
    records: Vec<(&'static str, RType, &'static str)>,
) -> (firstboot::host::Host, Fakes, PathBuf) {
    let new = dir.join(BOX.trim_start_matches('/')).join("new");
    std::fs::create_dir_all(&new).unwrap();
    let (h, f) = host(dir);
    let n = new.clone();
    f.exec.on(
        "sendmail",
        Box::new(move |_, stdin| {
            if !deliver {
                return exit(0, "");
            }
            let msg = String::from_utf8_lossy(stdin.unwrap_or_default()).replace('\n', "\r\n");
            let signer = DkimSigner::from_key(Ed25519Key::from_pkcs8_der(&der).unwrap())
                .domain("example.test")
                .selector("default")
                .headers(["From", "To", "Subject"]);
            let sig = signer.sign(msg.as_bytes()).unwrap().to_header();
            // Delivery adds its headers; the Maildir copy has bare LFs.
            let text =
                format!("Return-Path: <x>\r\nDelivered-To: admin@example.test\r\n{sig}{msg}");
            std::fs::write(n.join("1.mail"), text.replace("\r\n", "\n")).unwrap();
            exit(0, "")
        }),
    );
    let zone: Zone = Arc::new(Mutex::new(records));
    *f.net.handler.lock().unwrap() = Some(Arc::new(serve(zone, Arc::default())));
    (h, f, new)
}

fn check() -> Value {
    json!({"mail_loopback": {"from": "firstboot-loopback@example.test",
        "to": "admin@example.test", "maildir": BOX, "ipv4": "192.0.2.10",
        "hostname": "mail.example.test", "server": "192.0.2.53", "wait_seconds": 1}})
}

fn run(h: &firstboot::host::Host, kind: Value) -> CheckResult {
    let redactor = Redactor::default();
    let cx = common::check_cx(h, &redactor, Duration::from_millis(500));
    let k: CheckKind = serde_json::from_value(kind).unwrap();
    run_checks(&cx, &[Declared::new("mail.loopback", k)], &mut |_| {})[0].clone()
}

#[test]
fn signed_and_published_passes_and_the_copy_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    let (der, rec) = key();
    let (h, f, new) = rig(dir.path(), der, true, zone(&rec));
    let r = run(&h, check());
    assert_eq!(r.status, CheckStatus::Pass, "{}", r.detail);
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
    assert_eq!(
        std::fs::read_dir(&new).unwrap().count(),
        0,
        "the copy is removed"
    );
    let calls = f.exec.calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert!(
        calls[0].starts_with("sendmail -i -N never -f firstboot-loopback+"),
        "{calls:?}"
    );
    assert!(
        calls[0].ends_with("@example.test -- admin@example.test"),
        "{calls:?}"
    );
}

#[test]
fn another_key_fails_dkim_and_spf_without_the_address_fails_spf() {
    let dir = tempfile::tempdir().unwrap();
    let (der, _) = key();
    let (_, other) = key();
    let (h, _, _) = rig(dir.path(), der, true, zone(&other));
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
    let (h, _, _) = rig(dir.path(), der, true, z);
    let r = run(&h, check());
    assert_eq!(r.status, CheckStatus::Fail, "{}", r.detail);
    assert!(
        r.detail.starts_with("dkim=pass spf=fail dmarc=pass"),
        "{}",
        r.detail
    );
}

#[test]
fn a_server_refusing_names_above_the_domain_leaves_dmarc_to_the_domain_record() {
    // An authoritative-only server (the publication server) refuses `_dmarc.test`.
    let dir = tempfile::tempdir().unwrap();
    let (der, rec) = key();
    let (h, f, _) = rig(dir.path(), der, true, zone(&rec));
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
    let (h, _, _) = rig(dir.path(), der, true, z);
    let r = run(&h, check());
    assert_eq!(r.status, CheckStatus::Pending, "{}", r.detail);
    assert!(
        r.detail.starts_with("dkim=permerror spf=pass dmarc=pass"),
        "{}",
        r.detail
    );
}

#[test]
fn a_message_never_delivered_fails_and_its_queue_entry_is_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let (der, rec) = key();
    let (h, f, _) = rig(dir.path(), der, false, zone(&rec));
    let sent = Arc::new(Mutex::new(String::new()));
    let s = sent.clone();
    f.exec.on(
        "postqueue",
        Box::new(move |_, _| {
            // Another message, then the probe (its sender as sendmail was given it).
            let probe = s.lock().unwrap().clone();
            exit(
                0,
                &format!(
                    "{{\"queue_name\":\"deferred\",\"queue_id\":\"AAA1\",\"arrival_time\":1,\"sender\":\"alice@example.test\",\"recipients\":[]}}\n\
                     {{\"queue_name\":\"active\",\"queue_id\":\"BBB2\",\"arrival_time\":1,\"sender\":\"{probe}\",\"recipients\":[]}}\n"
                ),
            )
        }),
    );
    let s = sent.clone();
    f.exec.on(
        "sendmail",
        Box::new(move |argv, _| {
            *s.lock().unwrap() = argv[5].clone();
            exit(0, "")
        }),
    );
    f.exec.on("postsuper", Box::new(|_, _| exit(0, "")));
    let r = run(&h, check());
    assert_eq!(r.status, CheckStatus::Fail, "{}", r.detail);
    assert!(r.detail.contains("not delivered to"), "{}", r.detail);
    assert!(
        r.detail.ends_with("; queue entry BBB2 deleted"),
        "{}",
        r.detail
    );
    let calls = f.exec.calls();
    assert_eq!(calls.last().unwrap(), "postsuper -d BBB2", "{calls:?}");
}

#[test]
fn no_mailbox_skips_with_the_reason_given() {
    let dir = tempfile::tempdir().unwrap();
    let (der, rec) = key();
    let (h, f, _) = rig(dir.path(), der, true, zone(&rec));
    let mut v = check();
    v["mail_loopback"]["to"] = json!("");
    v["mail_loopback"]["no_mailbox"] = json!("relay mode: no mailbox on this host");
    let r = run(&h, v);
    assert_eq!(r.status, CheckStatus::Skipped);
    assert_eq!(r.detail, "relay mode: no mailbox on this host");
    assert!(f.exec.calls().is_empty());
}
