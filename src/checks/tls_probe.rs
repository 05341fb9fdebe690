//! A minimal TLS prober for what rustls will not speak: one hand-built ClientHello (TLS
//! 1.0 or 1.1, or TLS 1.2 offering only weak suites), then the server's first answer
//! read: a ServerHello means it took the offer, an alert or a closed connection means it
//! refused. Nothing past the ServerHello is parsed and no key is ever exchanged.

/// Suites a TLS 1.0/1.1 server would pick (CBC and 3DES: the only ones those versions
/// have), forward-secret or not, so a server that allows the version cannot decline for
/// want of a suite.
pub const OLD_VERSION_SUITES: &[u16] = &[
    0xc013, 0xc014, 0xc009, 0xc00a, 0x0033, 0x0039, 0x002f, 0x0035, 0x000a,
];

/// Suites outside "forward-secret AEAD": CBC (with and without ECDHE/DHE), static RSA key
/// exchange (even with GCM), anonymous (aNULL), null encryption (eNULL) and RC4.
pub const WEAK_SUITES: &[u16] = &[
    0xc013, 0xc014, 0xc009, 0xc00a, 0xc027, 0xc028, 0xc023, 0xc024, 0x0033, 0x0039, 0x0067, 0x006b,
    0x002f, 0x0035, 0x003c, 0x003d, 0x009c, 0x009d, 0x000a, 0x0034, 0x003a, 0x006c, 0x006d, 0x00a6,
    0x00a7, 0xc018, 0xc019, 0x0001, 0x0002, 0x003b, 0xc006, 0xc010, 0x0005, 0xc011, 0xc007,
];

/// A protocol version on the wire: 0x0301 is TLS 1.0, 0x0302 TLS 1.1, 0x0303 TLS 1.2.
pub fn version_name(v: u16) -> String {
    match v {
        0x0300 => "SSL 3.0".into(),
        0x0301 => "TLS 1.0".into(),
        0x0302 => "TLS 1.1".into(),
        0x0303 => "TLS 1.2".into(),
        0x0304 => "TLS 1.3".into(),
        _ => format!("version 0x{v:04x}"),
    }
}

/// The OpenSSL name of a weak suite the probe offers (or its number).
pub fn suite_name(s: u16) -> String {
    let n = match s {
        0xc013 => "ECDHE-RSA-AES128-SHA",
        0xc014 => "ECDHE-RSA-AES256-SHA",
        0xc009 => "ECDHE-ECDSA-AES128-SHA",
        0xc00a => "ECDHE-ECDSA-AES256-SHA",
        0xc027 => "ECDHE-RSA-AES128-SHA256",
        0xc028 => "ECDHE-RSA-AES256-SHA384",
        0xc023 => "ECDHE-ECDSA-AES128-SHA256",
        0xc024 => "ECDHE-ECDSA-AES256-SHA384",
        0x0033 => "DHE-RSA-AES128-SHA",
        0x0039 => "DHE-RSA-AES256-SHA",
        0x002f => "AES128-SHA",
        0x0035 => "AES256-SHA",
        0x003c => "AES128-SHA256",
        0x003d => "AES256-SHA256",
        0x0067 => "DHE-RSA-AES128-SHA256",
        0x006b => "DHE-RSA-AES256-SHA256",
        0x009c => "AES128-GCM-SHA256",
        0x009d => "AES256-GCM-SHA384",
        0x000a => "DES-CBC3-SHA",
        0x0034 | 0x003a | 0x006c | 0x006d | 0x00a6 | 0x00a7 => "an anonymous DH suite (aNULL)",
        0xc018 | 0xc019 => "an anonymous ECDH suite (aNULL)",
        0x0001 | 0x0002 | 0x003b | 0xc006 | 0xc010 => "a null cipher (eNULL)",
        0x0005 | 0xc011 | 0xc007 => "an RC4 suite",
        _ => return format!("suite 0x{s:04x}"),
    };
    n.into()
}

/// What the server answered to a probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A ServerHello: the version and suite it chose.
    Hello {
        /// Protocol version of the ServerHello.
        version: u16,
        /// Cipher suite chosen.
        suite: u16,
    },
    /// Refused: an alert (its description code), or the connection closed.
    Refused(String),
}

fn u16b(v: usize) -> [u8; 2] {
    (v as u16).to_be_bytes()
}

fn ext(out: &mut Vec<u8>, kind: u16, body: &[u8]) {
    out.extend_from_slice(&kind.to_be_bytes());
    out.extend_from_slice(&u16b(body.len()));
    out.extend_from_slice(body);
}

/// A ClientHello record for `version` offering `suites`, with `sni` as server name when
/// it is a DNS name (never an address), the usual curves and, from TLS 1.2, signature
/// algorithms. No supported_versions extension: the version offered is the only one.
pub fn client_hello(version: u16, suites: &[u16], sni: &str) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&version.to_be_bytes());
    let mut random = [0u8; 32];
    // Not a secret: any bytes do; a fixed pattern when the system has no randomness.
    if getrandom::fill(&mut random).is_err() {
        random = [0x5a; 32];
    }
    body.extend_from_slice(&random);
    body.push(0); // no session id
    body.extend_from_slice(&u16b(suites.len() * 2));
    for s in suites {
        body.extend_from_slice(&s.to_be_bytes());
    }
    body.extend_from_slice(&[1, 0]); // compression: null only
    let mut exts = Vec::new();
    if !sni.is_empty() && sni.parse::<std::net::IpAddr>().is_err() {
        let name = sni.as_bytes();
        let mut e = Vec::new();
        e.extend_from_slice(&u16b(name.len() + 3));
        e.push(0); // host_name
        e.extend_from_slice(&u16b(name.len()));
        e.extend_from_slice(name);
        ext(&mut exts, 0x0000, &e);
    }
    // x25519, secp256r1, secp384r1; uncompressed points only.
    ext(&mut exts, 0x000a, &[0, 6, 0, 0x1d, 0, 0x17, 0, 0x18]);
    ext(&mut exts, 0x000b, &[1, 0]);
    if version >= 0x0303 {
        let algs: &[u16] = &[
            0x0403, 0x0503, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0201, 0x0203,
        ];
        let mut e = u16b(algs.len() * 2).to_vec();
        for a in algs {
            e.extend_from_slice(&a.to_be_bytes());
        }
        ext(&mut exts, 0x000d, &e);
    }
    ext(&mut exts, 0xff01, &[0]); // renegotiation_info, empty
    body.extend_from_slice(&u16b(exts.len()));
    body.extend_from_slice(&exts);
    let mut hs = vec![1u8];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    let mut rec = vec![0x16, 0x03, 0x01];
    rec.extend_from_slice(&u16b(hs.len()));
    rec.extend_from_slice(&hs);
    rec
}

fn closed(e: &std::io::Error) -> bool {
    use std::io::ErrorKind as K;
    matches!(
        e.kind(),
        K::UnexpectedEof | K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe
    )
}

/// Send `hello` on `s` and read the answer. An I/O error other than the connection
/// closing (a timeout) is an error: the probe proved nothing.
pub fn probe(s: &mut dyn crate::host::net::Stream, hello: &[u8]) -> Result<Answer, String> {
    if let Err(e) = s.write_all(hello).and_then(|_| s.flush()) {
        return match closed(&e) {
            true => Ok(Answer::Refused("connection closed".into())),
            false => Err(format!("sending the ClientHello: {e}")),
        };
    }
    let mut handshake = Vec::new();
    loop {
        let mut head = [0u8; 5];
        match s.read_exact(&mut head) {
            Ok(()) => {}
            Err(e) if closed(&e) => return Ok(Answer::Refused("connection closed".into())),
            Err(e) => return Err(format!("reading the answer: {e}")),
        }
        let len = u16::from_be_bytes([head[3], head[4]]) as usize;
        if head[1] != 3 || len > 18_432 {
            return Err("the answer is not TLS".into());
        }
        let mut body = vec![0u8; len];
        s.read_exact(&mut body)
            .map_err(|e| format!("reading the answer: {e}"))?;
        match head[0] {
            0x15 => {
                let code = body.get(1).copied().unwrap_or(0);
                return Ok(Answer::Refused(format!("alert {}", alert_name(code))));
            }
            0x16 => {
                handshake.extend_from_slice(&body);
                if let Some(a) = server_hello(&handshake)? {
                    return Ok(a);
                }
            }
            other => return Err(format!("unexpected TLS record type {other}")),
        }
    }
}

/// The ServerHello at the start of `hs`, `None` while too short.
fn server_hello(hs: &[u8]) -> Result<Option<Answer>, String> {
    if hs.len() < 4 {
        return Ok(None);
    }
    if hs[0] != 2 {
        return Err(format!(
            "first handshake message is type {}, not ServerHello",
            hs[0]
        ));
    }
    // type(1) length(3) version(2) random(32) session id length(1) id suite(2)
    let Some(&sid) = hs.get(38) else {
        return Ok(None);
    };
    let at = 39 + sid as usize;
    match hs.get(at..at + 2) {
        Some(suite) => Ok(Some(Answer::Hello {
            version: u16::from_be_bytes([hs[4], hs[5]]),
            suite: u16::from_be_bytes([suite[0], suite[1]]),
        })),
        None => Ok(None),
    }
}

fn alert_name(code: u8) -> String {
    match code {
        40 => "handshake_failure".into(),
        47 => "illegal_parameter".into(),
        70 => "protocol_version".into(),
        71 => "insufficient_security".into(),
        80 => "internal_error".into(),
        112 => "unrecognized_name".into(),
        c => format!("{c}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Read, Write};

    /// Reads `answer`, keeps what was written.
    struct Canned(Cursor<Vec<u8>>, Vec<u8>);
    impl Read for Canned {
        fn read(&mut self, b: &mut [u8]) -> std::io::Result<usize> {
            self.0.read(b)
        }
    }
    impl Write for Canned {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.1.extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn answer(bytes: Vec<u8>) -> (Result<Answer, String>, Vec<u8>) {
        let mut c = Canned(Cursor::new(bytes), Vec::new());
        let hello = client_hello(0x0301, OLD_VERSION_SUITES, "mail.example.test");
        let a = probe(&mut c, &hello);
        (a, c.1)
    }

    /// A ServerHello record for `version` and `suite`, split over two records.
    pub fn server_hello_records(version: u16, suite: u16) -> Vec<u8> {
        let mut body = version.to_be_bytes().to_vec();
        body.extend_from_slice(&[7u8; 32]);
        body.push(32);
        body.extend_from_slice(&[9u8; 32]);
        body.extend_from_slice(&suite.to_be_bytes());
        body.push(0);
        let mut hs = vec![2u8, 0, 0, body.len() as u8];
        hs.extend_from_slice(&body);
        let (a, b) = hs.split_at(20);
        let mut out = Vec::new();
        for part in [a, b] {
            out.extend_from_slice(&[0x16, 0x03, 0x01, 0, part.len() as u8]);
            out.extend_from_slice(part);
        }
        out
    }

    #[test]
    fn the_hello_is_one_well_formed_record_for_the_version_asked() {
        let h = client_hello(0x0302, &[0xc013, 0x002f], "mail.example.test");
        assert_eq!(&h[..3], &[0x16, 0x03, 0x01]);
        assert_eq!(u16::from_be_bytes([h[3], h[4]]) as usize, h.len() - 5);
        assert_eq!(h[5], 1, "ClientHello");
        assert_eq!(&h[9..11], &[0x03, 0x02], "client_version TLS 1.1");
        assert_eq!(&h[44..50], &[0, 4, 0xc0, 0x13, 0x00, 0x2f]);
        assert!(h.windows(17).any(|w| w == b"mail.example.test"));
        // No SNI for an address; signature algorithms only from TLS 1.2.
        let ip = client_hello(0x0301, &[0xc013], "127.0.0.1");
        assert!(!ip.windows(9).any(|w| w == b"127.0.0.1"));
        assert!(ip.len() < client_hello(0x0303, &[0xc013], "127.0.0.1").len());
    }

    /// The extensions of a ClientHello record: (type, body).
    fn extensions(h: &[u8]) -> Vec<(u16, Vec<u8>)> {
        let be = |i: usize| u16::from_be_bytes([h[i], h[i + 1]]) as usize;
        let mut i = 5 + 4 + 2 + 32; // record, handshake header, version, random
        i += 1 + h[i] as usize; // session id
        i += 2 + be(i); // suites
        i += 1 + h[i] as usize; // compression
        let end = i + 2 + be(i);
        assert_eq!(end, h.len(), "the extensions end the record");
        i += 2;
        let mut out = Vec::new();
        while i < end {
            let (kind, len) = (be(i) as u16, be(i + 2));
            out.push((kind, h[i + 4..i + 4 + len].to_vec()));
            i += 4 + len;
        }
        out
    }

    #[test]
    fn the_server_name_and_signature_algorithms_are_well_formed() {
        let h = client_hello(0x0303, &[0xc013], "mail.example.test");
        let exts = extensions(&h);
        let sni = &exts.iter().find(|(k, _)| *k == 0).unwrap().1;
        let mut want = vec![0, 20, 0, 0, 17];
        want.extend_from_slice(b"mail.example.test");
        assert_eq!(sni, &want, "server_name_list of one host_name");
        let algs = &exts.iter().find(|(k, _)| *k == 0x000d).unwrap().1;
        assert_eq!(
            u16::from_be_bytes([algs[0], algs[1]]) as usize,
            algs.len() - 2
        );
        assert_eq!(algs.len(), 2 + 2 * 10);
    }

    /// Takes what is written; every read fails with `kind`.
    struct Failing(std::io::ErrorKind);
    impl Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(self.0.into())
        }
    }
    impl Write for Failing {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_timeout_proves_nothing_a_reset_is_a_refusal() {
        let hello = client_hello(0x0301, OLD_VERSION_SUITES, "mail.example.test");
        let a = probe(&mut Failing(std::io::ErrorKind::TimedOut), &hello);
        assert!(a.unwrap_err().starts_with("reading the answer: "));
        let a = probe(&mut Failing(std::io::ErrorKind::ConnectionReset), &hello);
        assert_eq!(a, Ok(Answer::Refused("connection closed".into())));
    }

    #[test]
    fn a_record_of_the_largest_size_is_read_a_larger_one_is_not_tls() {
        let mut alert = vec![0x15, 0x03, 0x03, 0x48, 0x00, 2, 40];
        alert.resize(5 + 18_432, 0);
        let (a, _) = answer(alert);
        assert_eq!(a, Ok(Answer::Refused("alert handshake_failure".into())));
        let mut big = vec![0x15, 0x03, 0x03, 0x48, 0x01, 2, 40];
        big.resize(5 + 18_433, 0);
        assert_eq!(answer(big).0, Err("the answer is not TLS".into()));
    }

    #[test]
    fn a_server_hello_is_an_acceptance_even_over_two_records() {
        let (a, sent) = answer(server_hello_records(0x0301, 0xc013));
        assert_eq!(
            a,
            Ok(Answer::Hello {
                version: 0x0301,
                suite: 0xc013
            })
        );
        assert_eq!(sent[5], 1, "a ClientHello was sent");
    }

    #[test]
    fn an_alert_or_a_closed_connection_is_a_refusal_and_garbage_an_error() {
        let (a, _) = answer(vec![0x15, 0x03, 0x01, 0, 2, 2, 70]);
        assert_eq!(a, Ok(Answer::Refused("alert protocol_version".into())));
        let (a, _) = answer(Vec::new());
        assert_eq!(a, Ok(Answer::Refused("connection closed".into())));
        let (a, _) = answer(b"220 mail ESMTP\r\n".to_vec());
        assert_eq!(a, Err("the answer is not TLS".into()));
        let (a, _) = answer(vec![0x16, 0x03, 0x03, 0, 4, 11, 0, 0, 0]);
        assert!(a.unwrap_err().contains("not ServerHello"));
    }

    #[test]
    fn suites_and_versions_have_names() {
        for (v, name) in [
            (0x0300, "SSL 3.0"),
            (0x0301, "TLS 1.0"),
            (0x0302, "TLS 1.1"),
            (0x0303, "TLS 1.2"),
            (0x0304, "TLS 1.3"),
            (0x7f17, "version 0x7f17"),
        ] {
            assert_eq!(version_name(v), name);
        }
        assert_eq!(suite_name(0xc013), "ECDHE-RSA-AES128-SHA");
        assert_eq!(suite_name(0xc018), "an anonymous ECDH suite (aNULL)");
        assert!(WEAK_SUITES
            .iter()
            .all(|s| !suite_name(*s).starts_with("suite ")));
    }
}
