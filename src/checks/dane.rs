//! The `dane` check (`dns.dane`): the TLSA records at `_25._tcp.<host>` match the
//! certificate. The certificate compared is the one on disk (the file Postfix is
//! configured with); comparing with the one served on port 25 needs the TLS probe.
//! Usage 3 (DANE-EE) with selector 0 or 1 and matching 0, 1 or 2 is computed; other
//! usages (trust anchors) are reported as not checked. No TLSA visible is pending; none
//! matching fails.

use super::dnsq::{ask, flag, lookup};
use super::{Check, CheckCx, CheckResult, CheckStatus};
use crate::dns::decl::RType;
use crate::dns::record::Data;
use serde::Deserialize;
use sha2::{Digest, Sha256, Sha512};

/// The TLSA records of `host`'s port 25 match `cert`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DaneCheck {
    /// This host's name.
    pub host: String,
    /// In-tree path of the certificate (PEM, leaf first).
    pub cert: String,
    /// `true` when the module publishes the TLSA record.
    pub enabled: String,
    /// Server to ask (empty: the first nameserver of /etc/resolv.conf).
    #[serde(default)]
    pub server: String,
}

/// Whether a DANE-EE TLSA record matches the certificate (DER) and its key (SPKI DER).
pub fn matches(d: &Data, cert: &[u8], spki: &[u8]) -> Option<bool> {
    let Data::Tlsa {
        usage: 3,
        selector,
        matching,
        data,
    } = d
    else {
        return None;
    };
    let what = match selector {
        0 => cert,
        1 => spki,
        _ => return None,
    };
    Some(match matching {
        0 => what == data.as_slice(),
        1 => Sha256::digest(what).as_slice() == data.as_slice(),
        2 => Sha512::digest(what).as_slice() == data.as_slice(),
        _ => return None,
    })
}

impl Check for DaneCheck {
    fn run(&self, cx: &CheckCx) -> CheckResult {
        let title = format!("TLSA of _25._tcp.{} matches the certificate", self.host);
        let r = |st, d: String| CheckResult::new(title.clone(), st, d);
        if !flag(&self.enabled) {
            return r(
                CheckStatus::Skipped,
                "not configured (dns.tlsa is false or no certificate)".into(),
            );
        }
        if !cx.host.is_live() {
            return r(CheckStatus::Skipped, "offline root".into());
        }
        let pem = match cx.host.root.read(&self.cert) {
            Ok(Some(p)) => p,
            Ok(None) => {
                return r(
                    CheckStatus::Pending,
                    format!("{}: no certificate yet", self.cert),
                )
            }
            Err(e) => return r(CheckStatus::Fail, e.to_string()),
        };
        let parsed = x509_parser::pem::parse_x509_pem(&pem).map_err(|e| e.to_string());
        let (cert_der, spki) = match parsed.and_then(|(_, b)| {
            let c = b.parse_x509().map_err(|e| e.to_string())?;
            Ok((
                b.contents.clone(),
                c.tbs_certificate.subject_pki.raw.to_vec(),
            ))
        }) {
            Ok(x) => x,
            Err(e) => return r(CheckStatus::Fail, format!("{}: {e}", self.cert)),
        };
        let (at, server) = match ask(cx, &format!("_25._tcp.{}", self.host), &self.server) {
            Ok(v) => v,
            Err(e) => return r(CheckStatus::Fail, e),
        };
        let found = match lookup(cx, server).get(&at, RType::Tlsa) {
            Ok(a) => a.records,
            Err(e) => return r(CheckStatus::Pending, format!("cannot resolve: {e}")),
        };
        let hint = "publish the TLSA record `firstboot records` shows (before a key change: both)";
        if found.is_empty() {
            return r(
                CheckStatus::Pending,
                format!("no TLSA visible at {server} yet"),
            )
            .with_hint(hint);
        }
        let verdicts: Vec<Option<bool>> = found
            .iter()
            .map(|(_, d)| matches(d, &cert_der, &spki))
            .collect();
        let ok = verdicts.iter().filter(|v| **v == Some(true)).count();
        let unchecked = verdicts.iter().filter(|v| v.is_none()).count();
        let detail = format!(
            "{ok} of {} TLSA records match {}{} (at {server})",
            found.len(),
            self.cert,
            if unchecked > 0 {
                format!(", {unchecked} not DANE-EE (not checked)")
            } else {
                String::new()
            }
        );
        if ok > 0 {
            r(CheckStatus::Pass, detail)
        } else if unchecked == found.len() {
            r(CheckStatus::Warn, detail)
        } else {
            r(CheckStatus::Fail, detail).with_hint(hint)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dane_ee_records_match_the_key_or_certificate_others_are_not_judged() {
        let (cert, spki) = (b"certificate".as_slice(), b"public key".as_slice());
        let tlsa = |usage, selector, matching, data: Vec<u8>| Data::Tlsa {
            usage,
            selector,
            matching,
            data,
        };
        let key_hash = Sha256::digest(spki).to_vec();
        assert_eq!(
            matches(&tlsa(3, 1, 1, key_hash.clone()), cert, spki),
            Some(true)
        );
        assert_eq!(
            matches(&tlsa(3, 0, 0, cert.to_vec()), cert, spki),
            Some(true)
        );
        let other = Sha256::digest(b"another key").to_vec();
        assert_eq!(matches(&tlsa(3, 1, 1, other), cert, spki), Some(false));
        assert_eq!(matches(&tlsa(2, 1, 1, key_hash), cert, spki), None);
    }
}
