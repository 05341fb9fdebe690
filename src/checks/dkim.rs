//! The `dkim` check: the private key the signer uses matches the public key published at
//! `<selector>._domainkey.<domain>`, as `opendkim-testkey` checks it, in-process: the key
//! file parses as RSA of at least `min_bits`, and a `v=DKIM1` TXT record there carries
//! the same public key (`p=`, not revoked, `k=rsa`). A record not visible (yet) is
//! pending, as in the `records` check; one visible with another key fails.

use super::dnsq::{lookup, server};
use super::{Check, CheckCx, CheckResult, CheckStatus};
use crate::dns::decl::RType;
use crate::dns::name::DName;
use crate::dns::record::Data;
use crate::dns::source::dkim_txt;
use data_encoding::BASE64;
use rsa::pkcs8::DecodePublicKey;
use rsa::traits::PublicKeyParts;
use serde::Deserialize;

fn default_min_bits() -> u32 {
    1024
}

/// The DKIM key at `key` matches the record `record`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DkimCheck {
    /// In-tree path of the signing key (PEM).
    pub key: String,
    /// The record's owner name (`<selector>._domainkey.<domain>`).
    pub record: String,
    /// Server to ask (empty or absent: the first nameserver of /etc/resolv.conf).
    #[serde(default)]
    pub server: String,
    /// Smallest acceptable key size (OpenDKIM's `MinimumKeyBits`).
    #[serde(default = "default_min_bits")]
    pub min_bits: u32,
}

/// The tags of a DKIM record (`v=DKIM1; k=rsa; p=...`), names lower-cased, values with
/// their folding whitespace removed.
pub fn tags(txt: &str) -> Vec<(String, String)> {
    txt.split(';')
        .filter_map(|t| {
            let (k, v) = t.split_once('=')?;
            let v: String = v.chars().filter(|c| !c.is_whitespace()).collect();
            Some((k.trim().to_ascii_lowercase(), v))
        })
        .collect()
}

fn tag<'a>(tags: &'a [(String, String)], name: &str) -> Option<&'a str> {
    tags.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Size in bits of the RSA key in a base64 SubjectPublicKeyInfo.
fn bits(p: &str) -> Result<usize, String> {
    let der = BASE64
        .decode(p.as_bytes())
        .map_err(|e| format!("p= is not base64: {e}"))?;
    let key = rsa::PublicKey::from_public_key_der(&der)
        .map_err(|e| format!("p= is not an RSA public key: {e}"))?;
    Ok(key.n().bit_width() as usize)
}

/// Judge the TXT records found at the name against our record's `p=`.
pub fn judge(ours: &str, found: &[String], min_bits: u32) -> (CheckStatus, String) {
    let dkim: Vec<Vec<(String, String)>> = found
        .iter()
        .map(|t| tags(t))
        .filter(|t| {
            tag(t, "v").is_none_or(|v| v.eq_ignore_ascii_case("DKIM1")) && tag(t, "p").is_some()
        })
        .collect();
    if dkim.is_empty() {
        return (CheckStatus::Pending, "no DKIM record visible yet".into());
    }
    let our_tags = tags(ours);
    let Some(our_p) = tag(&our_tags, "p") else {
        return (CheckStatus::Fail, "our own key gives no p= tag".into());
    };
    let size = match bits(our_p) {
        Ok(b) => b,
        Err(e) => return (CheckStatus::Fail, format!("the key: {e}")),
    };
    if size < min_bits as usize {
        return (
            CheckStatus::Fail,
            format!("the key has {size} bits, fewer than {min_bits}"),
        );
    }
    for t in &dkim {
        let k = tag(t, "k").unwrap_or("rsa");
        if tag(t, "p") == Some(our_p) && k.eq_ignore_ascii_case("rsa") {
            return (
                CheckStatus::Pass,
                format!("key matches the record ({size} bits)"),
            );
        }
    }
    let why = match dkim.iter().find_map(|t| tag(t, "p")) {
        Some("") => "the record is revoked (empty p=)".to_string(),
        _ => "the record publishes another key".to_string(),
    };
    (CheckStatus::Fail, why)
}

impl Check for DkimCheck {
    fn run(&self, cx: &CheckCx) -> CheckResult {
        let name = format!("DKIM key {} matches {}", self.key, self.record);
        if !cx.host.is_live() {
            return CheckResult::new(name, CheckStatus::Skipped, "offline root");
        }
        let ours = match dkim_txt(&cx.host.root, &self.key) {
            Ok(Some(t)) => t,
            Ok(None) => return CheckResult::new(name, CheckStatus::Fail, "no key file"),
            Err(e) => return CheckResult::new(name, CheckStatus::Fail, e.to_string()),
        };
        let owner = match DName::parse(&self.record) {
            Ok(n) => n,
            Err(e) => return CheckResult::new(name, CheckStatus::Fail, e),
        };
        let server = match server(cx, &self.server) {
            Ok(s) => s,
            Err(e) => return CheckResult::new(name, CheckStatus::Fail, e),
        };
        let answer = match lookup(cx, server).get(&owner, RType::Txt) {
            Ok(a) => a,
            Err(e) => {
                let why = format!("cannot resolve at {server}: {e}");
                return CheckResult::new(name, CheckStatus::Pending, why);
            }
        };
        let found: Vec<String> = answer
            .records
            .into_iter()
            .filter_map(|(_, d)| match d {
                Data::Txt(t) => Some(t),
                _ => None,
            })
            .collect();
        let (status, detail) = judge(&ours, &found, self.min_bits);
        CheckResult::new(name, status, format!("{detail} at {server}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::source::dkim_txt_pem;
    use rsa::pkcs1::{EncodeRsaPrivateKey, LineEnding};

    fn key(bits: usize) -> String {
        let k = rsa::PrivateKey::new(&mut getrandom::SysRng, bits).unwrap();
        let pem = k.to_pkcs1_pem(LineEnding::LF).unwrap();
        dkim_txt_pem(pem.as_bytes()).unwrap()
    }

    #[test]
    fn the_same_key_passes_another_fails_none_is_pending() {
        let (a, b) = (key(1024), key(1024));
        assert_eq!(
            judge(&a, std::slice::from_ref(&a), 1024).0,
            CheckStatus::Pass
        );
        // Folded as a zone file may split it, with other TXT records beside it.
        let p = a.split("p=").nth(1).unwrap();
        let folded = format!("v=DKIM1; k=rsa; p={} {}", &p[..40], &p[40..]);
        let found = ["google-site-verification=x".to_string(), folded];
        assert_eq!(judge(&a, &found, 1024).0, CheckStatus::Pass);
        assert_eq!(judge(&a, &[b], 1024).0, CheckStatus::Fail);
        assert_eq!(judge(&a, &[], 1024).0, CheckStatus::Pending);
        assert_eq!(
            judge(&a, &["v=spf1 -all".into()], 1024).0,
            CheckStatus::Pending
        );
        // A TXT record with neither v= nor p= (a verification token) is no DKIM record.
        assert_eq!(
            judge(&a, &["site-verification token".into()], 1024).0,
            CheckStatus::Pending
        );
        let (st, why) = judge(&a, &["v=DKIM1; p=".into()], 1024);
        assert_eq!(st, CheckStatus::Fail);
        assert!(why.contains("revoked"), "{why}");
    }

    #[test]
    fn a_key_below_the_minimum_fails() {
        let a = key(1024);
        let (st, why) = judge(&a, std::slice::from_ref(&a), 2048);
        assert_eq!(st, CheckStatus::Fail);
        assert!(why.contains("1024 bits"), "{why}");
    }

    #[test]
    fn a_declaration_without_min_bits_asks_for_1024() {
        let c: DkimCheck = serde_json::from_value(serde_json::json!({
            "key": "/etc/opendkim/keys/example.test/default.private",
            "record": "default._domainkey.example.test",
        }))
        .unwrap();
        assert_eq!(c.min_bits, 1024);
    }

    #[test]
    fn another_key_type_with_our_p_does_not_pass() {
        let a = key(1024);
        let p = a.split("p=").nth(1).unwrap();
        let ed = format!("v=DKIM1; k=ed25519; p={p}");
        assert_eq!(judge(&a, &[ed], 1024).0, CheckStatus::Fail);
    }
}
