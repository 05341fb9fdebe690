//! 7-ssl_config: the self-signed certificate is made on the first boot of each instance,
//! never into an image (an offline root); on a live host (fakes) it is made once and
//! then left alone and reissued with the key kept for a new name; acme (key, request,
//! retry cron file) is planned, not run, offline (on fakes: `acme_fake.rs`), the shipped DH group is RFC 7919's,
//! and bad ssl inputs are refused naming the key. The certificate check's failures are in
//! `ssl_check.rs`.

mod common;
use common::rig::{rig, steps, Rig};
use common::*;

const CRT: &str = "/etc/firstboot/ssl/mail.example.test.crt";
const KEY: &str = "/etc/firstboot/ssl/mail.example.test.key";

fn ssl_run(t: &Tree, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["run", "--profile", "standard", "--only", "ssl"];
    args.extend_from_slice(extra);
    t.fb(&args)
}

#[test]
fn self_signed_is_made_on_the_first_boot_not_into_an_image() {
    // An offline --root is an image being built: a key made there would be shared by
    // every instance started from it.
    let t = Tree::new(CONFIG);
    let plan = t.fb(&["plan", "--profile", "standard", "--only", "ssl"]);
    ok(&plan);
    let p = stdout(&plan);
    assert!(
        p.contains("action self_signed_cert")
            && p.contains(
                "on the first boot of each instance (host-unique: never made into an image)"
            ),
        "{p}"
    );
    ok(&ssl_run(&t, &[]));
    assert!(!t.exists(KEY) && !t.exists(CRT), "no key in the image");
    let v = t.fb(&["validate", "--profile", "standard", "ssl"]);
    ok(&v);
    let out = stdout(&v).split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        out.contains(&format!("SKIP ssl.certificate certificate {CRT}")),
        "{out}"
    );
    assert!(
        out.contains(&format!("SKIP ssl.key_mode file {KEY}")),
        "{out}"
    );
}

fn self_signed(names: &[&str]) -> Vec<firstboot::steps::StepKind> {
    steps(&[serde_json::json!({"action": {"self_signed_cert": {
        "cert": CRT, "key": KEY, "names": names, "group": "root"
    }}})])
}

#[test]
fn self_signed_is_issued_once_and_then_left_alone() {
    use firstboot::steps::Change;
    let mut r = rig();
    let s = self_signed(&["mail.example.test", "smtp.example.test imap.example.test"]);
    let first = r.plan(&s);
    assert!(
        matches!(first[0].change, Change::Create { .. }),
        "{first:?}"
    );
    r.apply(&s).unwrap();
    assert_eq!(
        names_at(&r, CRT),
        [
            "mail.example.test",
            "smtp.example.test",
            "imap.example.test"
        ]
    );
    let mode = |p: &str| {
        std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(r.path(p)).unwrap().permissions(),
        ) & 0o7777
    };
    assert_eq!((mode(KEY), mode(CRT)), (0o640, 0o644));
    let key_text = r.read(KEY).unwrap();
    assert!(key_text.starts_with("-----BEGIN PRIVATE KEY-----"));
    let key_body = key_text.lines().nth(1).unwrap().to_string();
    let mtime = |r: &Rig, p: &str| std::fs::metadata(r.path(p)).unwrap().modified().unwrap();
    let before = (r.read(CRT), mtime(&r, CRT), mtime(&r, KEY));

    let second = r.plan(&s);
    assert_eq!(second[0].change, Change::None, "{second:?}");
    assert!(second[0].summary.contains("valid until"), "{second:?}");
    r.apply(&s).unwrap();
    assert_eq!(
        before,
        (r.read(CRT), mtime(&r, CRT), mtime(&r, KEY)),
        "left alone"
    );
    // The key never reaches what a plan shows.
    for p in first.iter().chain(&second) {
        let shown = serde_json::to_string(p).unwrap();
        assert!(!shown.contains(&key_body), "key material shown: {shown}");
    }
}

fn names_at(r: &Rig, path: &str) -> Vec<String> {
    let chain = firstboot::tls::parse_chain(r.read(path).unwrap().as_bytes()).unwrap();
    firstboot::tls::cert_info(&chain[0]).unwrap().dns_names
}

#[test]
fn a_new_name_reissues_the_certificate_and_keeps_the_key() {
    let mut r = rig();
    r.apply(&self_signed(&["mail.example.test"])).unwrap();
    let (key, cert) = (r.read(KEY), r.read(CRT));
    let s = self_signed(&["mail.example.test", "smtp.example.test"]);
    let plan = serde_json::to_string(&r.plan(&s)).unwrap();
    assert!(
        plan.contains("it does not cover smtp.example.test") && plan.contains("key kept"),
        "{plan}"
    );
    assert!(
        plan.contains("-names: mail.example.test")
            && plan.contains("+names: mail.example.test, smtp.example.test"),
        "readable diff:\n{plan}"
    );
    r.apply(&s).unwrap();
    assert_ne!(r.read(CRT), cert);
    assert_eq!(r.read(KEY), key, "key kept");
    assert_eq!(
        names_at(&r, CRT),
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
fn acme_under_an_offline_root_plans_the_request_and_skips_it() {
    let t = Tree::new(&format!(
        "{CONFIG}ssl:\n  provider: acme\n  extra_names: [smtp.example.test]\n  acme: {{directory: \"https://acme.example.test:14000/dir\", agree_tos: true, ca_bundle: /etc/ca.pem}}\n"
    ));
    let o = ssl_run(&t, &[]);
    ok(&o);
    let out = stdout(&o);
    for part in [
        "action acme_cert /etc/firstboot/ssl/mail.example.test.crt: make a key and ask https://acme.example.test:14000/dir for a certificate for mail.example.test, smtp.example.test on the first boot of each instance",
        "offline root: recorded, not run",
        "file /etc/cron.d/firstboot-acme: create",
    ] {
        assert!(out.contains(part), "{part:?} not in:\n{out}");
    }
    assert!(!t.exists(KEY), "a key was made into an image");
    assert!(t
        .read("/etc/cron.d/firstboot-acme")
        .contains("root firstboot acme renew"));
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
