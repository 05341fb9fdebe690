//! The client side of the `tls` check: the SMTP STARTTLS preamble, and a TLS 1.2/1.3
//! handshake with rustls (ring provider) that keeps the chain the server presented.
//! The chain is judged by the check itself (against the certificate on disk and the
//! configured CA), so the verifier here accepts any chain but still verifies the
//! handshake's signature with the leaf's key: the server holds that certificate's key.

use crate::host::net::Stream;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme};
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// How TLS starts on a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Starttls {
    /// Implicit TLS: the handshake comes first (465, 993, 995).
    None,
    /// SMTP: banner, EHLO, STARTTLS, then the handshake (25, 587).
    Smtp,
}

/// Where a check that speaks TLS connects: the host's public address as the manifest
/// gives it (IPv4 or IPv6), as a client on the internet would; when none is set,
/// 127.0.0.1, and the note says so. The note reads `at ADDR:PORT`.
pub fn target(given: &str, port: u16) -> Result<(SocketAddr, String), String> {
    match given.trim() {
        "" => {
            let a = SocketAddr::from(([127, 0, 0, 1], port));
            Ok((a, format!("at {a} (no public address set)")))
        }
        s => {
            let ip: IpAddr = s
                .parse()
                .map_err(|_| format!("address {s:?} is not an IP address"))?;
            let a = SocketAddr::new(ip, port);
            Ok((a, format!("at {a}")))
        }
    }
}

/// One SMTP reply (all its lines), or why there is none.
fn smtp_reply(s: &mut dyn Stream) -> Result<(u16, String), String> {
    let mut text = String::new();
    loop {
        let mut line = Vec::new();
        let mut b = [0u8; 1];
        while line.last() != Some(&b'\n') {
            match s.read(&mut b) {
                Ok(0) => return Err("the server closed the connection".into()),
                Ok(_) => line.push(b[0]),
                Err(e) => return Err(format!("reading the SMTP reply: {e}")),
            }
            if line.len() > 2048 {
                return Err("an SMTP reply line longer than 2048 bytes".into());
            }
        }
        let l = String::from_utf8_lossy(&line).trim_end().to_string();
        let code = l.get(..3).and_then(|c| c.parse::<u16>().ok());
        let Some(code) = code else {
            return Err(format!("not an SMTP reply: {l:?}"));
        };
        text.push_str(&l);
        text.push('\n');
        if l.as_bytes().get(3) != Some(&b'-') {
            return Ok((code, text));
        }
    }
}

fn send(s: &mut dyn Stream, line: &str) -> Result<(), String> {
    s.write_all(line.as_bytes())
        .and_then(|_| s.flush())
        .map_err(|e| format!("sending {}: {e}", line.trim_end()))
}

/// Bring `s` to the point where the TLS handshake starts.
pub fn start(s: &mut dyn Stream, how: Starttls, ehlo: &str) -> Result<(), String> {
    if how == Starttls::None {
        return Ok(());
    }
    let (code, text) = smtp_reply(s)?;
    if code != 220 {
        return Err(format!("SMTP banner {}", text.trim_end()));
    }
    send(s, &format!("EHLO {ehlo}\r\n"))?;
    let (code, text) = smtp_reply(s)?;
    if code != 250 {
        return Err(format!("EHLO answered {}", text.trim_end()));
    }
    if !text.lines().any(|l| {
        l.get(4..)
            .is_some_and(|k| k.eq_ignore_ascii_case("STARTTLS"))
    }) {
        return Err("STARTTLS is not offered after EHLO".into());
    }
    send(s, "STARTTLS\r\n")?;
    let (code, text) = smtp_reply(s)?;
    if code != 220 {
        return Err(format!("STARTTLS answered {}", text.trim_end()));
    }
    Ok(())
}

/// What a completed handshake showed.
#[derive(Debug, Clone)]
pub struct Handshake {
    /// `TLSv1_3` or `TLSv1_2`.
    pub version: String,
    /// The suite negotiated (rustls' name, e.g. `TLS13_AES_256_GCM_SHA384`).
    pub suite: String,
    /// The chain the server presented, leaf first.
    pub chain: Vec<CertificateDer<'static>>,
}

/// Accepts any chain (the check judges it), verifies handshake signatures.
#[derive(Debug)]
struct KeepChain(Arc<CryptoProvider>);

impl ServerCertVerifier for KeepChain {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A TLS 1.2/1.3 handshake on `s` for `name` (SNI when it is a DNS name); `tls12_only`
/// offers TLS 1.2 alone.
pub fn handshake(s: &mut dyn Stream, name: &str, tls12_only: bool) -> Result<Handshake, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions: &[&rustls::SupportedProtocolVersion] = match tls12_only {
        true => &[&rustls::version::TLS12],
        false => &[&rustls::version::TLS13, &rustls::version::TLS12],
    };
    let config = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .map_err(|e| format!("TLS client: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(KeepChain(provider)))
        .with_no_client_auth();
    let server = ServerName::try_from(name.to_string())
        .map_err(|_| format!("{name:?} is not a host name or address"))?;
    let mut conn =
        ClientConnection::new(Arc::new(config), server).map_err(|e| format!("TLS client: {e}"))?;
    while conn.is_handshaking() {
        conn.complete_io(&mut Io(&mut *s))
            .map_err(|e| format!("TLS handshake: {e}"))?;
    }
    let version = conn
        .protocol_version()
        .map(|v| format!("{v:?}"))
        .unwrap_or_default();
    let suite = conn
        .negotiated_cipher_suite()
        .map(|c| format!("{:?}", c.suite()))
        .unwrap_or_default();
    let chain = conn
        .peer_certificates()
        .map(|c| c.iter().map(|d| d.clone().into_owned()).collect())
        .unwrap_or_default();
    conn.send_close_notify();
    // The goodbye is a courtesy: the handshake's result stands either way.
    let _ = conn.write_tls(&mut Io(s));
    Ok(Handshake {
        version,
        suite,
        chain,
    })
}

/// rustls' I/O calls want a sized stream.
struct Io<'a>(&'a mut dyn Stream);

impl Read for Io<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

impl Write for Io<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_line_of_2048_bytes_is_read_a_longer_one_refused() {
        let longest = format!("220 {}\r\n", "a".repeat(2048 - 6));
        let mut s = std::io::Cursor::new(longest.into_bytes());
        let (code, text) = smtp_reply(&mut s).unwrap();
        assert_eq!(
            (code, text.len()),
            (220, 2048 - 1),
            "the line and its newline"
        );
        let longer = format!("220 {}\r\n", "a".repeat(2048 - 5));
        let mut s = std::io::Cursor::new(longer.into_bytes());
        let e = smtp_reply(&mut s).unwrap_err();
        assert_eq!(e, "an SMTP reply line longer than 2048 bytes");
    }
}
