//! The `dkim` check against a host made of fakes: the key file on the host's root, the
//! record asked of a scripted DNS server through the host's network. Each shape a user
//! can meet, with the name and detail a report shows: the key matches (pass), no record
//! yet or no answer (pending), another key (fail), no key file, a bad server.

mod common;
use common::dns_zone::{serve, Zone};
use firstboot::checks::dkim::DkimCheck;
use firstboot::checks::{Check, CheckStatus};
use firstboot::dns::source::dkim_txt_pem;
use firstboot::dns::RType;
use firstboot::host::fake::host;
use firstboot::redact::Redactor;
use rsa::pkcs1::{EncodeRsaPrivateKey, LineEnding};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const KEY: &str = "/etc/opendkim/keys/s1.private";
const RECORD: &str = "s1._domainkey.example.test";

/// A 1024-bit key in PKCS#1 PEM and its record text.
fn key() -> (String, String) {
    let k = rsa::PrivateKey::new(&mut getrandom::SysRng, 1024).unwrap();
    let pem = k.to_pkcs1_pem(LineEnding::LF).unwrap().to_string();
    let txt = dkim_txt_pem(pem.as_bytes()).unwrap();
    (pem, txt)
}

fn check(server: &str, min_bits: u32) -> DkimCheck {
    DkimCheck {
        key: KEY.into(),
        record: RECORD.into(),
        server: server.into(),
        min_bits,
    }
}

#[test]
fn dkim_check_pass_pending_fail() {
    let dir = tempfile::tempdir().unwrap();
    let (h, fakes) = host(dir.path());
    let redactor = Redactor::default();
    let cx = common::check_cx(&h, &redactor, Duration::from_millis(200));
    let c = check("192.0.2.53", 1024);
    let name = format!("DKIM key {KEY} matches {RECORD}");

    let r = c.run(&cx);
    assert_eq!(
        (r.name.as_str(), r.status),
        (name.as_str(), CheckStatus::Fail)
    );
    assert_eq!(r.detail, "no key file");

    let (pem, txt) = key();
    std::fs::create_dir_all(dir.path().join("etc/opendkim/keys")).unwrap();
    std::fs::write(dir.path().join(KEY.trim_start_matches('/')), &pem).unwrap();
    // Nobody answers: pending.
    let r = c.run(&cx);
    assert_eq!(r.status, CheckStatus::Pending, "{}", r.detail);
    assert!(
        r.detail.starts_with("cannot resolve at 192.0.2.53: "),
        "{}",
        r.detail
    );

    let zone: Zone = Arc::new(Mutex::new(vec![]));
    let asked = Arc::new(Mutex::new(Vec::new()));
    *fakes.net.handler.lock().unwrap() = Some(Arc::new(serve(zone.clone(), asked.clone())));
    let r = c.run(&cx);
    assert_eq!(r.status, CheckStatus::Pending, "{}", r.detail);
    assert_eq!(r.detail, "no DKIM record visible yet at 192.0.2.53");
    assert_eq!(
        *asked.lock().unwrap(),
        ["Udp 192.0.2.53:53 TXT s1._domainkey.example.test."]
    );

    let ours: &'static str = Box::leak(txt.into_boxed_str());
    zone.lock().unwrap().push((RECORD, RType::Txt, ours));
    let r = c.run(&cx);
    assert_eq!(r.status, CheckStatus::Pass, "{}", r.detail);
    assert_eq!(r.detail, "key matches the record (1024 bits) at 192.0.2.53");
    // A stricter minimum fails the same key.
    let r = check("192.0.2.53", 2048).run(&cx);
    assert_eq!(r.status, CheckStatus::Fail, "{}", r.detail);
    assert_eq!(
        r.detail,
        "the key has 1024 bits, fewer than 2048 at 192.0.2.53"
    );

    let (_, other) = key();
    zone.lock().unwrap()[0].2 = Box::leak(other.into_boxed_str());
    // A pass of its own: the answer of the last one is not reused.
    let cx = common::check_cx(&h, &redactor, Duration::from_millis(200));
    let r = c.run(&cx);
    assert_eq!(r.status, CheckStatus::Fail, "{}", r.detail);
    assert_eq!(r.detail, "the record publishes another key at 192.0.2.53");

    // A key file that is no key.
    std::fs::write(dir.path().join(KEY.trim_start_matches('/')), "junk\n").unwrap();
    let r = c.run(&cx);
    assert_eq!(r.status, CheckStatus::Fail, "{}", r.detail);
    assert!(r.detail.contains(KEY), "{}", r.detail);
}

#[test]
fn dkim_check_server_from_resolv_conf_or_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (h, fakes) = host(dir.path());
    let redactor = Redactor::default();
    let cx = common::check_cx(&h, &redactor, Duration::from_millis(200));
    let (pem, _) = key();
    std::fs::create_dir_all(dir.path().join("etc/opendkim/keys")).unwrap();
    std::fs::write(dir.path().join(KEY.trim_start_matches('/')), &pem).unwrap();

    let r = check("not-an-ip", 1024).run(&cx);
    assert_eq!(r.status, CheckStatus::Fail, "{}", r.detail);
    assert_eq!(r.detail, "\"not-an-ip\" is not an IP address");

    let r = check("", 1024).run(&cx);
    assert_eq!(r.status, CheckStatus::Fail, "{}", r.detail);
    assert!(r.detail.contains("resolv.conf"), "{}", r.detail);

    std::fs::write(
        dir.path().join("etc/resolv.conf"),
        "# local\nnameserver 192.0.2.54\nnameserver 192.0.2.55\n",
    )
    .unwrap();
    let zone: Zone = Arc::new(Mutex::new(vec![]));
    let asked = Arc::new(Mutex::new(Vec::new()));
    *fakes.net.handler.lock().unwrap() = Some(Arc::new(serve(zone, asked.clone())));
    let r = check(" ", 1024).run(&cx);
    assert_eq!(r.status, CheckStatus::Pending, "{}", r.detail);
    assert_eq!(r.detail, "no DKIM record visible yet at 192.0.2.54");
    assert_eq!(
        *asked.lock().unwrap(),
        ["Udp 192.0.2.54:53 TXT s1._domainkey.example.test."]
    );

    let r = DkimCheck {
        record: "bad name!".into(),
        ..check("192.0.2.53", 1024)
    }
    .run(&cx);
    assert_eq!(r.status, CheckStatus::Fail, "{}", r.detail);
    assert!(r.detail.contains("bad name!"), "{}", r.detail);
}
