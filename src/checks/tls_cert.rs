//! The `tls` check's judgement of the certificate a port served: the same as the one on
//! disk (a renewal the daemon has not picked up yet is a classic failure), it covers the
//! host name, its chain verifies against the configured CA (self-signed: a warning),
//! and it is not expired (a warning when close). Also the findings a check gathers and
//! the hints per daemon.

use super::tls::TlsCheck;
use super::CheckStatus;
use crate::host::HostError;
use crate::tls::{cert_info, chain, fmt_time, parse_chain};
use rustls_pki_types::CertificateDer;

/// A file as read through the host's root: its bytes, `None` when it does not exist.
pub type Read = Result<Option<Vec<u8>>, HostError>;

/// The system's CA bundle (Debian's ca-certificates), used when no CA file is configured.
pub const SYSTEM_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// The daemon serving a port: what its hints name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    /// Postfix (25, 587, 465).
    Postfix,
    /// Dovecot (993, 995).
    Dovecot,
}

impl Service {
    fn reload(self) -> &'static str {
        match self {
            Service::Postfix => "`postfix reload`",
            Service::Dovecot => "`doveadm reload`",
        }
    }
    /// The port does not answer TLS.
    pub fn down_hint(self, port: u16) -> Option<String> {
        Some(match self {
            Service::Postfix => format!("is Postfix running and listening on {port}? `postfix status`, then the mail log"),
            Service::Dovecot => format!("is Dovecot running and listening on {port}? `doveadm service status`, then its log"),
        })
    }
    /// TLS 1.0 or 1.1 accepted.
    pub fn protocols_hint(self) -> Option<String> {
        Some(match self {
            Service::Postfix => "smtpd_tls_protocols and smtpd_tls_mandatory_protocols >=TLSv1.2 in main.cf (`firstboot run` writes them), then `postfix reload`".into(),
            Service::Dovecot => "ssl_min_protocol = TLSv1.2 in dovecot.conf (`firstboot run` writes it), then `doveadm reload`".into(),
        })
    }
    /// A weak suite accepted.
    pub fn suites_hint(self) -> Option<String> {
        Some(match self {
            Service::Postfix => "ECDHE with AEAD only: tls_medium_cipherlist and smtpd_tls_exclude_ciphers in main.cf (`firstboot run` writes them), then `postfix reload`".into(),
            Service::Dovecot => "ssl_cipher_list = ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!eNULL in dovecot.conf (`firstboot run` writes it), then `doveadm reload`".into(),
        })
    }
}

/// What a check found: failures and warnings (each with a hint), and facts.
#[derive(Debug, Default)]
pub struct Findings {
    fails: Vec<(String, Option<String>)>,
    warns: Vec<(String, Option<String>)>,
    facts: Vec<String>,
}

impl Findings {
    /// A failure.
    pub fn fail(&mut self, what: String, hint: Option<String>) {
        self.fails.push((what, hint));
    }
    /// A warning.
    pub fn warn(&mut self, what: String, hint: Option<String>) {
        self.warns.push((what, hint));
    }
    /// Something that holds.
    pub fn fact(&mut self, what: String) {
        self.facts.push(what);
    }
    /// The status (fail over warn over pass), one line of detail (problems first) and
    /// the first problem's hint.
    pub fn verdict(&self) -> (CheckStatus, String, Option<String>) {
        let status = match (self.fails.is_empty(), self.warns.is_empty()) {
            (false, _) => CheckStatus::Fail,
            (true, false) => CheckStatus::Warn,
            (true, true) => CheckStatus::Pass,
        };
        let problems = self.fails.iter().chain(&self.warns);
        let hint = problems.clone().find_map(|(_, h)| h.clone());
        let mut parts: Vec<String> = problems.map(|(w, _)| w.clone()).collect();
        parts.extend(self.facts.iter().cloned());
        (status, parts.join("; "), hint)
    }
}

/// Judge the served `chain` against the certificate on disk (`disk`, as read), the CA
/// file (`ca`: its path and content as read) or, without one, the system bundle.
pub fn judge(
    c: &TlsCheck,
    served: &[CertificateDer<'static>],
    disk: Read,
    ca: Option<(&str, Read)>,
    system: Option<Vec<u8>>,
    now: i64,
    f: &mut Findings,
) {
    let reload = c.service.reload();
    let Some(leaf) = served.first() else {
        f.fail("the server sent no certificate".into(), None);
        return;
    };
    let info = match cert_info(leaf) {
        Ok(i) => i,
        Err(e) => return f.fail(format!("the served certificate {e}"), None),
    };
    match disk.map_err(|e| e.to_string()).and_then(|d| {
        let d = d.ok_or_else(|| format!("{} does not exist", c.cert))?;
        parse_chain(&d).map_err(|e| format!("{} {e}", c.cert))
    }) {
        Ok(d) if d.first() == Some(leaf) => f.fact(format!("serves {}", c.cert)),
        Ok(d) => {
            let on_disk = d.first().and_then(|d| cert_info(d).ok());
            let why = match on_disk {
                Some(o) if o.spki_sha256 == info.spki_sha256 => {
                    "same key, another certificate".to_string()
                }
                Some(o) => format!(
                    "served expires {}, on disk {}",
                    day(info.not_after),
                    day(o.not_after)
                ),
                None => "the file's certificate does not parse".into(),
            };
            f.fail(
                format!("serves a certificate that is not {} ({why})", c.cert),
                Some(format!(
                    "reload the daemon so it reads the certificate on disk: {reload}"
                )),
            );
        }
        Err(e) => f.fail(
            format!("cannot compare with the certificate on disk: {e}"),
            None,
        ),
    }
    let uncovered =
        crate::tls::names::uncovered(&info.dns_names, std::slice::from_ref(&c.host_name));
    match uncovered.is_empty() {
        true => f.fact(format!("covers {}", c.host_name)),
        false => f.fail(
            format!("does not cover {} (names: {})", c.host_name, info.dns_names.join(", ")),
            Some("add the host name to the certificate (ssl.names) and issue it again (`firstboot run --only ssl`)".into()),
        ),
    }
    verify(served, ca, system, now, f);
    let days = info.days_left(now);
    let renew = format!(
        "renew the certificate (`firstboot run --only ssl`; ACME: `certbot renew`), then {reload}"
    );
    if now >= info.not_after {
        f.fail(format!("expired {}", day(info.not_after)), Some(renew));
    } else if days < c.warn_days {
        f.warn(
            format!("expires {} ({days} days left)", day(info.not_after)),
            Some(renew),
        );
    } else {
        f.fact(format!("{days} days left"));
    }
}

fn day(secs: i64) -> String {
    fmt_time(secs).get(..10).unwrap_or_default().to_string()
}

fn self_signed(der: &CertificateDer<'_>) -> bool {
    x509_parser::parse_x509_certificate(der.as_ref())
        .map(|(_, c)| c.issuer().as_raw() == c.subject().as_raw())
        .unwrap_or(false)
}

fn verify(
    served: &[CertificateDer<'static>],
    ca: Option<(&str, Read)>,
    system: Option<Vec<u8>>,
    now: i64,
    f: &mut Findings,
) {
    let chain_hint = || {
        Some("serve the full chain (leaf then intermediates) issued by the configured CA (ssl.ca_file)".to_string())
    };
    let roots = match ca {
        Some((path, read)) => match read.map_err(|e| e.to_string()).and_then(|d| {
            let d = d.ok_or_else(|| format!("CA file {path} does not exist"))?;
            parse_chain(&d).map_err(|e| format!("CA file {path} {e}"))
        }) {
            Ok(r) => r,
            Err(e) => return f.fail(format!("chain not verified: {e}"), None),
        },
        None if self_signed(&served[0]) => {
            return f.warn(
                "self-signed (clients cannot verify it)".into(),
                Some("a CA-issued certificate: ssl.provider acme or existing".into()),
            );
        }
        None => match system.as_deref().map(parse_chain) {
            Some(Ok(r)) => r,
            _ => {
                return f.warn(
                    format!("chain not verified: no CA file and no {SYSTEM_BUNDLE}"),
                    None,
                )
            }
        },
    };
    match chain::verify(served, &roots, now) {
        Ok(root) => f.fact(format!("chain verifies to {root}")),
        Err(e) => f.fail(format!("chain: {e}"), chain_hint()),
    }
}
