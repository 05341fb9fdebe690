//! Record values computed from files: a DANE TLSA `3 1 1` from a certificate's public
//! key, and a DKIM TXT from an RSA key. A file that does not exist yet gives `None`
//! (the record is pending); a file that exists but cannot be used is an error.

use super::record::Data;
use super::DnsError;
use crate::host::Root;
use data_encoding::BASE64;
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey};
use sha2::{Digest, Sha256};

fn read(root: &Root, path: &str) -> Result<Option<Vec<u8>>, DnsError> {
    root.read(path).map_err(|e| DnsError::Source {
        path: path.to_string(),
        reason: e.to_string(),
    })
}

/// TLSA `3 1 1` (DANE-EE, SubjectPublicKeyInfo, SHA-256) of the first certificate of
/// the PEM file at `path` (a full chain starts with the leaf).
pub fn tlsa_311(root: &Root, path: &str) -> Result<Option<Data>, DnsError> {
    let Some(pem) = read(root, path)? else {
        return Ok(None);
    };
    Ok(Some(tlsa_311_pem(&pem).map_err(|reason| {
        DnsError::Source {
            path: path.to_string(),
            reason,
        }
    })?))
}

/// TLSA `3 1 1` of the first certificate in PEM text.
pub fn tlsa_311_pem(pem: &[u8]) -> Result<Data, String> {
    let (_, block) =
        x509_parser::pem::parse_x509_pem(pem).map_err(|e| format!("not a PEM certificate: {e}"))?;
    let cert = block
        .parse_x509()
        .map_err(|e| format!("not an X.509 certificate: {e}"))?;
    Ok(Data::Tlsa {
        usage: 3,
        selector: 1,
        matching: 1,
        data: Sha256::digest(cert.tbs_certificate.subject_pki.raw).to_vec(),
    })
}

/// The DKIM record text (`v=DKIM1; k=rsa; p=<base64 SubjectPublicKeyInfo>`) of the PEM
/// RSA key at `path` (PKCS#1 or PKCS#8 private key, or a public key).
pub fn dkim_txt(root: &Root, path: &str) -> Result<Option<String>, DnsError> {
    let Some(pem) = read(root, path)? else {
        return Ok(None);
    };
    Ok(Some(dkim_txt_pem(&pem).map_err(|reason| {
        DnsError::Source {
            path: path.to_string(),
            reason,
        }
    })?))
}

/// The DKIM record text of a PEM RSA key.
pub fn dkim_txt_pem(pem: &[u8]) -> Result<String, String> {
    let text = std::str::from_utf8(pem).map_err(|_| "not a PEM file (not text)".to_string())?;
    let public = if text.contains("-----BEGIN RSA PRIVATE KEY-----") {
        rsa::PrivateKey::from_pkcs1_pem(text)
            .map(|k| k.to_public_key())
            .map_err(|e| format!("not a PKCS#1 RSA private key: {e}"))?
    } else if text.contains("-----BEGIN PRIVATE KEY-----") {
        rsa::PrivateKey::from_pkcs8_pem(text)
            .map(|k| k.to_public_key())
            .map_err(|e| format!("not a PKCS#8 RSA private key: {e}"))?
    } else if text.contains("-----BEGIN RSA PUBLIC KEY-----") {
        rsa::PublicKey::from_pkcs1_pem(text)
            .map_err(|e| format!("not a PKCS#1 RSA public key: {e}"))?
    } else if text.contains("-----BEGIN PUBLIC KEY-----") {
        rsa::PublicKey::from_public_key_pem(text)
            .map_err(|e| format!("not an RSA public key: {e}"))?
    } else {
        return Err("no PEM RSA key found".into());
    };
    let der = public
        .to_public_key_der()
        .map_err(|e| format!("cannot encode the public key: {e}"))?;
    Ok(format!(
        "v=DKIM1; k=rsa; p={}",
        BASE64.encode(der.as_bytes())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::record::txt_chunks;
    use crate::dns::wire::to_rdata;
    use hickory_proto::rr::RData;
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use rsa::pkcs8::EncodePrivateKey;

    #[test]
    fn dkim_txt_of_a_2048_bit_key_splits_into_255_byte_strings() {
        let key = rsa::PrivateKey::new(&mut getrandom::SysRng, 2048).unwrap();
        let pkcs1 = key.to_pkcs1_pem(Default::default()).unwrap();
        let pkcs8 = key.to_pkcs8_pem(Default::default()).unwrap();
        let txt = dkim_txt_pem(pkcs1.as_bytes()).unwrap();
        assert_eq!(
            txt,
            dkim_txt_pem(pkcs8.as_bytes()).unwrap(),
            "same key, same record"
        );
        let p = txt.strip_prefix("v=DKIM1; k=rsa; p=").unwrap();
        // A 2048-bit SubjectPublicKeyInfo is 294 bytes: 392 base64 characters.
        assert_eq!(p.len(), 392);
        assert_eq!(
            BASE64.decode(p.as_bytes()).unwrap(),
            key.to_public_key().to_public_key_der().unwrap().as_bytes()
        );
        let chunks = txt_chunks(&txt);
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[0].len(), 255);
        assert_eq!(chunks.concat(), txt);
        let d = Data::Txt(txt.clone());
        assert_eq!(
            d.to_string(),
            format!("\"{}\" \"{}\"", chunks[0], chunks[1])
        );
        let RData::TXT(wire) = to_rdata(&d).unwrap() else {
            panic!("not TXT")
        };
        assert_eq!(wire.txt_data.len(), 2);
        assert!(wire.txt_data.iter().all(|s| s.len() <= 255));
    }

    #[test]
    fn dkim_needs_an_rsa_pem_key() {
        assert!(dkim_txt_pem(b"hello")
            .unwrap_err()
            .contains("no PEM RSA key"));
        let e =
            dkim_txt_pem(b"-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n")
                .unwrap_err();
        assert!(e.contains("not a PKCS#1 RSA private key"), "{e}");
    }

    #[test]
    fn tlsa_hashes_the_certificate_public_key() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/dns");
        let pem = std::fs::read(format!("{dir}/cert.pem")).unwrap();
        let want = std::fs::read_to_string(format!("{dir}/cert.spki-sha256")).unwrap();
        let d = tlsa_311_pem(&pem).unwrap();
        assert_eq!(d.to_string(), format!("3 1 1 {}", want.trim()));
        assert!(tlsa_311_pem(b"nope")
            .unwrap_err()
            .contains("not a PEM certificate"));
    }
}
