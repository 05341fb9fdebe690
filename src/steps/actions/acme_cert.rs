//! `acme_cert`: provider acme with a key firstboot keeps for ever. The key is made once
//! (rcgen, ECDSA P-256; an existing one is kept, whoever made it) and a certificate for
//! it is asked of the CA through `certbot certonly --csr` (`crate::acme::certbot`).
//! When the CA cannot be asked or refuses (the name does not resolve here yet, port 80
//! unreachable, certbot fails), a self-signed stand-in made with the same key is
//! installed at the same paths, the run says so with a warning, and the try is counted
//! in `/var/lib/firstboot/acme.json` for `firstboot acme renew` (cron) to retry with
//! backoff. A certificate from the CA that covers the names and has more than
//! `renew_days` left is never replaced. Both paths therefore always exist after the
//! module ran, and a DANE `3 1 1` record from the key stays valid throughout.

use super::self_signed_cert::{cert_names, key_or_cert};
use crate::acme::certbot::{request, Issued, Request};
use crate::acme::{standing, Standing, State};
use crate::backup::Backup;
use crate::host::services::ServiceVerb;
use crate::host::Host;
use crate::steps::managed::Wanted;
use crate::steps::{offline, Planned, RunState, Step, StepCx, StepError};
use crate::tls::fmt_time;
use crate::tls::names::{one_or_many, split_names};
use rcgen::KeyPair;
use serde::Deserialize;
use std::net::IpAddr;

fn root_name() -> String {
    "root".into()
}
fn renew_default() -> u32 {
    30
}

/// A certificate from an ACME CA for a kept key, with a self-signed stand-in until then.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcmeCert {
    /// In-tree path of the certificate served: the full chain (leaf first), or the
    /// stand-in; 0644 root:root.
    pub cert: String,
    /// In-tree path of the kept private key (PKCS#8 PEM), 0640 root:`group`.
    pub key: String,
    /// In-tree path of the intermediates (the stand-in itself while there are none).
    pub chain: String,
    /// Names to cover; the first is the subject. Items may hold several names.
    #[serde(deserialize_with = "one_or_many")]
    pub names: Vec<String>,
    /// Group allowed to read the key.
    #[serde(default = "root_name")]
    pub group: String,
    /// ACME directory URL.
    pub directory: String,
    /// Contact address registered with the CA (empty: none).
    #[serde(default)]
    pub email: String,
    /// CA bundle for the ACME server's HTTPS (empty: the system's).
    #[serde(default)]
    pub ca_bundle: String,
    /// This host's public addresses: the CA is asked only once every name resolves to
    /// one of them (none given: always asked). Empty items are ignored.
    #[serde(default, deserialize_with = "one_or_many")]
    pub addresses: Vec<String>,
    /// Ask for a new certificate when fewer days than this are left.
    #[serde(default = "renew_default")]
    pub renew_days: u32,
    /// Services reloaded, when running, after a new certificate was installed.
    #[serde(default)]
    pub reload: Vec<String>,
}

/// What `firstboot acme renew` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Renewal {
    /// The CA's certificate is good for a while: nothing asked.
    NotDue {
        /// Its end of validity.
        not_after: i64,
        /// When it becomes due.
        due: i64,
    },
    /// A try is due but the backoff says later.
    Waiting {
        /// When the next try may be.
        next_try: i64,
        /// Why the last one failed.
        last_error: Option<String>,
    },
    /// The CA issued a certificate; it is installed and these services reloaded.
    Installed {
        /// Its end of validity.
        not_after: i64,
        /// Services reloaded.
        reloaded: Vec<String>,
    },
    /// The CA was asked and did not issue: why, and the next try.
    Failed {
        /// Why (one line).
        why: String,
        /// When the next try is.
        next_try: i64,
    },
}

fn invalid(msg: String) -> StepError {
    StepError::Invalid(msg)
}

/// The key's PEM, and a key pair from it, or a new one (`made`: true).
fn key_pair(current: Option<&[u8]>) -> Result<(KeyPair, Vec<u8>, bool), StepError> {
    let kept = current
        .and_then(|k| std::str::from_utf8(k).ok())
        .and_then(|k| KeyPair::from_pem(k).ok());
    match (kept, current) {
        (Some(kp), Some(pem)) => Ok((kp, pem.to_vec(), false)),
        _ => {
            let kp = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
                .map_err(|e| invalid(format!("cannot generate a key: {e}")))?;
            let pem = kp.serialize_pem().into_bytes();
            Ok((kp, pem, true))
        }
    }
}

impl AcmeCert {
    /// The names to cover (checked).
    pub fn names(&self) -> Result<Vec<String>, StepError> {
        cert_names(&self.names, "acme_cert")
    }

    fn addresses(&self) -> Result<Vec<IpAddr>, StepError> {
        split_names(&self.addresses)
            .iter()
            .map(|a| {
                a.parse()
                    .map_err(|_| invalid(format!("acme_cert: {a:?} is not an IP address")))
            })
            .collect()
    }

    /// Ask the CA (after checking the names reach this host).
    fn ask(&self, host: &Host, names: &[String], key_pem: &[u8]) -> Result<Issued, String> {
        let addresses = self.addresses().map_err(|e| e.to_string())?;
        let req = Request {
            directory: &self.directory,
            email: &self.email,
            ca_bundle: &self.ca_bundle,
            names,
            addresses: &addresses,
        };
        request(host, &req, key_pem)
    }

    /// How the certificate on disk stands against `key_pem` now.
    pub fn standing(&self, host: &Host, key_pem: &[u8]) -> Result<Standing, StepError> {
        let cert = host.root.read(&self.cert)?;
        Ok(standing(
            (&self.cert, cert.as_deref()),
            (&self.key, Some(key_pem)),
            &self.names()?,
            crate::tls::now(),
        ))
    }

    fn good(&self, s: &Standing) -> bool {
        matches!(s, Standing::Issued { days, .. } if *days >= i64::from(self.renew_days))
    }

    /// A self-signed stand-in with the key: the one on disk while it is good, else new.
    fn stand_in(
        &self,
        host: &Host,
        kp: &KeyPair,
        names: &[String],
        s: &Standing,
    ) -> Result<Vec<u8>, StepError> {
        if matches!(s, Standing::StandIn { days } if *days >= i64::from(self.renew_days)) {
            if let Some(c) = host.root.read(&self.cert)? {
                return Ok(c);
            }
        }
        let pem = super::self_signed_cert::issue(kp, names, crate::tls::now(), 90)?;
        Ok(pem.into_bytes())
    }

    /// Reload the running services among `reload`; the ones reloaded.
    fn reload(&self, host: &Host) -> Result<Vec<String>, StepError> {
        let mut done = Vec::new();
        for s in &self.reload {
            if host.services().is_running(s)? {
                host.services().act(s, ServiceVerb::Reload)?;
                done.push(s.clone());
            }
        }
        Ok(done)
    }

    fn wanted<'a>(&'a self, cx: &StepCx, path: &'a str, content: &[u8]) -> Wanted<'a> {
        let mut w = key_or_cert(cx, path, content, (&self.key, &self.group), &[]);
        // The certificate and chain are also replaced by `firstboot acme renew` between
        // runs: what is on disk is never a hand edit to protect. The key is.
        if path != self.key {
            w.current_managed_hash = None;
        }
        w
    }
}

mod run;

impl Step for AcmeCert {
    fn target(&self) -> String {
        format!("action acme_cert {}", self.cert)
    }

    fn plan(&self, cx: &StepCx, run: &mut RunState) -> Result<Planned, StepError> {
        if !cx.host.is_live() {
            return self.first_boot();
        }
        self.plan_live(cx, run)
    }

    fn apply(
        &self,
        cx: &StepCx,
        run: &mut RunState,
        backup: &mut Backup,
    ) -> Result<Planned, StepError> {
        if !cx.host.is_live() {
            return self.first_boot();
        }
        self.apply_live(cx, run, backup)
    }
}

impl AcmeCert {
    /// Under an offline root (an image being built): the key is host-unique and the CA
    /// can only reach the running host.
    fn first_boot(&self) -> Result<Planned, StepError> {
        let what = format!(
            "make a key and ask {} for a certificate for {} on the first boot of each instance (host-unique: never made into an image)",
            self.directory,
            self.names()?.join(", ")
        );
        Ok(offline(self.target(), &what))
    }

    /// One line on when the next try is.
    fn next_line(state: &State) -> String {
        match state.next_try {
            Some(t) => format!(
                "`firstboot acme renew` (cron, {}) tries again from {}",
                crate::acme::CRON_FILE,
                fmt_time(t)
            ),
            None => format!(
                "`firstboot acme renew` (cron, {}) tries again",
                crate::acme::CRON_FILE
            ),
        }
    }
}
