//! The `dane` check (`dns.dane`): the TLSA records at `_25._tcp.<host>` match the
//! certificate Postfix serves on port 25 (STARTTLS on the host's public address, as a
//! sending server meets it), and the certificate file it is configured with. The
//! served one decides: a TLSA matching only the file fails (Postfix has not loaded it),
//! one matching only the served certificate warns (the next reload breaks DANE); each
//! differing certificate is named. Usage 3 (DANE-EE) with selector 0 or 1 and
//! matching 0, 1 or 2 is computed; other usages (trust anchors) are reported as not
//! checked. No TLSA visible is pending.

use super::dnsq::{ask, flag, lookup};
use super::tls_client::{handshake, start, target, Starttls};
use super::{Check, CheckCx, CheckResult, CheckStatus};
use crate::dns::decl::RType;
use crate::dns::record::Data;
use serde::Deserialize;
use sha2::{Digest, Sha256, Sha512};

/// The TLSA records of `host`'s port 25 match the certificate served there and `cert`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DaneCheck {
    /// This host's name.
    pub host: String,
    /// In-tree path of the certificate (PEM, leaf first).
    pub cert: String,
    /// `true` when the module publishes the TLSA record.
    pub enabled: String,
    /// The host's public address, where port 25 is asked (empty: 127.0.0.1, said so).
    #[serde(default)]
    pub address: String,
    /// Server to ask (empty: the first nameserver of /etc/resolv.conf).
    #[serde(default)]
    pub server: String,
}

/// A certificate (DER) and its public key (SPKI DER).
struct Leaf {
    der: Vec<u8>,
    spki: Vec<u8>,
}

fn leaf(der: &[u8]) -> Result<Leaf, String> {
    let (_, c) = x509_parser::parse_x509_certificate(der).map_err(|e| e.to_string())?;
    Ok(Leaf {
        der: der.to_vec(),
        spki: c.tbs_certificate.subject_pki.raw.to_vec(),
    })
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

impl DaneCheck {
    /// The certificate on disk, or the result to give (none yet: pending).
    fn file(&self, cx: &CheckCx) -> Result<Leaf, (CheckStatus, String)> {
        let pem = match cx.host.root.read(&self.cert) {
            Ok(Some(p)) => p,
            Ok(None) => {
                let why = format!("{}: no certificate yet", self.cert);
                return Err((CheckStatus::Pending, why));
            }
            Err(e) => return Err((CheckStatus::Fail, e.to_string())),
        };
        x509_parser::pem::parse_x509_pem(&pem)
            .map_err(|e| e.to_string())
            .and_then(|(_, b)| leaf(&b.contents))
            .map_err(|e| (CheckStatus::Fail, format!("{}: {e}", self.cert)))
    }

    /// The certificate served on port 25 after STARTTLS, and where it was asked.
    fn served(&self, cx: &CheckCx) -> (Result<Leaf, String>, String) {
        let (addr, at) = match target(&self.address, 25) {
            Ok(t) => t,
            Err(e) => return (Err(e), String::new()),
        };
        let got = (|| {
            let mut s = cx
                .host
                .net
                .tcp_connect(addr, cx.timeout)
                .map_err(|e| format!("cannot connect: {e}"))?;
            start(s.as_mut(), Starttls::Smtp, "localhost")?;
            let hs = handshake(s.as_mut(), self.host.trim(), false)?;
            let first = hs.chain.first().ok_or("no certificate presented")?;
            leaf(first.as_ref())
        })();
        (got, at)
    }
}

/// How many of `found` match `c`.
fn matching(found: &[(u32, Data)], c: &Leaf) -> usize {
    found
        .iter()
        .filter(|(_, d)| matches(d, &c.der, &c.spki) == Some(true))
        .count()
}

impl Check for DaneCheck {
    fn settles(&self) -> bool {
        true
    }

    fn probes(&self) -> bool {
        true
    }

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
        let file = match self.file(cx) {
            Ok(f) => f,
            Err((st, why)) => return r(st, why),
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
        let unchecked = found
            .iter()
            .filter(|(_, d)| matches(d, &[], &[]).is_none())
            .count();
        let n = found.len();
        let tail = match unchecked {
            0 => format!(" (TLSA at {server})"),
            u => format!(", {u} not DANE-EE, not checked (TLSA at {server})"),
        };
        if unchecked == n {
            return r(CheckStatus::Warn, format!("no DANE-EE record{tail}"));
        }
        let on_file = matching(&found, &file);
        let (served, where_) = self.served(cx);
        let served = match served {
            Ok(s) => s,
            Err(e) => {
                let why = format!(
                    "could not read the certificate served {where_}: {e}; {on_file} of {n} match {}{tail}",
                    self.cert
                );
                let st = match on_file {
                    0 => CheckStatus::Fail,
                    _ => CheckStatus::Warn,
                };
                return r(st, why).with_hint(hint);
            }
        };
        let on_wire = matching(&found, &served);
        let key_differs = match served.spki == file.spki {
            true => String::new(),
            false => format!("; its key differs from {}'s", self.cert),
        };
        let (st, detail, h) = match (on_wire, on_file) {
            (0, 0) => (
                CheckStatus::Fail,
                format!(
                    "none of {n} matches the certificate served {where_} nor {}{key_differs}",
                    self.cert
                ),
                hint,
            ),
            (0, k) => (
                CheckStatus::Fail,
                format!(
                    "none of {n} matches the certificate served {where_}{key_differs}; {k} match {}, which Postfix has not loaded",
                    self.cert
                ),
                "reload Postfix (`postfix reload`) so it serves the certificate the TLSA record names",
            ),
            (k, 0) => (
                CheckStatus::Warn,
                format!(
                    "{k} of {n} match the certificate served {where_}, none {}{key_differs}: the next reload breaks DANE",
                    self.cert
                ),
                "publish the TLSA record of the new certificate beside the old one before Postfix reloads",
            ),
            (k, _) => (
                CheckStatus::Pass,
                format!(
                    "{k} of {n} TLSA records match the certificate served {where_} and {}",
                    self.cert
                ),
                hint,
            ),
        };
        let res = r(st, format!("{detail}{tail}"));
        match st {
            CheckStatus::Pass => res,
            _ => res.with_hint(h),
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
        let sha512 = Sha512::digest(spki).to_vec();
        assert_eq!(
            matches(&tlsa(3, 1, 2, sha512.clone()), cert, spki),
            Some(true)
        );
        assert_eq!(matches(&tlsa(3, 0, 2, sha512), cert, spki), Some(false));
        assert_eq!(matches(&tlsa(3, 1, 3, vec![0]), cert, spki), None);
    }
}
