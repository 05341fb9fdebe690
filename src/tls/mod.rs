//! TLS certificates and keys as firstboot checks and makes them: PEM chains parsed with
//! x509-parser ([`CertInfo`]), private keys read with ring ([`keys`]), names matched with
//! wildcards ([`names`]), chains verified with rustls-webpki ([`chain`]), and the
//! `certificate` check built from those ([`check`]).

pub mod chain;
pub mod check;
pub mod keys;
pub mod names;

use keys::{KeyAlg, PublicKey};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

/// What firstboot needs to know about one certificate.
#[derive(Debug, Clone)]
pub struct CertInfo {
    /// Subject common name (empty when there is none).
    pub subject_cn: String,
    /// DNS names it is valid for: its subjectAltName DNS entries, or its common name
    /// when it has none (as OpenSSL's host check does).
    pub dns_names: Vec<String>,
    /// Start of validity, seconds since the epoch.
    pub not_before: i64,
    /// End of validity, seconds since the epoch.
    pub not_after: i64,
    /// Its public key.
    pub public_key: PublicKey,
    /// SHA-256 of its DER SubjectPublicKeyInfo, hex: the DANE `3 1 1` value.
    pub spki_sha256: String,
}

/// Every certificate in a PEM file, in order (leaf first in a chain file). The error is
/// a reason to append to the file's name.
pub fn parse_chain(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("is not valid PEM: {e}"))?;
    if certs.is_empty() {
        return Err("holds no PEM certificate".into());
    }
    Ok(certs)
}

const OID_EC: &str = "1.2.840.10045.2.1";
const OID_RSA: &str = "1.2.840.113549.1.1.1";
const OID_ED25519: &str = "1.3.101.112";

/// Parse one DER certificate.
pub fn cert_info(der: &CertificateDer<'_>) -> Result<CertInfo, String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref())
        .map_err(|e| format!("is not a valid X.509 certificate: {e}"))?;
    let subject_cn = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .unwrap_or_default()
        .to_string();
    let mut dns_names = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for n in &san.value.general_names {
            if let x509_parser::extensions::GeneralName::DNSName(d) = n {
                dns_names.push(d.to_ascii_lowercase());
            }
        }
    }
    if dns_names.is_empty() && !subject_cn.is_empty() {
        dns_names.push(subject_cn.to_ascii_lowercase());
    }
    let spki = cert.public_key();
    let alg = match spki.algorithm.algorithm.to_id_string().as_str() {
        OID_EC => match spki.subject_public_key.data.len() {
            65 => KeyAlg::EcP256,
            97 => KeyAlg::EcP384,
            _ => KeyAlg::Other,
        },
        OID_RSA => KeyAlg::Rsa,
        OID_ED25519 => KeyAlg::Ed25519,
        _ => KeyAlg::Other,
    };
    Ok(CertInfo {
        subject_cn,
        dns_names,
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        public_key: PublicKey {
            alg,
            bytes: spki.subject_public_key.data.to_vec(),
        },
        spki_sha256: crate::digest::sha256_hex(spki.raw),
    })
}

/// Seconds since the epoch, now.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A timestamp as an RFC 3339 UTC date and time.
pub fn fmt_time(secs: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs.max(0) as u64);
    humantime::format_rfc3339_seconds(t).to_string()
}

impl CertInfo {
    /// Whole days from `now` until it expires (negative once expired).
    pub fn days_left(&self, now: i64) -> i64 {
        (self.not_after - now).div_euclid(86_400)
    }

    /// A few lines describing it (shown in plans as a diff instead of base64).
    pub fn describe(&self) -> String {
        format!(
            "subject: CN={}\nnames: {}\nnot before: {}\nnot after: {}\npublic key: {} (SPKI sha256 {})\n",
            self.subject_cn,
            self.dns_names.join(", "),
            fmt_time(self.not_before),
            fmt_time(self.not_after),
            self.public_key.alg,
            self.spki_sha256
        )
    }
}
