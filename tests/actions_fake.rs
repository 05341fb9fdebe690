//! What the actions show and leave behind on a host made of fakes, beyond the
//! plan/apply/rollback cycle of `tests/steps_fake.rs`: the owner a DKIM key gets and the
//! plan line that names it, a key of another size kept, the key's and certificate's
//! modes, and what a plan says when nothing is to be done; the loopback probe's hold
//! rule (a secret kept once made, a placeholder in an image replaced on first boot).

mod common;
use common::rig::{rig, steps, Rig};
use firstboot::steps::Change;
use serde_json::json;
use std::os::unix::fs::MetadataExt;

const KEY: &str = "/etc/opendkim/keys/default.private";

fn dkim(owner: Option<&str>) -> serde_json::Value {
    let mut body = json!({"path": KEY, "bits": "1024"});
    if let Some(o) = owner {
        body["owner"] = json!(o);
    }
    json!({"action": {"dkim_key": body}})
}

/// Add an account (user and group of the same name) to the rig's tree.
fn account(r: &Rig, name: &str, id: u32) {
    for (file, line) in [
        (
            "/etc/passwd",
            format!("{name}:x:{id}:{id}::/nonexistent:/usr/sbin/nologin\n"),
        ),
        ("/etc/group", format!("{name}:x:{id}:\n")),
    ] {
        let mut text = r.read(file).unwrap();
        text.push_str(&line);
        std::fs::write(r.path(file), text).unwrap();
    }
}

#[test]
fn a_dkim_key_belongs_to_opendkim_by_default() {
    let r = rig();
    let p = r.plan(&steps(&[dkim(None)]));
    assert_eq!(p[0].target, format!("action dkim_key {KEY}"));
    assert!(
        matches!(p[0].change, Change::Create { diff: None }),
        "{p:?}"
    );
    assert_eq!(
        p[0].summary,
        "generate a 1024-bit RSA key (0600 opendkim:opendkim)"
    );
    let p = r.plan(&steps(&[dkim(Some("mail"))]));
    assert_eq!(p[0].summary, "generate a 1024-bit RSA key (0600 mail:mail)");
}

/// As root (owners enforced): the key and its new directory go to the account when it
/// exists, to root when it does not.
#[test]
fn a_dkim_key_is_owned_by_its_account_or_root() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: owners are enforced only as root");
        return;
    }
    let mut r = rig();
    r.host.privileged = true;
    account(&r, "opendkim", 4242);
    let s = steps(&[dkim(None)]);
    assert_eq!(
        r.plan(&s)[0].summary,
        "generate a 1024-bit RSA key (0600 opendkim:opendkim)"
    );
    r.apply(&s).unwrap();
    for p in [KEY, "/etc/opendkim/keys"] {
        let m = std::fs::metadata(r.path(p)).unwrap();
        assert_eq!((m.uid(), m.gid()), (4242, 4242), "{p}");
    }
    assert_eq!(
        std::fs::metadata(r.path(KEY)).unwrap().mode() & 0o7777,
        0o600
    );

    // No such account: root's, and the plan says so.
    let mut r = rig();
    r.host.privileged = true;
    let s = steps(&[dkim(None)]);
    assert_eq!(
        r.plan(&s)[0].summary,
        "generate a 1024-bit RSA key (0600 root:root)"
    );
    r.apply(&s).unwrap();
    let m = std::fs::metadata(r.path(KEY)).unwrap();
    assert_eq!((m.uid(), m.gid()), (0, 0));
}

/// A key already there is kept whatever its size; the plan says which size it has.
#[test]
fn a_dkim_key_already_there_is_kept_and_described() {
    let mut r = rig();
    let s = steps(&[dkim(None)]);
    r.apply(&s).unwrap();
    let before = r.read(KEY).unwrap();
    let p = r.plan(&s);
    assert_eq!(p[0].change, Change::None);
    assert_eq!(p[0].summary, "1024-bit key present");

    let bigger = steps(&[json!({"action": {"dkim_key": {"path": KEY, "bits": 2048}}})]);
    let p = r.plan(&bigger);
    assert_eq!(p[0].change, Change::None);
    assert_eq!(
        p[0].summary,
        "1024-bit key present, kept (mail.dkim.bits is 2048: rotate it by hand, publishing the new record first)"
    );
    r.apply(&bigger).unwrap();
    assert_eq!(r.read(KEY).unwrap(), before, "the key is not replaced");

    std::fs::write(r.path(KEY), "not a key\n").unwrap();
    let e = r.cx();
    let mut run = firstboot::steps::RunState::default();
    let err = s[0].step().plan(&e, &mut run).unwrap_err().to_string();
    assert!(
        err.contains(&format!(
            "{KEY} exists but is not an RSA private key in PEM"
        )),
        "{err}"
    );
}

const CRT: &str = "/etc/ssl/fb/cert.pem";
const CKEY: &str = "/etc/ssl/fb/key.pem";

fn self_signed(extra: serde_json::Value) -> Vec<firstboot::steps::StepKind> {
    let mut body =
        json!({"cert": CRT, "key": CKEY, "names": ["mail.example.test", "smtp.example.test"]});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    steps(&[json!({"action": {"self_signed_cert": body}})])
}

/// The certificate a self-signed step makes: a year from an hour ago by default, a
/// positive 16-byte serial, a server certificate that is no CA.
#[test]
fn a_self_signed_certificate_is_a_year_long_server_certificate() {
    use x509_parser::prelude::*;
    let mut r = rig();
    let s = self_signed(json!({}));
    assert_eq!(
        r.plan(&s)[0].target,
        format!("action self_signed_cert {CRT}")
    );
    r.apply(&s).unwrap();
    let now = firstboot::tls::now();
    let pem = r.read(CRT).unwrap();
    let der = firstboot::tls::parse_chain(pem.as_bytes()).unwrap();
    let (_, cert) = parse_x509_certificate(der[0].as_ref()).unwrap();
    let v = cert.validity();
    let near = |got: i64, want: i64| (got - want).abs() < 300;
    assert!(near(v.not_before.timestamp(), now - 3600), "{v:?}");
    assert!(near(v.not_after.timestamp(), now + 365 * 86_400), "{v:?}");
    let serial = cert.raw_serial();
    assert_eq!(serial.len(), 16, "{serial:?}");
    assert!((0x40..0x80).contains(&serial[0]), "{serial:?}");
    assert_eq!(
        cert.subject()
            .iter_common_name()
            .next()
            .unwrap()
            .as_str()
            .unwrap(),
        "mail.example.test"
    );
    let ku = cert.key_usage().unwrap().unwrap().value;
    assert!(ku.digital_signature() && !ku.key_encipherment(), "{ku:?}");
    let eku = cert.extended_key_usage().unwrap().unwrap().value;
    assert!(eku.server_auth && !eku.client_auth, "{eku:?}");
    assert!(!cert.is_ca());

    // Another `days`: that many days.
    let mut r = rig();
    r.apply(&self_signed(json!({"days": 90}))).unwrap();
    let pem = r.read(CRT).unwrap();
    let der = firstboot::tls::parse_chain(pem.as_bytes()).unwrap();
    let info = firstboot::tls::cert_info(&der[0]).unwrap();
    assert!(
        near(info.not_after, now + 90 * 86_400),
        "{}",
        info.not_after
    );
}

/// Re-issued (key kept) when fewer than `renew_days` (30 by default) are left.
#[test]
fn a_self_signed_certificate_is_renewed_thirty_days_before_it_expires() {
    let mut r = rig();
    r.apply(&self_signed(json!({"days": 40}))).unwrap();
    let p = r.plan(&self_signed(json!({})));
    assert_eq!(p[0].change, Change::None, "{p:?}");
    assert!(p[0].summary.starts_with("valid until "), "{p:?}");
    assert!(
        p[0].summary
            .ends_with(" days), covers mail.example.test, smtp.example.test"),
        "{p:?}"
    );

    let mut r = rig();
    r.apply(&self_signed(json!({"days": 20}))).unwrap();
    let (cert, key) = (r.read(CRT), r.read(CKEY));
    let s = self_signed(json!({}));
    let p = r.plan(&s);
    assert!(matches!(p[0].change, Change::Update { .. }), "{p:?}");
    assert!(
        p[0].summary.starts_with(
            "issue a self-signed certificate for mail.example.test, smtp.example.test (key kept): "
        ) && p[0].summary.ends_with(" days left"),
        "{p:?}"
    );
    r.apply(&s).unwrap();
    assert_ne!(r.read(CRT), cert);
    assert_eq!(r.read(CKEY), key);
    // renew_days: 10 keeps a certificate with 20 days left.
    let mut r = rig();
    r.apply(&self_signed(json!({"days": 20}))).unwrap();
    let p = r.plan(&self_signed(json!({"renew_days": 10})));
    assert_eq!(p[0].change, Change::None, "{p:?}");
}

/// As root (owners enforced): the key goes to root and the group given (root when none
/// is), the certificate to root:root.
#[test]
fn a_self_signed_key_is_readable_by_its_group_only() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: owners are enforced only as root");
        return;
    }
    for (group, gid) in [(None, 0), (Some("ssl-cert"), 4243)] {
        let mut r = rig();
        r.host.privileged = true;
        account(&r, "ssl-cert", 4243);
        let extra = match group {
            Some(g) => json!({ "group": g }),
            None => json!({}),
        };
        r.apply(&self_signed(extra)).unwrap();
        let key = std::fs::metadata(r.path(CKEY)).unwrap();
        assert_eq!((key.uid(), key.gid(), key.mode() & 0o7777), (0, gid, 0o640));
        let cert = std::fs::metadata(r.path(CRT)).unwrap();
        assert_eq!(
            (cert.uid(), cert.gid(), cert.mode() & 0o7777),
            (0, 0, 0o644)
        );
    }
}

/// A usable key and certificate that firstboot did not write (no state of them), the
/// key readable by all: the plan names the key alone, applying makes it private again
/// and keeps both files' contents.
#[test]
fn a_self_signed_key_found_readable_is_made_private() {
    use std::os::unix::fs::PermissionsExt;
    let mut r = rig();
    let s = self_signed(json!({}));
    r.apply(&s).unwrap();
    r.last.clear();
    let cert = r.read(CRT);
    std::fs::set_permissions(r.path(CKEY), std::fs::Permissions::from_mode(0o644)).unwrap();
    let p = r.plan(&s);
    assert_eq!(p[0].change, Change::Update { diff: None }, "{p:?}");
    assert!(p[0].summary.starts_with("key: "), "{p:?}");
    assert!(!p[0].summary.contains("certificate"), "{p:?}");
    r.apply(&s).unwrap();
    let mode = std::fs::metadata(r.path(CKEY)).unwrap().mode() & 0o7777;
    assert_eq!(mode, 0o640);
    assert_eq!(r.read(CRT), cert);
    assert_eq!(r.plan(&s)[0].change, Change::None);
}

/// Every serial is 16 bytes, positive, its first byte 0x40 to 0x7f (a random serial
/// could otherwise start with a zero byte, shortening it, or with its sign bit set):
/// checked over 16 certificates, so a wrong mask shows with odds of 1 in 65,536 to hide.
#[test]
fn self_signed_serials_are_sixteen_positive_bytes() {
    for _ in 0..16 {
        let mut r = rig();
        r.apply(&self_signed(json!({}))).unwrap();
        let pem = r.read(CRT).unwrap();
        let der = firstboot::tls::parse_chain(pem.as_bytes()).unwrap();
        let (_, cert) = x509_parser::parse_x509_certificate(der[0].as_ref()).unwrap();
        let serial = cert.raw_serial();
        assert_eq!(serial.len(), 16, "{serial:?}");
        assert!((0x40..0x80).contains(&serial[0]), "{serial:?}");
    }
}

const HOLD: &str = "/etc/postfix/firstboot-hold";

fn hold() -> Vec<firstboot::steps::StepKind> {
    steps(&[json!({"action": {"hold_rule": {"path": HOLD}}})])
}

#[test]
fn a_hold_rule_is_made_once_private_and_never_shown() {
    let mut r = rig();
    let p = r.plan(&hold());
    assert_eq!(p[0].target, format!("action hold_rule {HOLD}"));
    assert!(
        matches!(p[0].change, Change::Create { diff: None }),
        "{p:?}"
    );
    assert!(p[0].hidden, "the table holds a secret");
    assert_eq!(
        p[0].summary,
        "make the secret hold rule of mail.loopback (0600 root:root)"
    );
    r.apply(&hold()).unwrap();
    let made = r.read(HOLD).unwrap();
    let secret = firstboot::hold_rule::secret(&made).unwrap().to_string();
    let mode = std::fs::metadata(r.path(HOLD)).unwrap().mode() & 0o7777;
    assert_eq!(mode, 0o600);
    let p = r.plan(&hold());
    assert_eq!(
        (&p[0].change, p[0].summary.as_str()),
        (&Change::None, "hold rule present")
    );
    r.apply(&hold()).unwrap();
    assert_eq!(r.read(HOLD).unwrap(), made, "the secret is kept");
    assert!(p.iter().all(|p| !p.summary.contains(&secret)));

    // A table without a rule (an image's placeholder) gets one.
    std::fs::write(r.path(HOLD), firstboot::hold_rule::placeholder()).unwrap();
    let p = r.plan(&hold());
    assert!(
        matches!(p[0].change, Change::Update { diff: None }),
        "{p:?}"
    );
    r.apply(&hold()).unwrap();
    let again = r.read(HOLD).unwrap();
    assert!(firstboot::hold_rule::secret(&again).is_some(), "{again}");
}

#[test]
fn an_offline_tree_gets_a_hold_table_without_a_secret() {
    use firstboot::host::{Host, Root, Runner};
    let mut r = rig();
    r.host = Host::new(
        Root::new(r.dir.path()),
        Runner::new(std::time::Duration::from_secs(5), r.redactor.clone()),
    );
    let p = r.plan(&hold());
    assert!(
        matches!(p[0].change, Change::Create { diff: None }),
        "{p:?}"
    );
    assert!(!p[0].hidden);
    assert!(
        p[0].summary
            .contains("each machine makes its secret on first boot"),
        "{p:?}"
    );
    r.apply(&hold()).unwrap();
    let text = r.read(HOLD).unwrap();
    assert_eq!(text, firstboot::hold_rule::placeholder());
    let p = r.plan(&hold());
    assert_eq!(p[0].change, Change::None, "{p:?}");
    assert_eq!(p[0].summary, "no rule yet: made on the running system");
}
