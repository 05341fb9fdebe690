//! A certificate and its key assessed together: the key matches the certificate (same
//! public key), the certificate covers the wanted names and is within its validity. The
//! verdict of this library is an [`Assessment`]; `src/checks/certificate.rs` reads the
//! files through the root and adds expiry margins, key mode and the chain.

use super::names::uncovered;
use super::{cert_info, fmt_time, keys, parse_chain, CertInfo};
use rustls_pki_types::CertificateDer;

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
