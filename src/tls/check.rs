//! The `certificate` check: the private key matches the certificate (same public key),
//! the certificate covers the wanted names, it is far enough from expiry, the key is not
//! readable by everyone, and, given a CA file, the chain verifies. Files are read through
//! the host's root, so it works on an offline tree as well as on the live system.

use super::names::{one_or_many, split_names, uncovered};
use super::{cert_info, chain, fmt_time, keys, parse_chain, CertInfo};
use crate::engine::checks::{CheckResult, CheckStatus};
use crate::host::Host;
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

/// What a certificate and key look like against the names wanted.
#[derive(Debug, Default)]
pub struct Assessment {
    /// The leaf certificate, when it could be read.
    pub leaf: Option<CertInfo>,
    /// Every certificate of the file, leaf first.
    pub chain: Vec<CertificateDer<'static>>,
    /// What is wrong, one sentence each (never any key material).
    pub problems: Vec<String>,
}

impl Assessment {
    /// Whole days until the leaf expires (`None` when it could not be read).
    pub fn days_left(&self, now: i64) -> Option<i64> {
        self.leaf.as_ref().map(|l| l.days_left(now))
    }
}

/// Read and compare: the certificate parses, the key parses and matches it, the names
/// are covered, and it is within its validity period at `now`.
pub fn assess(
    (cert_path, cert): (&str, Option<&[u8]>),
    (key_path, key): (&str, Option<&[u8]>),
    names: &[String],
    now: i64,
) -> Assessment {
    let mut a = Assessment::default();
    let leaf = match cert.map(parse_chain) {
        None => Err(format!("{cert_path} does not exist")),
        Some(Err(e)) => Err(format!("{cert_path} {e}")),
        Some(Ok(chain)) => {
            let leaf = cert_info(&chain[0]).map_err(|e| format!("{cert_path} {e}"));
            a.chain = chain;
            leaf
        }
    };
    let leaf = match leaf {
        Ok(l) => l,
        Err(e) => {
            a.problems.push(e);
            return a;
        }
    };
    match key.map(keys::public_of_private) {
        None => a.problems.push(format!("{key_path} does not exist")),
        Some(Err(e)) => a.problems.push(format!("{key_path} {e}")),
        Some(Ok(pk)) if pk != leaf.public_key => a.problems.push(format!(
            "the private key in {key_path} does not match the certificate's public key"
        )),
        Some(Ok(_)) => {}
    }
    let missing = uncovered(&leaf.dns_names, names);
    if !missing.is_empty() {
        a.problems.push(format!(
            "it does not cover {} (it covers {})",
            missing.join(", "),
            leaf.dns_names.join(", ")
        ));
    }
    if now < leaf.not_before {
        a.problems.push(format!(
            "it is not valid before {}",
            fmt_time(leaf.not_before)
        ));
    }
    if now >= leaf.not_after {
        a.problems
            .push(format!("it expired on {}", fmt_time(leaf.not_after)));
    }
    a.leaf = Some(leaf);
    a
}

fn result(name: String, status: CheckStatus, detail: String) -> CheckResult {
    CheckResult {
        name,
        status,
        detail,
    }
}

/// Run the check against `host`.
pub fn run(c: &CertificateCheck, host: &Host) -> CheckResult {
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
    let now = super::now();
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
    // Follow symbolic links: certbot's live/ names point into archive/.
    let mode = host
        .root
        .path(key)
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
