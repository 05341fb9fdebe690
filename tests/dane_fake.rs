//! The `dane` check (`dns.dane`) on a host of fakes: a scripted DNS server holding the
//! TLSA record and an SMTP server with STARTTLS (rustls) on the fake network. The TLSA
//! record is compared with the certificate served on port 25 at the public address and
//! with the file: both match, only the file (Postfix not reloaded), only the served one
//! (the next reload breaks DANE), neither, no public address, nothing listening.

use firstboot::checks::{run_checks, CheckKind, CheckResult, CheckStatus, Declared};
mod common;
use common::dns_zone::{serve, Zone};
use common::tls_server::smtp_starttls;
use firstboot::dns::RType;
use firstboot::host::fake::host;
use firstboot::redact::Redactor;
use rcgen::{CertificateParams, KeyPair};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex};
use std::time::Duration;

struct Cert {
    der: rustls::pki_types::CertificateDer<'static>,
    pem: String,
    key: Vec<u8>,
    tlsa: &'static str,
}

fn cert() -> Cert {
    let key = KeyPair::generate().unwrap();
    let c = CertificateParams::new(vec!["mail.example.test".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let (_, x) = x509_parser::parse_x509_certificate(c.der()).unwrap();
    let spki = x.tbs_certificate.subject_pki.raw;
    let tlsa = format!("3 1 1 {}", hex(&Sha256::digest(spki)));
    Cert {
        der: c.der().clone(),
        pem: c.pem(),
        key: key.serialize_der(),
        tlsa: Box::leak(tlsa.into_boxed_str()),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The check with `served` on port 25 (none: nothing listens), `disk` as the file, the
/// TLSA record `tlsa`, and the public address `address`; the result and where it
/// connected.
fn run(
    served: Option<&Cert>,
    disk: &Cert,
    tlsa: &'static str,
    address: &str,
) -> (CheckResult, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.pem"), &disk.pem).unwrap();
    let (h, f) = host(dir.path());
    let zone: Zone = Arc::new(Mutex::new(vec![(
        "_25._tcp.mail.example.test",
        RType::Tlsa,
        tlsa,
    )]));
    *f.net.handler.lock().unwrap() = Some(Arc::new(serve(zone, Arc::default())));
    let asked = Arc::new(Mutex::new(Vec::new()));
    if let Some(s) = served {
        let t = smtp_starttls(vec![s.der.clone()], s.key.clone(), asked.clone());
        *f.net.tcp.lock().unwrap() = Some(Arc::new(t));
    }
    let redactor = Redactor::default();
    let cx = common::check_cx(&h, &redactor, Duration::from_secs(5));
    let k: CheckKind = serde_json::from_value(json!({"dane": {"host": "mail.example.test",
        "cert": "/c.pem", "enabled": "true", "address": address, "server": "192.0.2.53"}}))
    .unwrap();
    let r = run_checks(&cx, &[Declared::new("dns.dane", k)], &mut |_| {})[0].clone();
    let asked = asked.lock().unwrap().clone();
    (r, asked)
}

#[test]
fn the_served_certificate_and_the_file_both_matching_pass_asked_on_the_public_address() {
    let c = cert();
    let (r, asked) = run(Some(&c), &c, c.tlsa, "192.0.2.10");
    assert_eq!(r.status, CheckStatus::Pass, "{}", r.detail);
    assert_eq!(
        r.detail,
        "1 of 1 TLSA records match the certificate served at 192.0.2.10:25 and /c.pem (TLSA at 192.0.2.53)"
    );
    assert_eq!(asked, ["192.0.2.10:25"]);
    assert_eq!(r.hint, None, "a pass has nothing to fix");
}

#[test]
fn a_tlsa_matching_only_the_file_fails_postfix_serves_another_key() {
    let (served, disk) = (cert(), cert());
    let (r, _) = run(Some(&served), &disk, disk.tlsa, "192.0.2.10");
    assert_eq!(r.status, CheckStatus::Fail, "{}", r.detail);
    assert!(
        r.detail.starts_with("none of 1 matches the certificate served at 192.0.2.10:25; its key differs from /c.pem's; 1 match /c.pem, which Postfix has not loaded"),
        "{}",
        r.detail
    );
    assert!(
        r.hint.as_deref().unwrap_or("").contains("postfix reload"),
        "{:?}",
        r.hint
    );
}

#[test]
fn a_tlsa_matching_only_the_served_certificate_warns_and_neither_fails() {
    let (served, disk) = (cert(), cert());
    let (r, _) = run(Some(&served), &disk, served.tlsa, "192.0.2.10");
    assert_eq!(r.status, CheckStatus::Warn, "{}", r.detail);
    assert!(
        r.detail.contains("the next reload breaks DANE"),
        "{}",
        r.detail
    );
    let other = cert();
    let (r, _) = run(Some(&served), &disk, other.tlsa, "192.0.2.10");
    assert_eq!(r.status, CheckStatus::Fail, "{}", r.detail);
    assert!(
        r.detail
            .starts_with("none of 1 matches the certificate served at 192.0.2.10:25 nor /c.pem"),
        "{}",
        r.detail
    );
}

#[test]
fn without_a_public_address_127_0_0_1_is_asked_and_said_so_nothing_listening_is_named() {
    let c = cert();
    let (r, asked) = run(Some(&c), &c, c.tlsa, "");
    assert_eq!(r.status, CheckStatus::Pass, "{}", r.detail);
    assert!(
        r.detail
            .contains("served at 127.0.0.1:25 (no public address set)"),
        "{}",
        r.detail
    );
    assert_eq!(asked, ["127.0.0.1:25"]);
    let (r, _) = run(None, &c, c.tlsa, "192.0.2.10");
    assert_eq!(r.status, CheckStatus::Warn, "{}", r.detail);
    assert!(
        r.detail
            .starts_with("could not read the certificate served at 192.0.2.10:25: cannot connect"),
        "{}",
        r.detail
    );
    let other = cert();
    let (r, _) = run(None, &c, other.tlsa, "192.0.2.10");
    assert_eq!(r.status, CheckStatus::Fail, "{}", r.detail);
}
