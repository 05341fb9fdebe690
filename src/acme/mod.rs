//! ACME with a key firstboot keeps for ever: the key is made once (rcgen), a CSR from it
//! goes to the CA through `certbot certonly --csr` ([`certbot`]), and until the CA has
//! issued a certificate a self-signed stand-in with the same key is served, so a DANE
//! `3 1 1` record computed from the key stays valid before, during and after issuance
//! and every renewal. What the retries need between runs (failures, next try, last
//! error) is kept in [`STATE_FILE`]; the certificate on disk says what is due
//! ([`Standing`]).

pub mod certbot;

use crate::host::{HostError, Root};
use crate::tls::check::assess;
use serde::{Deserialize, Serialize};

/// Where the retries' state is kept (inside the root).
pub const STATE_FILE: &str = "/var/lib/firstboot/acme.json";

/// Where certbot writes a new certificate before firstboot checks and installs it.
pub const WORK_DIR: &str = "/var/lib/firstboot/acme";

/// The cron file that runs `firstboot acme renew`.
pub const CRON_FILE: &str = "/etc/cron.d/firstboot-acme";

/// First wait after a failure, in seconds; it doubles with each failure.
pub const FIRST_WAIT: i64 = 300;

/// Longest wait between two tries, in seconds.
pub const MAX_WAIT: i64 = 6 * 3600;

/// The seconds to wait after the `failures`-th failure in a row: 5 minutes, doubling,
/// at most 6 hours (so at most 4 tries a day reach the CA while it keeps failing).
pub fn backoff(failures: u32) -> i64 {
    let doublings = failures.saturating_sub(1).min(20);
    (FIRST_WAIT << doublings).min(MAX_WAIT)
}

/// The retries' state between runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// Failed tries in a row (0 after an issuance).
    #[serde(default)]
    pub failures: u32,
    /// When the CA was last asked (seconds since the epoch).
    #[serde(default)]
    pub last_try: Option<i64>,
    /// Not before this time is the CA asked again (unless `--now`).
    #[serde(default)]
    pub next_try: Option<i64>,
    /// Why the last try failed (masked, one line, never key material).
    #[serde(default)]
    pub last_error: Option<String>,
    /// When a certificate was last issued.
    #[serde(default)]
    pub issued: Option<i64>,
}

impl State {
    /// The state in `root` (absent or unreadable: a fresh one, so a damaged file never
    /// stops the retries).
    pub fn load(root: &Root) -> State {
        root.read(STATE_FILE)
            .ok()
            .flatten()
            .and_then(|d| serde_json::from_slice(&d).ok())
            .unwrap_or_default()
    }

    /// Write it (0600, in firstboot's state directory).
    pub fn save(&self, root: &Root) -> Result<(), HostError> {
        crate::state::ensure_state_dir(root)?;
        let json = serde_json::to_vec_pretty(self).unwrap_or_default();
        root.write_atomic(STATE_FILE, &json, 0o600, None)
    }

    /// A failed try at `now`: count it and schedule the next one.
    pub fn failed(&mut self, now: i64, why: &str) {
        self.failures = self.failures.saturating_add(1);
        self.last_try = Some(now);
        self.next_try = Some(now + backoff(self.failures));
        self.last_error = Some(one_line(why));
    }

    /// An issuance at `now`: no failures, nothing scheduled.
    pub fn succeeded(&mut self, now: i64) {
        *self = State {
            last_try: Some(now),
            issued: Some(now),
            ..State::default()
        };
    }

    /// Whether ACME is still failing (a stand-in may be served).
    pub fn pending(&self) -> bool {
        self.failures > 0
    }

    /// Whether the backoff lets the CA be asked at `now`.
    pub fn may_try(&self, now: i64) -> bool {
        self.next_try.is_none_or(|t| now >= t)
    }
}

fn one_line(s: &str) -> String {
    let s: Vec<&str> = s.split_whitespace().collect();
    let s = s.join(" ");
    match s.char_indices().nth(400) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s,
    }
}

/// What the certificate on disk is, against the kept key and the names wanted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// Issued by a CA, matches the key, covers the names, valid for `days` more days.
    Issued {
        /// Whole days left.
        days: i64,
        /// Its end of validity.
        not_after: i64,
    },
    /// A self-signed stand-in with the key, covering the names, `days` left.
    StandIn {
        /// Whole days left.
        days: i64,
    },
    /// Absent, for another key or other names, expired or unreadable: why.
    Unusable(String),
}

/// Whether a DER certificate is its own issuer (self-signed).
pub fn self_signed(der: &[u8]) -> bool {
    x509_parser::parse_x509_certificate(der)
        .map(|(_, c)| c.issuer().as_raw() == c.subject().as_raw())
        .unwrap_or(false)
}

/// Whether a served certificate (DER) is provider acme's stand-in: self-signed while
/// ACME is failing. TLS checks then treat it as self-signed (a warning) rather than
/// verifying it against `ssl.ca_file` (a failure that would roll mail back).
pub fn stand_in_served(root: &Root, der: &[u8]) -> bool {
    self_signed(der) && State::load(root).pending()
}

/// Judge the certificate file `cert` (as read) against the key and names at `now`.
pub fn standing(
    (cert_path, cert): (&str, Option<&[u8]>),
    (key_path, key): (&str, Option<&[u8]>),
    names: &[String],
    now: i64,
) -> Standing {
    let a = assess((cert_path, cert), (key_path, key), names, now);
    match (&a.leaf, a.problems.is_empty(), a.chain.first()) {
        (Some(leaf), true, Some(der)) => {
            let days = leaf.days_left(now);
            if self_signed(der.as_ref()) {
                Standing::StandIn { days }
            } else {
                Standing::Issued {
                    days,
                    not_after: leaf.not_after,
                }
            }
        }
        _ => Standing::Unusable(a.problems.join("; ")),
    }
}

/// The certificates after the first in a PEM chain (the intermediates of a full chain),
/// as PEM.
pub fn pem_tail(fullchain: &[u8]) -> Vec<u8> {
    const END: &str = "-----END CERTIFICATE-----";
    let text = String::from_utf8_lossy(fullchain);
    match text.find(END) {
        Some(i) => text[i + END.len()..].trim_start().as_bytes().to_vec(),
        None => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_five_minutes_to_six_hours() {
        let waits: Vec<i64> = (1..=9).map(backoff).collect();
        assert_eq!(
            waits,
            [300, 600, 1200, 2400, 4800, 9600, 19200, 21600, 21600]
        );
        assert_eq!(backoff(0), 300);
        assert_eq!(backoff(u32::MAX), MAX_WAIT);
    }

    #[test]
    fn a_failure_schedules_the_next_try_and_a_success_clears_it() {
        let mut s = State::default();
        assert!(s.may_try(0));
        s.failed(1000, "no\n  answer");
        assert_eq!(s.next_try, Some(1300));
        assert_eq!(s.last_error.as_deref(), Some("no answer"));
        assert!(!s.may_try(1299) && s.may_try(1300));
        s.failed(1300, "again");
        assert_eq!((s.failures, s.next_try), (2, Some(1900)));
        s.succeeded(2000);
        assert_eq!((s.failures, s.next_try, s.issued), (0, None, Some(2000)));
    }

    #[test]
    fn a_self_signed_certificate_is_the_stand_in_only_while_acme_fails() {
        let dir = tempfile::tempdir().unwrap();
        let root = Root::new(dir.path());
        let kp = rcgen::KeyPair::generate().unwrap();
        let p = rcgen::CertificateParams::new(vec!["mail.example.test".to_string()]).unwrap();
        let own = p.self_signed(&kp).unwrap();
        assert!(!stand_in_served(&root, own.der()), "no ACME state");
        let mut s = State::default();
        s.failed(0, "no address");
        s.save(&root).unwrap();
        assert!(stand_in_served(&root, own.der()));
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.distinguished_name
            .push(rcgen::DnType::CommonName, "Test CA");
        let mut leaf = p.clone();
        leaf.distinguished_name
            .push(rcgen::DnType::CommonName, "mail.example.test");
        let issued = leaf
            .signed_by(&kp, &rcgen::Issuer::new(ca, ca_key))
            .unwrap();
        assert!(!stand_in_served(&root, issued.der()), "a CA's certificate");
        s.succeeded(1);
        s.save(&root).unwrap();
        assert!(!stand_in_served(&root, own.der()), "ACME succeeded");
    }

    #[test]
    fn the_tail_of_a_full_chain_is_its_intermediates() {
        let a = "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n";
        let b = "-----BEGIN CERTIFICATE-----\nBB==\n-----END CERTIFICATE-----\n";
        assert_eq!(pem_tail(format!("{a}{b}").as_bytes()), b.as_bytes());
        assert!(pem_tail(a.as_bytes()).is_empty());
    }
}
