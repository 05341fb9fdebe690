//! The `tls` check against a scripted server behind the fake network: a rustls server
//! (ring) for real handshakes, canned ServerHellos or alerts for the old-version and
//! weak-suite probes. Pass and fail shapes: the certificate on disk served, a different or
//! expired one, TLS 1.0 accepted, a CBC suite accepted, STARTTLS missing, nothing there.

use firstboot::checks::tls::TlsCheck;
use firstboot::checks::{Check, CheckCx, CheckResult, CheckStatus, Retry};
use firstboot::host::fake;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::Duration;

const DAY: i64 = 86_400;
const HOST: &str = "mail.example.test";

/// What the scripted server does.
#[derive(Clone)]
struct Server {
    chain: Vec<CertificateDer<'static>>,
    key: Vec<u8>,
    smtp: bool,
    tls10: bool,
    cbc: bool,
    starttls_offered: bool,
    /// Old hellos answered with a TLS 1.2 ServerHello (a client must not go on).
    upgrade: bool,
}

struct Cert {
    der: CertificateDer<'static>,
    pem: String,
    key: Vec<u8>,
}

fn cert(to: i64, issuer: Option<&(CertificateParams, KeyPair)>) -> Cert {
    cert_with(KeyPair::generate().unwrap(), to, issuer)
}

/// A certificate for `key`, valid until `to` seconds from now.
fn cert_with(key: KeyPair, to: i64, issuer: Option<&(CertificateParams, KeyPair)>) -> Cert {
    let mut p = CertificateParams::new(vec![HOST.to_string()]).unwrap();
    let now = firstboot::tls::now();
    p.not_before = time::OffsetDateTime::from_unix_timestamp(now - 30 * DAY).unwrap();
    p.not_after = time::OffsetDateTime::from_unix_timestamp(now + to).unwrap();
    let c = match issuer {
        Some((ip, ik)) => p.signed_by(&key, &Issuer::new(ip.clone(), ik)).unwrap(),
        None => p.self_signed(&key).unwrap(),
    };
    Cert {
        der: c.der().clone(),
        pem: c.pem(),
        key: key.serialize_der(),
    }
}

fn ca() -> ((CertificateParams, KeyPair), String) {
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(DnType::CommonName, "Test Root");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let pem = p.self_signed(&key).unwrap().pem();
    ((p, key), pem)
}

fn server(c: &Cert) -> Server {
    Server {
        chain: vec![c.der.clone()],
        key: c.key.clone(),
        smtp: false,
        tls10: false,
        cbc: false,
        starttls_offered: true,
        upgrade: false,
    }
}

fn line(s: &mut UnixStream) {
    let mut b = [0u8; 1];
    while s.read(&mut b).map(|n| n == 1).unwrap_or(false) && b[0] != b'\n' {}
}

fn server_hello(version: u16, suite: u16) -> Vec<u8> {
    let mut body = version.to_be_bytes().to_vec();
    body.extend_from_slice(&[7u8; 32]);
    body.push(0);
    body.extend_from_slice(&suite.to_be_bytes());
    body.push(0);
    let mut out = vec![
        0x16,
        0x03,
        0x01,
        0,
        body.len() as u8 + 4,
        2,
        0,
        0,
        body.len() as u8,
    ];
    out.extend_from_slice(&body);
    out
}

/// The first record, then the rest of the stream: what rustls' server reads.
struct Prefixed(std::io::Cursor<Vec<u8>>, UnixStream);
impl Read for Prefixed {
    fn read(&mut self, b: &mut [u8]) -> std::io::Result<usize> {
        match self.0.read(b)? {
            0 => self.1.read(b),
            n => Ok(n),
        }
    }
}
impl Write for Prefixed {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.1.write(b)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.1.flush()
    }
}

fn serve(mut s: UnixStream, p: &Server) -> Option<()> {
    if p.smtp {
        s.write_all(b"220 mail.example.test ESMTP\r\n").ok()?;
        line(&mut s);
        let ext: &[u8] = if p.starttls_offered {
            b"250-mail\r\n250-PIPELINING\r\n250 STARTTLS\r\n"
        } else {
            b"250-mail\r\n250 PIPELINING\r\n"
        };
        s.write_all(ext).ok()?;
        line(&mut s);
        s.write_all(b"220 2.0.0 Ready to start TLS\r\n").ok()?;
    }
    let mut head = [0u8; 5];
    s.read_exact(&mut head).ok()?;
    let mut body = vec![0u8; u16::from_be_bytes([head[3], head[4]]) as usize];
    s.read_exact(&mut body).ok()?;
    let version = u16::from_be_bytes([body[4], body[5]]);
    let at = 39 + body[38] as usize;
    let n = u16::from_be_bytes([body[at], body[at + 1]]) as usize;
    let suites: Vec<u16> = body[at + 2..at + 2 + n]
        .chunks(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect();
    if suites.contains(&0x1301) {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(p.key.clone()));
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .ok()?
            .with_no_client_auth()
            .with_single_cert(p.chain.clone(), key)
            .ok()?;
        let mut conn = rustls::ServerConnection::new(Arc::new(config)).ok()?;
        let mut io = Prefixed(std::io::Cursor::new([head.to_vec(), body].concat()), s);
        while conn.is_handshaking() {
            conn.complete_io(&mut io).ok()?;
        }
        let _ = conn.complete_io(&mut io);
        return Some(());
    }
    let answer = match version {
        0x0303 if p.cbc => server_hello(0x0303, 0xc013),
        0x0303 => vec![0x15, 0x03, 0x03, 0, 2, 2, 40],
        0x0301 if p.tls10 => server_hello(0x0301, 0xc013),
        0x0301 | 0x0302 if p.upgrade => server_hello(0x0303, 0xc02f),
        v => vec![0x15, 0x03, (v & 0xff) as u8, 0, 2, 2, 70],
    };
    s.write_all(&answer).ok()
}

/// Run the check for `port` against `srv` (none: nothing listens), with `disk` as the
/// certificate on disk and `ca_pem` as the CA file.
/// Run the TLS check declared by `yaml` (its fields as a manifest gives them) on `host`.
fn run_yaml(host: &firstboot::host::Host, yaml: &str) -> CheckResult {
    let c: TlsCheck = serde_yaml::from_str(yaml).unwrap();
    let redactor = firstboot::redact::Redactor::default();
    let cx = CheckCx {
        host,
        redactor: &redactor,
        timeout: Duration::from_secs(5),
        retry: Retry::NONE,
        answers: Default::default(),
    };
    c.run(&cx)
}

/// Every connection on the host's fake network is answered by `srv`.
fn serve_on(fakes: &fake::Fakes, srv: Server) {
    let srv = Arc::new(srv);
    let h: fake::TcpHandler = Box::new(move |_addr| {
        let (a, b) = UnixStream::pair()?;
        for s in [&a, &b] {
            s.set_read_timeout(Some(Duration::from_secs(5)))?;
        }
        let p = srv.clone();
        std::thread::spawn(move || serve(b, &p));
        Ok(Box::new(a))
    });
    *fakes.net.tcp.lock().unwrap() = Some(Arc::new(h));
}

fn check(srv: Option<Server>, disk: &str, ca_pem: Option<&str>, dovecot: bool) -> CheckResult {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.pem"), disk).unwrap();
    if let Some(ca) = ca_pem {
        std::fs::write(dir.path().join("ca.pem"), ca).unwrap();
    }
    let (host, fakes) = fake::host(dir.path());
    if let Some(srv) = srv {
        serve_on(&fakes, srv);
    }
    let smtp = if dovecot { "none" } else { "smtp" };
    let svc = if dovecot { "dovecot" } else { "postfix" };
    let ca = if ca_pem.is_some() {
        "ca_file: /ca.pem\n"
    } else {
        ""
    };
    let yaml = format!("name: TLS\nport: 25\nstarttls: {smtp}\nhost_name: {HOST}\ncert: /c.pem\nservice: {svc}\n{ca}");
    run_yaml(&host, &yaml)
}

#[test]
fn the_certificate_on_disk_served_over_tls13_with_old_versions_and_weak_suites_refused() {
    let (ca, ca_pem) = ca();
    let c = cert(90 * DAY, Some(&ca));
    let r = check(
        Some(Server {
            smtp: true,
            ..server(&c)
        }),
        &c.pem,
        Some(&ca_pem),
        false,
    );
    assert_eq!(r.status, CheckStatus::Pass, "{}", r.detail);
    for want in [
        "TLS 1.3 TLS13_",
        "TLS 1.0 and 1.1 refused",
        "CBC, non-forward-secret and aNULL suites refused",
        "serves /c.pem",
        "covers mail.example.test",
        "chain verifies to Test Root",
        "days left",
    ] {
        assert!(r.detail.contains(want), "{want}: {}", r.detail);
    }
    assert!(!r.detail.contains('\n'));
}

#[test]
fn self_signed_is_a_warning_and_near_expiry_too() {
    let c = cert(90 * DAY, None);
    let r = check(Some(server(&c)), &c.pem, None, true);
    assert_eq!(r.status, CheckStatus::Warn, "{}", r.detail);
    assert!(r.detail.starts_with("self-signed"), "{}", r.detail);
    let (ca, ca_pem) = ca();
    let c = cert(10 * DAY, Some(&ca));
    let r = check(Some(server(&c)), &c.pem, Some(&ca_pem), true);
    assert_eq!(r.status, CheckStatus::Warn, "{}", r.detail);
    assert!(r.detail.contains("days left)"), "{}", r.detail);
}

#[test]
fn a_different_certificate_served_than_on_disk_fails_with_a_reload_hint() {
    let served = cert(90 * DAY, None);
    let disk = cert(90 * DAY, None);
    let r = check(
        Some(Server {
            smtp: true,
            ..server(&served)
        }),
        &disk.pem,
        None,
        false,
    );
    assert_eq!(r.status, CheckStatus::Fail, "{}", r.detail);
    assert!(
        r.detail
            .starts_with("serves a certificate that is not /c.pem"),
        "{}",
        r.detail
    );
    assert!(
        r.hint
            .as_deref()
            .unwrap_or_default()
            .contains("`postfix reload`"),
        "{:?}",
        r.hint
    );
}

#[test]
fn an_expired_certificate_fails() {
    let (ca, ca_pem) = ca();
    let c = cert(-DAY, Some(&ca));
    let r = check(Some(server(&c)), &c.pem, Some(&ca_pem), true);
    assert_eq!(r.status, CheckStatus::Fail, "{}", r.detail);
    assert!(r.detail.contains("expired "), "{}", r.detail);
}

#[test]
fn tls10_accepted_fails_with_the_daemons_setting() {
    let c = cert(90 * DAY, None);
    let r = check(
        Some(Server {
            tls10: true,
            ..server(&c)
        }),
        &c.pem,
        None,
        true,
    );
    assert_eq!(r.status, CheckStatus::Fail, "{}", r.detail);
    assert!(r.detail.starts_with("TLS 1.0 accepted"), "{}", r.detail);
    assert!(
        r.hint
            .as_deref()
            .unwrap_or_default()
            .contains("ssl_min_protocol = TLSv1.2"),
        "{:?}",
        r.hint
    );
    assert!(!r.detail.contains("1.1 accepted"), "{}", r.detail);
}

#[test]
fn a_cbc_suite_accepted_fails() {
    let c = cert(90 * DAY, None);
    let r = check(
        Some(Server {
            cbc: true,
            smtp: true,
            ..server(&c)
        }),
        &c.pem,
        None,
        false,
    );
    assert_eq!(r.status, CheckStatus::Fail, "{}", r.detail);
    assert!(
        r.detail
            .starts_with("accepts ECDHE-RSA-AES128-SHA (not forward-secret AEAD)"),
        "{}",
        r.detail
    );
    assert!(
        r.hint
            .as_deref()
            .unwrap_or_default()
            .contains("tls_medium_cipherlist"),
        "{:?}",
        r.hint
    );
}

#[test]
fn no_starttls_or_nothing_listening_fails() {
    let c = cert(90 * DAY, None);
    let r = check(
        Some(Server {
            smtp: true,
            starttls_offered: false,
            ..server(&c)
        }),
        &c.pem,
        None,
        false,
    );
    assert_eq!(r.status, CheckStatus::Fail, "{}", r.detail);
    assert!(r.detail.contains("STARTTLS is not offered"), "{}", r.detail);
    let r = check(None, &c.pem, None, true);
    assert_eq!(r.status, CheckStatus::Fail, "{}", r.detail);
    assert!(
        r.detail
            .starts_with("no TLS 1.2+ handshake on port 25: cannot connect"),
        "{}",
        r.detail
    );
    assert!(
        r.hint
            .as_deref()
            .unwrap_or_default()
            .contains("is Dovecot running"),
        "{:?}",
        r.hint
    );
}

#[test]
fn no_certificate_on_disk_yet_is_a_skip_saying_so() {
    // 9-mail_config run without 7-ssl_config (`--only mail`): no certificate to serve.
    let dir = tempfile::tempdir().unwrap();
    let (host, _fakes) = fake::host(dir.path());
    let yaml = format!("name: TLS\nport: 25\nstarttls: smtp\nhost_name: {HOST}\ncert: /absent.pem\nservice: postfix\n");
    let r = run_yaml(&host, &yaml);
    assert_eq!(r.status, CheckStatus::Skipped, "{}", r.detail);
    assert!(
        r.detail.contains("no certificate at /absent.pem"),
        "{}",
        r.detail
    );
}

#[test]
fn the_public_address_is_asked_and_without_one_127_0_0_1_is_said_so() {
    let dir = tempfile::tempdir().unwrap();
    let c = cert(90 * DAY, None);
    std::fs::write(dir.path().join("c.pem"), &c.pem).unwrap();
    let (host, fakes) = fake::host(dir.path());
    let asked = Arc::new(std::sync::Mutex::new(Vec::new()));
    let a = asked.clone();
    let h: fake::TcpHandler = Box::new(move |addr| {
        a.lock().unwrap().push(addr.to_string());
        Err(std::io::ErrorKind::ConnectionRefused.into())
    });
    *fakes.net.tcp.lock().unwrap() = Some(Arc::new(h));
    let yaml = format!("name: TLS\nport: 993\naddress: 2001:db8::10\nhost_name: {HOST}\ncert: /c.pem\nservice: dovecot\n");
    let r = run_yaml(&host, &yaml);
    assert_eq!(r.status, CheckStatus::Fail, "{}", r.detail);
    assert!(
        r.detail.contains("cannot connect to [2001:db8::10]:993"),
        "{}",
        r.detail
    );
    assert_eq!(asked.lock().unwrap().clone(), ["[2001:db8::10]:993"]);

    let r = check(Some(server(&c)), &c.pem, None, true);
    assert!(
        r.detail
            .contains("; at 127.0.0.1:25 (no public address set); TLS 1.3"),
        "{}",
        r.detail
    );
}

#[test]
fn an_old_hello_answered_with_tls12_counts_as_refused() {
    let c = cert(90 * DAY, None);
    let r = check(
        Some(Server {
            upgrade: true,
            ..server(&c)
        }),
        &c.pem,
        None,
        true,
    );
    assert_eq!(
        r.status,
        CheckStatus::Warn,
        "self-signed only: {}",
        r.detail
    );
    assert!(r.detail.contains("TLS 1.0 and 1.1 refused"), "{}", r.detail);
}

#[test]
fn what_differs_between_served_and_on_disk_is_said() {
    // The same key in another certificate (renewed, daemon not reloaded)...
    let served = cert(90 * DAY, None);
    let key = KeyPair::try_from(served.key.as_slice()).unwrap();
    let disk = cert_with(key, 60 * DAY, None);
    let r = check(Some(server(&served)), &disk.pem, None, true);
    assert_eq!(r.status, CheckStatus::Fail, "{}", r.detail);
    assert!(
        r.detail
            .starts_with("serves a certificate that is not /c.pem (same key, another certificate)"),
        "{}",
        r.detail
    );
    // ...and another key: both expiry days named.
    let disk = cert(60 * DAY, None);
    let r = check(Some(server(&served)), &disk.pem, None, true);
    let day = |d: i64| firstboot::tls::fmt_time(firstboot::tls::now() + d)[..10].to_string();
    let want = format!(
        "(served expires {}, on disk {})",
        day(90 * DAY),
        day(60 * DAY)
    );
    assert!(r.detail.contains(&want), "{want}: {}", r.detail);
}

#[test]
fn the_warning_starts_under_warn_days_left() {
    let (ca, ca_pem) = ca();
    // 14 days and an hour left: not under the default 14.
    let c = cert(14 * DAY + 3600, Some(&ca));
    let r = check(Some(server(&c)), &c.pem, Some(&ca_pem), true);
    assert_eq!(r.status, CheckStatus::Pass, "{}", r.detail);
    assert!(r.detail.contains("14 days left"), "{}", r.detail);
    let c = cert(13 * DAY + 3600, Some(&ca));
    let r = check(Some(server(&c)), &c.pem, Some(&ca_pem), true);
    assert_eq!(r.status, CheckStatus::Warn, "{}", r.detail);
}

#[test]
fn without_a_ca_file_the_system_bundle_verifies_and_an_empty_one_is_none() {
    let (ca, ca_pem) = ca();
    let c = cert(90 * DAY, Some(&ca));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.pem"), &c.pem).unwrap();
    let bundle = dir.path().join("etc/ssl/certs/ca-certificates.crt");
    std::fs::create_dir_all(bundle.parent().unwrap()).unwrap();
    std::fs::write(&bundle, &ca_pem).unwrap();
    let (host, fakes) = fake::host(dir.path());
    serve_on(&fakes, server(&c));
    let yaml = format!(
        "name: TLS\nport: 993\nhost_name: {HOST}\ncert: /c.pem\nservice: dovecot\nca_file: \"\"\n"
    );
    let r = run_yaml(&host, &yaml);
    assert_eq!(r.status, CheckStatus::Pass, "{}", r.detail);
    assert!(
        r.detail.contains("chain verifies to Test Root"),
        "{}",
        r.detail
    );
}
