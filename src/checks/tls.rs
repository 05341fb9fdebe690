//! The `tls` check: TLS on one port as a client meets it, in one result. A TLS 1.2+
//! handshake with rustls (STARTTLS first on SMTP ports); TLS 1.0 and 1.1 refused and no
//! suite outside forward-secret AEAD taken (hand-built ClientHellos, `tls_probe`); and
//! the certificate served: the one on disk (a renewal a daemon has not picked up), its
//! names, chain and expiry (`tls_cert`). Every socket goes through `Host::net`.

use super::tls_cert::{judge, Findings, Service};
use super::tls_client::{handshake, start, target, Starttls};
use super::tls_probe::{self, Answer};
use super::{Check, CheckCx, CheckResult, CheckStatus};
use crate::host::net::Stream;
use serde::Deserialize;
use std::net::SocketAddr;

fn warn_days() -> i64 {
    14
}

/// TLS on one port.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsCheck {
    /// Name shown in reports.
    pub name: String,
    /// The port.
    pub port: u16,
    /// The host's public address, connected to as a client would (empty: 127.0.0.1,
    /// and the detail says so).
    #[serde(default)]
    pub address: String,
    /// How TLS starts: `none` (implicit TLS) or `smtp` (STARTTLS).
    #[serde(default = "no_starttls")]
    pub starttls: Starttls,
    /// The host name the certificate must cover (also sent as SNI).
    pub host_name: String,
    /// In-tree path of the certificate the daemon should serve (PEM, leaf first).
    pub cert: String,
    /// In-tree path of CA certificates (PEM) the served chain must verify against;
    /// absent or empty: a self-signed certificate is a warning, another is verified
    /// against the system's bundle when there is one.
    #[serde(default)]
    pub ca_file: Option<String>,
    /// The daemon serving the port, for the hints (`postfix` or `dovecot`).
    pub service: Service,
    /// Warn when fewer days than this are left.
    #[serde(default = "warn_days")]
    pub warn_days: i64,
}

fn no_starttls() -> Starttls {
    Starttls::None
}

impl Check for TlsCheck {
    fn settles(&self) -> bool {
        true
    }

    fn probes(&self) -> bool {
        true
    }

    fn run(&self, cx: &CheckCx) -> CheckResult {
        let name = self.name.clone();
        if !cx.host.is_live() {
            return CheckResult::new(name, CheckStatus::Skipped, "offline root");
        }
        // No certificate yet (7-ssl_config left out of this run): nothing can be served.
        if matches!(cx.host.root.meta(&self.cert), Ok(None)) {
            return CheckResult::new(
                name,
                CheckStatus::Skipped,
                format!(
                    "no certificate at {}: 7-ssl_config has not made it yet",
                    self.cert
                ),
            );
        }
        let f = self.findings(cx);
        let (status, detail, hint) = f.verdict();
        let r = CheckResult::new(name, status, detail);
        match hint {
            Some(h) => r.with_hint(h),
            None => r,
        }
    }
}

impl TlsCheck {
    fn addr(&self) -> Result<SocketAddr, String> {
        target(&self.address, self.port).map(|(a, _)| a)
    }

    /// A connection brought to where the handshake starts, handed to `f`.
    fn session<T>(
        &self,
        cx: &CheckCx,
        f: impl FnOnce(&mut dyn Stream) -> Result<T, String>,
    ) -> Result<T, String> {
        let addr = self.addr()?;
        let mut s = cx
            .host
            .net
            .tcp_connect(addr, cx.timeout)
            .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
        start(s.as_mut(), self.starttls, "localhost")?;
        f(s.as_mut())
    }

    /// Everything found on the port.
    pub fn findings(&self, cx: &CheckCx) -> Findings {
        let mut f = Findings::default();
        let svc = self.service;
        let hs = match self.session(cx, |s| handshake(s, &self.host_name, false)) {
            Ok(hs) => hs,
            Err(e) => {
                f.fail(
                    format!("no TLS 1.2+ handshake on port {}: {e}", self.port),
                    svc.down_hint(self.port),
                );
                return f;
            }
        };
        let version = hs.version.replace("TLSv1_", "TLS 1.");
        if let Ok((_, at)) = target(&self.address, self.port) {
            f.fact(at);
        }
        f.fact(format!("{version} {}", hs.suite));
        self.old_versions(cx, &mut f);
        self.weak_suites(cx, &mut f);
        let disk = cx.host.root.read(&self.cert);
        // Provider acme's stand-in while the CA has not issued: self-signed, a warning
        // like any self-signed certificate, not a chain failure that rolls mail back.
        let stand_in = hs
            .chain
            .first()
            .is_some_and(|c| crate::acme::stand_in_served(&cx.host.root, c.as_ref()));
        let ca = self
            .ca_file
            .as_deref()
            .filter(|p| !p.is_empty() && !stand_in)
            .map(|p| (p, cx.host.root.read(p)));
        let system = match ca {
            Some(_) => None,
            None => cx
                .host
                .root
                .read(super::tls_cert::SYSTEM_BUNDLE)
                .ok()
                .flatten(),
        };
        judge(self, &hs.chain, disk, ca, system, crate::tls::now(), &mut f);
        f
    }

    fn old_versions(&self, cx: &CheckCx, f: &mut Findings) {
        let mut refused = Vec::new();
        for v in [0x0301u16, 0x0302] {
            let hello = tls_probe::client_hello(v, tls_probe::OLD_VERSION_SUITES, &self.host_name);
            let vn = tls_probe::version_name(v);
            match self.session(cx, |s| tls_probe::probe(s, &hello)) {
                Ok(Answer::Hello { version, .. }) if version == v => {
                    f.fail(format!("{vn} accepted"), self.service.protocols_hint());
                }
                Ok(_) => refused.push(vn),
                Err(e) => f.warn(format!("{vn} probe inconclusive: {e}"), None),
            }
        }
        if refused.len() == 2 {
            f.fact("TLS 1.0 and 1.1 refused".into());
        }
    }

    fn weak_suites(&self, cx: &CheckCx, f: &mut Findings) {
        let hello = tls_probe::client_hello(0x0303, tls_probe::WEAK_SUITES, &self.host_name);
        match self.session(cx, |s| tls_probe::probe(s, &hello)) {
            Ok(Answer::Hello { suite, .. }) => f.fail(
                format!(
                    "accepts {} (not forward-secret AEAD)",
                    tls_probe::suite_name(suite)
                ),
                self.service.suites_hint(),
            ),
            Ok(Answer::Refused(_)) => {
                f.fact("CBC, non-forward-secret and aNULL suites refused".into())
            }
            Err(e) => f.warn(format!("weak-suite probe inconclusive: {e}"), None),
        }
    }
}
