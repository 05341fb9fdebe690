//! The `certificate` check through `firstboot validate ssl` with provider `existing`:
//! it fails on a key that does not match, on expiry (and warns before), on a name the
//! certificate does not cover, and on a chain that does not reach `ssl.ca_file`. Fixtures
//! are made at test time with rcgen (ECDSA P-256: milliseconds).

mod common;
use common::*;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use std::os::unix::fs::PermissionsExt;

const DAY: i64 = 86_400;

fn now() -> i64 {
    firstboot::tls::now()
}

/// A key and a certificate for `names`, valid from `from` to `to` (seconds from now),
/// signed by `ca` (or self-signed).
fn fixture(names: &[&str], from: i64, to: i64, ca: Option<&Ca>) -> (String, String) {
    let key = KeyPair::generate().unwrap();
    let mut p =
        CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    p.not_before = time::OffsetDateTime::from_unix_timestamp(now() + from).unwrap();
    p.not_after = time::OffsetDateTime::from_unix_timestamp(now() + to).unwrap();
    let cert = match ca {
        Some(ca) => p
            .signed_by(&key, &Issuer::new(ca.params.clone(), &ca.key))
            .unwrap(),
        None => p.self_signed(&key).unwrap(),
    };
    (cert.pem(), key.serialize_pem())
}

struct Ca {
    params: CertificateParams,
    key: KeyPair,
    pem: String,
}

fn ca(name: &str) -> Ca {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let pem = params.self_signed(&key).unwrap().pem();
    Ca { params, key, pem }
}

/// A tree using the given certificate and key as provider `existing`.
fn existing(cert: &str, key: &str, extra: &str) -> Tree {
    let t = Tree::new(&format!(
        "{CONFIG}ssl:\n  provider: existing\n  existing: {{cert: /srv/tls/cert.pem, key: /srv/tls/key.pem}}\n{extra}"
    ));
    t.write("/srv/tls/cert.pem", cert);
    t.write("/srv/tls/key.pem", key);
    std::fs::set_permissions(
        t.path("/srv/tls/key.pem"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    t
}

/// `firstboot validate ssl`: (exit code, `STATUS name: detail` of the certificate check,
/// read from `--json` as a script would).
fn validate(t: &Tree) -> (Option<i32>, String) {
    let o = t.fb(&["validate", "--profile", "standard", "ssl", "--json"]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
    let line = doc["modules"][0]["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| {
            c["name"]
                .as_str()
                .unwrap_or("")
                .contains("/srv/tls/cert.pem")
        })
        .map(|c| {
            format!(
                "{} {}: {}",
                c["status"].as_str().unwrap_or("").to_uppercase(),
                c["name"].as_str().unwrap_or(""),
                c["detail"].as_str().unwrap_or("")
            )
        })
        .unwrap_or_default();
    (o.status.code(), line)
}

#[test]
fn certificate_check_fails_on_a_key_that_does_not_match() {
    let (cert, _) = fixture(&["mail.example.test"], -DAY, 90 * DAY, None);
    let (_, other_key) = fixture(&["mail.example.test"], -DAY, 90 * DAY, None);
    let t = existing(&cert, &other_key, "");
    let (code, line) = validate(&t);
    assert_eq!(code, Some(1), "{line}");
    assert!(
        line.contains("FAIL") && line.contains("does not match the certificate's public key"),
        "{line}"
    );
    assert!(!line.contains(other_key.lines().nth(1).unwrap()));
    // The run itself fails on it and changes nothing of the user's files.
    let o = t.fb(&["run", "--profile", "standard", "--only", "ssl"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("does not match"), "{}", stderr(&o));
    assert_eq!(t.read("/srv/tls/key.pem"), other_key);
}

#[test]
fn certificate_check_fails_when_expired_or_close_to_expiry_and_warns_before() {
    let (cert, key) = fixture(&["mail.example.test"], -90 * DAY, -DAY, None);
    let (code, line) = validate(&existing(&cert, &key, ""));
    assert_eq!(code, Some(1));
    assert!(
        line.contains("FAIL") && line.contains("expired on"),
        "{line}"
    );

    let (cert, key) = fixture(&["mail.example.test"], -DAY, 3 * DAY + 600, None);
    let (code, line) = validate(&existing(&cert, &key, ""));
    assert_eq!(code, Some(1));
    assert!(line.contains("fewer than 7 days left"), "{line}");

    let (cert, key) = fixture(&["mail.example.test"], -DAY, 10 * DAY + 600, None);
    let (code, line) = validate(&existing(&cert, &key, ""));
    assert_eq!(code, Some(0), "a warning is not a failure: {line}");
    assert!(
        line.contains("WARN") && line.contains("(10 days)"),
        "{line}"
    );
}

#[test]
fn certificate_check_fails_on_an_uncovered_name_and_accepts_a_wildcard() {
    let (cert, key) = fixture(&["www.example.test"], -DAY, 90 * DAY, None);
    let (code, line) = validate(&existing(&cert, &key, ""));
    assert_eq!(code, Some(1));
    assert!(
        line.contains("does not cover mail.example.test (it covers www.example.test)"),
        "{line}"
    );
    let (cert, key) = fixture(&["*.example.test"], -DAY, 90 * DAY, None);
    let (code, line) = validate(&existing(
        &cert,
        &key,
        "  extra_names: [smtp.example.test]\n",
    ));
    assert_eq!(code, Some(0), "{line}");
    assert!(line.contains("PASS"), "{line}");
}

#[test]
fn certificate_check_verifies_the_chain_against_ca_file() {
    let good = ca("Test Root A");
    let bad = ca("Test Root B");
    let (cert, key) = fixture(&["mail.example.test"], -DAY, 90 * DAY, Some(&good));
    for (root, pass) in [(&good, true), (&bad, false)] {
        let t = existing(&cert, &key, "  ca_file: /srv/tls/ca.pem\n");
        t.write("/srv/tls/ca.pem", &root.pem);
        let (code, line) = validate(&t);
        if pass {
            assert_eq!(code, Some(0), "{line}");
            assert!(line.contains("chain verifies to Test Root A"), "{line}");
        } else {
            assert_eq!(code, Some(1), "{line}");
            assert!(line.contains("does not chain"), "{line}");
        }
    }
}

#[test]
fn key_mode_is_read_through_the_root_when_the_key_is_an_absolute_symlink() {
    // In an image, /srv/tls/key.pem -> /etc/fb-test/key.pem points into the image. The
    // build machine's /etc/hostname (0644) must not be what the check looks at.
    let (cert, key) = fixture(&["mail.example.test"], -DAY, 90 * DAY, None);
    let t = existing(&cert, &key, "");
    std::fs::remove_file(t.path("/srv/tls/key.pem")).unwrap();
    t.write("/etc/hostname", &key);
    std::fs::set_permissions(
        t.path("/etc/hostname"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    std::os::unix::fs::symlink("/etc/hostname", t.path("/srv/tls/key.pem")).unwrap();
    let (code, line) = validate(&t);
    assert_eq!(code, Some(0), "{line}");
    assert!(line.contains("PASS"), "{line}");
    // And a key open to everyone inside the tree is still found.
    std::fs::set_permissions(
        t.path("/etc/hostname"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let (code, line) = validate(&t);
    assert_eq!(code, Some(1), "{line}");
    assert!(line.contains("is open to every user (mode 0644)"), "{line}");
}

#[test]
fn validate_writes_its_check_lines_to_the_log_as_run_does() {
    let (cert, key) = fixture(&["mail.example.test"], -DAY, 90 * DAY, None);
    let t = existing(&cert, &key, "");
    let (code, line) = validate(&t);
    assert_eq!(code, Some(0), "{line}");
    let log = t.read("/var/log/firstboot/7-ssl_config.log");
    assert!(
        log.contains("check ssl.certificate certificate /srv/tls/cert.pem: PASS key matches"),
        "{log}"
    );
}
