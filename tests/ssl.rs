//! 7-ssl_config against temporary roots: the self-signed certificate is made once and
//! then left alone, acme is planned (not run) offline, the shipped DH group is RFC 7919's,
//! and bad ssl inputs are refused naming the key. The certificate check's failures are in
//! `ssl_check.rs`.

mod common;
use common::*;

const CRT: &str = "/etc/firstboot/ssl/mail.example.test.crt";
const KEY: &str = "/etc/firstboot/ssl/mail.example.test.key";

fn ssl_run(t: &Tree, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["run", "--profile", "standard", "--only", "ssl"];
    args.extend_from_slice(extra);
    t.fb(&args)
}

fn cert_names(t: &Tree, path: &str) -> Vec<String> {
    let chain = firstboot::tls::parse_chain(t.read(path).as_bytes()).unwrap();
    firstboot::tls::cert_info(&chain[0]).unwrap().dns_names
}

#[test]
fn self_signed_is_issued_once_and_then_left_alone() {
    let t = Tree::new(&format!(
        "{CONFIG}ssl:\n  extra_names: [smtp.example.test, imap.example.test]\n"
    ));
    let o = ssl_run(&t, &[]);
    ok(&o);
    assert_eq!(
        cert_names(&t, CRT),
        [
            "mail.example.test",
            "smtp.example.test",
            "imap.example.test"
        ]
    );
    let before = t.snapshot(true);
    assert_eq!(before[KEY].mode, 0o640, "key mode");
    assert_eq!(before[CRT].mode, 0o644, "cert mode");
    let key_text = t.read(KEY);
    assert!(key_text.starts_with("-----BEGIN PRIVATE KEY-----"));
    let key_body = key_text.lines().nth(1).unwrap().to_string();

    let plan = t.fb(&["plan", "--profile", "standard", "--only", "ssl", "--force"]);
    ok(&plan);
    let p = stdout(&plan);
    assert!(
        p.contains("action self_signed_cert") && p.contains("valid until"),
        "{p}"
    );
    let rerun = ssl_run(&t, &["--force"]);
    ok(&rerun);
    let after = t.snapshot(true);
    for f in [CRT, KEY] {
        assert_eq!(before[f], after[f], "{f}: same contents, mode and mtime");
    }
    // The key never reaches output or logs.
    let logs =
        t.read("/var/log/firstboot/firstboot.log") + &t.read("/var/log/firstboot/7-ssl_config.log");
    for text in [stdout(&o), stderr(&o), p, stdout(&rerun), logs] {
        assert!(!text.contains(&key_body), "key material shown:\n{text}");
    }
    let v = t.fb(&["validate", "--profile", "standard", "ssl"]);
    ok(&v);
    assert!(
        stdout(&v).contains("PASS certificate") && stdout(&v).contains("chain verifies"),
        "{}",
        stdout(&v)
    );
}

#[test]
fn a_new_name_reissues_the_certificate_and_keeps_the_key() {
    let t = Tree::new(CONFIG);
    ok(&ssl_run(&t, &[]));
    let key = t.read(KEY);
    let cert = t.read(CRT);
    t.write(
        "/etc/firstboot/config.yaml",
        &format!("{CONFIG}ssl:\n  extra_names: [smtp.example.test]\n"),
    );
    let plan = t.fb(&["plan", "--profile", "standard", "--only", "ssl", "--force"]);
    let p = stdout(&plan);
    assert!(
        p.contains("it does not cover smtp.example.test") && p.contains("key kept"),
        "{p}"
    );
    assert!(
        p.contains("-names: mail.example.test")
            && p.contains("+names: mail.example.test, smtp.example.test"),
        "readable diff:\n{p}"
    );
    ok(&ssl_run(&t, &["--force"]));
    assert_ne!(t.read(CRT), cert);
    assert_eq!(t.read(KEY), key, "key kept");
    assert_eq!(
        cert_names(&t, CRT),
        ["mail.example.test", "smtp.example.test"]
    );
}

/// Run with `config`: it must exit `code`, name every part of `expect`, and change
/// nothing (firstboot's own lock and log aside).
fn refused(config: &str, code: i32, expect: &[&str]) -> String {
    let t = Tree::new(config);
    let before = t.snapshot(true);
    let o = ssl_run(&t, &[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(code), "{err}");
    for e in expect {
        assert!(err.contains(e), "expected {e:?} in:\n{err}");
    }
    if let Err(e) = same_contents(&before, &t.snapshot(true)) {
        panic!("root changed: {e}");
    }
    err
}

#[test]
fn bad_ssl_inputs_are_refused_naming_the_key() {
    refused(
        &format!("{CONFIG}ssl:\n  provider: acme\n"),
        2,
        &["ssl.acme.agree_tos: is required when ssl.provider == \"acme\""],
    );
    refused(
        &format!("{CONFIG}ssl:\n  provider: existing\n"),
        2,
        &["ssl.existing: is required when ssl.provider == \"existing\""],
    );
    refused(
        &format!("{CONFIG}ssl:\n  provider: existing\n  existing: {{cert: /srv/c.pem}}\n"),
        2,
        &["ssl.existing.key: is missing"],
    );
    // An explicit `false` is a valid boolean but breaks the input's `valid_when` rule.
    let err = refused(
        &format!("{CONFIG}ssl:\n  provider: acme\n  acme: {{agree_tos: false}}\n"),
        2,
        &[
            "config.yaml:",
            "ssl.acme.agree_tos: must be true for provider acme",
        ],
    );
    assert!(!err.contains("certbot certonly"), "{err}");
}

#[test]
fn acme_under_an_offline_root_plans_certbot_and_skips_it() {
    let t = Tree::new(&format!(
        "{CONFIG}ssl:\n  provider: acme\n  extra_names: [smtp.example.test]\n  acme: {{directory: \"https://acme.example.test:14000/dir\", agree_tos: true, ca_bundle: /etc/ca.pem}}\n"
    ));
    let o = ssl_run(&t, &[]);
    ok(&o);
    let out = stdout(&o);
    for part in [
        "command certbot certonly --non-interactive --standalone",
        "--server https://acme.example.test:14000/dir",
        "--agree-tos",
        "--cert-name mail.example.test",
        "--domains mail.example.test,smtp.example.test",
        "--reuse-key",
        "offline root: recorded, not run",
        "skipped",
    ] {
        assert!(out.contains(part), "{part:?} not in:\n{out}");
    }
    assert!(t.exists("/etc/letsencrypt/renewal-hooks/deploy/50-firstboot-reload"));
}

#[test]
fn shipped_dh_parameters_are_rfc7919_ffdhe2048() {
    let t = Tree::new(CONFIG);
    ok(&ssl_run(&t, &[]));
    let text = t.read("/etc/firstboot/ssl/ffdhe2048.pem");
    let (_, pem) = x509_parser::pem::parse_x509_pem(text.as_bytes()).unwrap();
    assert_eq!(pem.label, "DH PARAMETERS");
    // RFC 7919 appendix A.1, the prime p (2048 bits), then g = 2.
    let p = "FFFFFFFFFFFFFFFFADF85458A2BB4A9AAFDC5620273D3CF1D8B9C583CE2D3695A9E13641146433FB\
             CC939DCE249B3EF97D2FE363630C75D8F681B202AEC4617AD3DF1ED5D5FD65612433F51F5F066ED0\
             856365553DED1AF3B557135E7F57C935984F0C70E0E68B77E2A689DAF3EFE8721DF158A136ADE735\
             30ACCA4F483A797ABC0AB182B324FB61D108A94BB2C8E3FBB96ADAB760D7F4681D4F42A3DE394DF4\
             AE56EDE76372BB190B07A7C8EE0A6D709E02FCE1CDF7E2ECC03404CD28342F619172FE9CE98583FF\
             8E4F1232EEF28183C3FE3B1B4C6FAD733BB5FCBC2EC22005C58EF1837D1683B2C6F34A26C1B2EFFA\
             886B423861285C97FFFFFFFFFFFFFFFF";
    let want = [
        &[0x30, 0x82, 0x01, 0x08, 0x02, 0x82, 0x01, 0x01, 0x00][..],
        &hex::decode(p).unwrap(),
        &[0x02, 0x01, 0x02],
    ]
    .concat();
    assert_eq!(pem.contents, want);
}
