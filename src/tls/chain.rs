//! Chain verification with rustls-webpki, the verifier rustls itself uses: path building
//! from the leaf through the intermediates to a trust anchor, every signature, validity
//! period, basic constraints and (when present) the serverAuth extended key usage.

use rustls_pki_types::{CertificateDer, UnixTime};
use std::time::Duration;

/// Verify that `chain[0]` (the leaf) chains, through the other certificates of `chain`,
/// to one of `roots`, at `now` (seconds since the epoch), for use by a TLS server.
/// Returns the subject common name of the anchor reached, or why it failed.
pub fn verify(
    chain: &[CertificateDer<'_>],
    roots: &[CertificateDer<'_>],
    now: i64,
) -> Result<String, String> {
    let Some((leaf, intermediates)) = chain.split_first() else {
        return Err("no certificate to verify".into());
    };
    let anchors: Vec<_> = roots
        .iter()
        .filter_map(|r| webpki::anchor_from_trusted_cert(r).ok())
        .collect();
    if anchors.is_empty() {
        return Err("the CA file holds no usable CA certificate".into());
    }
    let ee = webpki::EndEntityCert::try_from(leaf)
        .map_err(|e| format!("the leaf certificate cannot be used: {}", reason(&e)))?;
    let time = UnixTime::since_unix_epoch(Duration::from_secs(now.max(0) as u64));
    let path = ee
        .verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &anchors,
            intermediates,
            time,
            webpki::KeyUsage::server_auth(),
            None,
            None,
        )
        .map_err(|e| reason(&e))?;
    let subject = path.anchor().subject.as_ref().to_vec();
    Ok(anchor_name(roots, &subject))
}

/// The common name of the root whose subject is `subject_der` (the anchor reached).
fn anchor_name(roots: &[CertificateDer<'_>], subject_der: &[u8]) -> String {
    for r in roots {
        if let Ok((_, c)) = x509_parser::parse_x509_certificate(r.as_ref()) {
            // webpki's anchor subject is the Name's contents, without its SEQUENCE header.
            if c.subject().as_raw().ends_with(subject_der) {
                return c
                    .subject()
                    .iter_common_name()
                    .next()
                    .and_then(|cn| cn.as_str().ok())
                    .map(str::to_string)
                    .unwrap_or_else(|| c.subject().to_string());
            }
        }
    }
    "a trusted root".into()
}

fn reason(e: &webpki::Error) -> String {
    use webpki::Error as E;
    match e {
        E::UnknownIssuer => "it does not chain to any certificate of the CA file".into(),
        E::CertExpired { .. } => "a certificate of the chain has expired".into(),
        E::CertNotValidYet { .. } => "a certificate of the chain is not valid yet".into(),
        E::InvalidSignatureForPublicKey => "a signature in the chain does not verify".into(),
        E::CaUsedAsEndEntity => "the leaf certificate is a CA certificate".into(),
        E::RequiredEkuNotFoundContext(_) => {
            "the leaf certificate is not for TLS servers (extended key usage)".into()
        }
        other => format!("chain verification failed ({other:?})"),
    }
}
