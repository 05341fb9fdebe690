//! The `certificate` check: the private key matches the certificate, the certificate
//! covers the wanted names, it is far enough from expiry, the key is not readable by
//! everyone, and, given a CA file, the chain verifies. Every file (and the key's mode) is
//! read through the host's root, symlinks resolved inside it, so it works on an offline
//! tree as well as on the live system.

use super::{Check, CheckCx, CheckResult, CheckStatus};
use crate::host::Host;
use crate::tls::check::assess;
use crate::tls::names::{one_or_many, split_names};
use crate::tls::{chain, fmt_time, parse_chain};
use rustls_pki_types::CertificateDer;
use serde::Deserialize;

fn warn_default() -> i64 {
    21
}
fn fail_default() -> i64 {
    7
}

/// A certificate and its key, checked together.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateCheck {
    /// In-tree path of the certificate in PEM (a chain file, leaf first, is fine).
    pub cert: String,
    /// In-tree path of its private key in PEM.
    pub key: String,
    /// Names the certificate must cover: a list, an item may hold several names
    /// separated by blanks or commas (an empty item is ignored).
    #[serde(default, deserialize_with = "one_or_many")]
    pub names: Vec<String>,
    /// In-tree path of CA certificates (PEM) the chain must verify against; absent or
    /// empty: the chain is not verified.
    #[serde(default)]
    pub ca_file: Option<String>,
    /// Pass with a warning when fewer days than this are left.
    #[serde(default = "warn_default")]
    pub warn_days: i64,
    /// Fail when fewer days than this are left.
    #[serde(default = "fail_default")]
    pub fail_days: i64,
    /// Skipped on an offline root: the certificate is made on the live system (certbot).
    #[serde(default)]
    pub live_only: bool,
}

impl Check for CertificateCheck {
    fn run(&self, cx: &CheckCx) -> CheckResult {
        run(self, cx.host)
    }
}

fn result(name: String, status: CheckStatus, detail: String) -> CheckResult {
    CheckResult::new(name, status, detail)
}

fn run(c: &CertificateCheck, host: &Host) -> CheckResult {
    let name = format!("certificate {}", c.cert);
    if c.live_only && !host.is_live() {
        let why = "offline root: the certificate is made on the live system";
        return result(name, CheckStatus::Skipped, why.into());
    }
    let read = |p: &str| host.root.read(p);
    let (cert, key) = match (read(&c.cert), read(&c.key)) {
        (Ok(cert), Ok(key)) => (cert, key),
        (Err(e), _) | (_, Err(e)) => return result(name, CheckStatus::Fail, e.to_string()),
    };
    let names = split_names(&c.names);
    let now = crate::tls::now();
    let mut a = assess(
        (&c.cert, cert.as_deref()),
        (&c.key, key.as_deref()),
        &names,
        now,
    );
    let mut facts = Vec::new();
    if key.is_some() {
        key_mode(host, &c.key, &mut a.problems);
    }
    let Some(leaf) = a.leaf.as_ref() else {
        return result(name, CheckStatus::Fail, a.problems.join("; "));
    };
    facts.push("key matches".to_string());
    if !names.is_empty() {
        facts.push(format!("covers {}", names.join(", ")));
    }
    let days = leaf.days_left(now);
    let expiry = format!("expires {} ({days} days)", fmt_time(leaf.not_after));
    if days < c.fail_days && now < leaf.not_after {
        a.problems
            .push(format!("{expiry}: fewer than {} days left", c.fail_days));
    }
    if let Some(ca) = c.ca_file.as_deref().filter(|p| !p.is_empty()) {
        match verify_chain(host, ca, &a.chain, now) {
            Ok(root) => facts.push(format!("chain verifies to {root}")),
            Err(e) => a.problems.push(format!("chain: {e}")),
        }
    }
    if !a.problems.is_empty() {
        return result(name, CheckStatus::Fail, a.problems.join("; "));
    }
    if days < c.warn_days {
        facts.insert(0, format!("renew soon: {expiry}"));
        return result(name, CheckStatus::Warn, facts.join("; "));
    }
    facts.push(expiry);
    result(name, CheckStatus::Pass, facts.join("; "))
}

fn key_mode(host: &Host, key: &str, problems: &mut Vec<String>) {
    use std::os::unix::fs::PermissionsExt;
    // Follow symbolic links (certbot's live/ names point into archive/), inside the
    // root: under an offline tree an absolute link points into the tree (`follow` has
    // resolved every link there; on the live system the OS follows them).
    let mode = host
        .root
        .follow(key)
        .ok()
        .and_then(|p| std::fs::metadata(p).ok())
        .map(|m| m.permissions().mode() & 0o7777);
    if let Some(m) = mode.filter(|m| m & 0o007 != 0) {
        problems.push(format!(
            "{key} is open to every user (mode {m:04o}); make it 0600 or 0640"
        ));
    }
}

fn verify_chain(
    host: &Host,
    ca_file: &str,
    chain: &[CertificateDer<'_>],
    now: i64,
) -> Result<String, String> {
    let data = host
        .root
        .read(ca_file)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("CA file {ca_file} does not exist"))?;
    let roots = parse_chain(&data).map_err(|e| format!("CA file {ca_file} {e}"))?;
    chain::verify(chain, &roots, now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::{Root, Runner};
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn key_mode_follows_a_relative_link_on_the_live_system() {
        // certbot's live/privkey.pem -> ../../archive/.../privkey1.pem: the link's own
        // mode (0777) is not the key's.
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("archive")).unwrap();
        std::fs::create_dir_all(dir.path().join("live")).unwrap();
        let real = dir.path().join("archive/privkey1.pem");
        std::fs::write(&real, "key").unwrap();
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o600)).unwrap();
        let link = dir.path().join("live/privkey.pem");
        std::os::unix::fs::symlink("../archive/privkey1.pem", &link).unwrap();
        let redactor = crate::redact::Redactor::new(Vec::new());
        let host = Host::new(
            Root::new("/"),
            Runner::new(std::time::Duration::from_secs(1), redactor),
        );
        let mut problems = Vec::new();
        key_mode(&host, &link.display().to_string(), &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o644)).unwrap();
        key_mode(&host, &link.display().to_string(), &mut problems);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("mode 0644"), "{problems:?}");
    }

    /// A self-signed certificate for `names` valid until `secs` from now, and its key,
    /// written to /c.pem and /k.pem (0600) under `dir`.
    fn fixture(dir: &std::path::Path, names: &[&str], secs: i64) {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut p =
            rcgen::CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .unwrap();
        let now = crate::tls::now();
        p.not_before = time::OffsetDateTime::from_unix_timestamp(now - 86_400).unwrap();
        p.not_after = time::OffsetDateTime::from_unix_timestamp(now + secs).unwrap();
        std::fs::write(dir.join("c.pem"), p.self_signed(&key).unwrap().pem()).unwrap();
        std::fs::write(dir.join("k.pem"), key.serialize_pem()).unwrap();
        std::fs::set_permissions(dir.join("k.pem"), std::fs::Permissions::from_mode(0o600))
            .unwrap();
    }

    fn check(dir: &std::path::Path, names: &[&str]) -> CheckResult {
        let c = CertificateCheck {
            cert: "/c.pem".into(),
            key: "/k.pem".into(),
            names: names.iter().map(|s| s.to_string()).collect(),
            ca_file: None,
            warn_days: 21,
            fail_days: 7,
            live_only: false,
        };
        let redactor = crate::redact::Redactor::new(Vec::new());
        let host = Host::new(
            Root::new(dir),
            Runner::new(std::time::Duration::from_secs(1), redactor),
        );
        run(&c, &host)
    }

    #[test]
    fn expiry_margins_count_whole_days_left_and_are_strict() {
        let dir = tempfile::tempdir().unwrap();
        // 7 whole days left: not fewer than 7, so a warning, not a failure.
        fixture(dir.path(), &["mail.example.test"], 7 * 86_400 + 3_600);
        let r = check(dir.path(), &["mail.example.test"]);
        assert_eq!(r.status, CheckStatus::Warn, "{}", r.detail);
        assert!(r.detail.contains("(7 days)"), "{}", r.detail);
        fixture(dir.path(), &["mail.example.test"], 6 * 86_400 + 3_600);
        assert_eq!(check(dir.path(), &[]).status, CheckStatus::Fail);
        // 21 whole days left: not fewer than 21, so no warning.
        fixture(dir.path(), &["mail.example.test"], 21 * 86_400 + 3_600);
        let r = check(dir.path(), &["mail.example.test"]);
        assert_eq!(r.status, CheckStatus::Pass, "{}", r.detail);
        assert!(
            r.detail
                .contains("key matches; covers mail.example.test; expires"),
            "{}",
            r.detail
        );
        fixture(dir.path(), &["mail.example.test"], 20 * 86_400 + 3_600);
        assert_eq!(check(dir.path(), &[]).status, CheckStatus::Warn);
        // No names asked: none claimed.
        let r = check(dir.path(), &[]);
        assert!(!r.detail.contains("covers"), "{}", r.detail);
    }
}
