//! Private keys: the public key a PEM private key holds (PKCS#8, PKCS#1 RSA or SEC1 EC),
//! to compare with a certificate's. ring parses the key and checks its components are
//! consistent. Nothing here ever puts key material into an error or a log line.

use ring::rand::SystemRandom;
use ring::signature::{self, KeyPair as _};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::PrivateKeyDer;

/// A public key algorithm family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlg {
    /// ECDSA on P-256.
    EcP256,
    /// ECDSA on P-384.
    EcP384,
    /// RSA.
    Rsa,
    /// Ed25519.
    Ed25519,
    /// Anything else (not supported for keys).
    Other,
}

impl std::fmt::Display for KeyAlg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            KeyAlg::EcP256 => "ECDSA P-256",
            KeyAlg::EcP384 => "ECDSA P-384",
            KeyAlg::Rsa => "RSA",
            KeyAlg::Ed25519 => "Ed25519",
            KeyAlg::Other => "unknown algorithm",
        })
    }
}

/// A public key: its algorithm and the contents of a SubjectPublicKeyInfo's BIT STRING
/// (an EC point, an RSAPublicKey, or the 32 Ed25519 bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    /// Algorithm family.
    pub alg: KeyAlg,
    /// The key bits.
    pub bytes: Vec<u8>,
}

const UNSUPPORTED: &str = "is not a usable private key (supported: unencrypted PEM \
    `PRIVATE KEY`, `RSA PRIVATE KEY` or `EC PRIVATE KEY`; ECDSA P-256/P-384, RSA 2048-8192 \
    bits, Ed25519)";

/// The public key of the first private key in `pem`. The error is a reason to append
/// to the file's name; it never contains key material.
pub fn public_of_private(pem: &[u8]) -> Result<PublicKey, String> {
    let key = PrivateKeyDer::from_pem_slice(pem).map_err(|_| UNSUPPORTED.to_string())?;
    match key {
        PrivateKeyDer::Pkcs8(k) => from_pkcs8(k.secret_pkcs8_der()),
        PrivateKeyDer::Pkcs1(k) => signature::RsaKeyPair::from_der(k.secret_pkcs1_der())
            .map(|kp| PublicKey {
                alg: KeyAlg::Rsa,
                bytes: kp.public_key().as_ref().to_vec(),
            })
            .map_err(|_| UNSUPPORTED.to_string()),
        PrivateKeyDer::Sec1(k) => {
            let der = k.secret_sec1_der();
            sec1_curves(der)
                .into_iter()
                .find_map(|curve| from_pkcs8(&sec1_to_pkcs8(der, curve)).ok())
                .ok_or_else(|| UNSUPPORTED.to_string())
        }
        _ => Err(UNSUPPORTED.to_string()),
    }
}

fn from_pkcs8(der: &[u8]) -> Result<PublicKey, String> {
    let rng = SystemRandom::new();
    for (alg, ring_alg) in [
        (KeyAlg::EcP256, &signature::ECDSA_P256_SHA256_ASN1_SIGNING),
        (KeyAlg::EcP384, &signature::ECDSA_P384_SHA384_ASN1_SIGNING),
    ] {
        if let Ok(kp) = signature::EcdsaKeyPair::from_pkcs8(ring_alg, der, &rng) {
            return Ok(PublicKey {
                alg,
                bytes: kp.public_key().as_ref().to_vec(),
            });
        }
    }
    if let Ok(kp) = signature::RsaKeyPair::from_pkcs8(der) {
        return Ok(PublicKey {
            alg: KeyAlg::Rsa,
            bytes: kp.public_key().as_ref().to_vec(),
        });
    }
    if let Ok(kp) = signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(der) {
        return Ok(PublicKey {
            alg: KeyAlg::Ed25519,
            bytes: kp.public_key().as_ref().to_vec(),
        });
    }
    Err(UNSUPPORTED.to_string())
}

/// DER of the named-curve OIDs (with tag and length).
const P256_OID: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const P384_OID: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];
const EC_PUBLIC_KEY_OID: &[u8] = &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];

/// One DER element: (tag, contents, rest). Lengths up to 64 KiB.
fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = match first {
        n if n < 0x80 => (n as usize, rest),
        0x81 => (*rest.first()? as usize, rest.get(1..)?),
        0x82 => (
            u16::from_be_bytes([*rest.first()?, *rest.get(1)?]) as usize,
            rest.get(2..)?,
        ),
        _ => return None,
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// The curves a SEC1 `ECPrivateKey` may be on: the one its `[0]` parameters name, or
/// both supported ones when it names none.
fn sec1_curves(der: &[u8]) -> Vec<&'static [u8]> {
    let mut fields = match tlv(der) {
        Some((0x30, body, _)) => body,
        _ => return Vec::new(),
    };
    while let Some((tag, body, rest)) = tlv(fields) {
        if tag == 0xa0 {
            return [P256_OID, P384_OID]
                .into_iter()
                .filter(|oid| body == *oid)
                .collect();
        }
        fields = rest;
    }
    vec![P256_OID, P384_OID]
}

fn der(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    match body.len() {
        n if n < 0x80 => out.push(n as u8),
        n if n < 0x100 => out.extend([0x81, n as u8]),
        n => out.extend([0x82, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(body);
    out
}

/// A SEC1 key wrapped as PKCS#8 (RFC 5915 in RFC 5208), the form ring reads.
fn sec1_to_pkcs8(sec1: &[u8], curve_oid: &[u8]) -> Vec<u8> {
    let alg = der(0x30, &[EC_PUBLIC_KEY_OID, curve_oid].concat());
    let body = [&[0x02, 0x01, 0x00][..], &alg, &der(0x04, sec1)].concat();
    der(0x30, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkcs8_and_sec1_keys_give_the_same_public_key() {
        let kp = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let pkcs8 = public_of_private(kp.serialize_pem().as_bytes()).unwrap();
        assert_eq!(pkcs8.alg, KeyAlg::EcP256);
        assert_eq!(pkcs8.bytes, kp.public_key_raw());
        // The ECPrivateKey inside ring's PKCS#8, as a SEC1 PEM without curve parameters.
        let doc = kp.serialize_der();
        let (_, outer, _) = tlv(&doc).unwrap();
        let (_, _, rest) = tlv(outer).unwrap(); // version
        let (_, _, rest) = tlv(rest).unwrap(); // algorithm
        let (_, sec1, _) = tlv(rest).unwrap(); // OCTET STRING
        let pem = format!(
            "-----BEGIN EC PRIVATE KEY-----\n{}\n-----END EC PRIVATE KEY-----\n",
            data_encoding::BASE64.encode(sec1)
        );
        assert_eq!(public_of_private(pem.as_bytes()).unwrap(), pkcs8);
        let err =
            public_of_private(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
                .unwrap_err();
        assert!(err.contains("not a usable private key"), "{err}");
    }
}
