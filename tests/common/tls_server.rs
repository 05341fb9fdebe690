//! An SMTP server with STARTTLS for the fake network (`FakeNetwork::tcp`): banner, EHLO
//! offering STARTTLS, then a real TLS handshake by rustls (ring) with the certificate
//! and key given. Every connection is noted in `asked` by address.

use firstboot::host::fake::TcpHandler;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn line(s: &mut UnixStream) {
    let mut b = [0u8; 1];
    while s.read(&mut b).map(|n| n == 1).unwrap_or(false) && b[0] != b'\n' {}
}

fn serve(mut s: UnixStream, chain: Vec<CertificateDer<'static>>, key: Vec<u8>) -> Option<()> {
    s.write_all(b"220 mail.example.test ESMTP\r\n").ok()?;
    line(&mut s);
    s.write_all(b"250-mail.example.test\r\n250 STARTTLS\r\n")
        .ok()?;
    line(&mut s);
    s.write_all(b"220 2.0.0 Ready to start TLS\r\n").ok()?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key));
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .ok()?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .ok()?;
    let mut conn = rustls::ServerConnection::new(Arc::new(config)).ok()?;
    while conn.is_handshaking() {
        conn.complete_io(&mut s).ok()?;
    }
    let _ = conn.complete_io(&mut s);
    Some(())
}

/// Answer every connection with an SMTP server serving `chain` (key: PKCS#8 DER).
pub fn smtp_starttls(
    chain: Vec<CertificateDer<'static>>,
    key: Vec<u8>,
    asked: Arc<Mutex<Vec<String>>>,
) -> TcpHandler {
    Box::new(move |addr| {
        asked.lock().unwrap().push(addr.to_string());
        let (a, b) = UnixStream::pair()?;
        for s in [&a, &b] {
            s.set_read_timeout(Some(Duration::from_secs(5)))?;
        }
        let (chain, key) = (chain.clone(), key.clone());
        std::thread::spawn(move || serve(b, chain, key));
        Ok(Box::new(a))
    })
}
