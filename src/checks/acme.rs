//! The `acme_certificate` check (provider acme): while the certificate served is the
//! self-signed stand-in made with the kept key, it warns that ACME has not succeeded yet
//! and says when the next try is (never a pass, never a failure that rolls the module
//! back); once the CA's certificate is there, it is the `certificate` check.

use super::certificate::CertificateCheck;
use super::{Check, CheckCx, CheckResult, CheckStatus};
use crate::acme::{standing, Standing, State};
use crate::tls::fmt_time;
use crate::tls::names::{one_or_many, split_names};
use serde::Deserialize;

/// The ACME certificate and its kept key.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcmeCheck {
    /// In-tree path of the certificate (full chain, leaf first).
    pub cert: String,
    /// In-tree path of the kept key.
    pub key: String,
    /// Names it must cover.
    #[serde(default, deserialize_with = "one_or_many")]
    pub names: Vec<String>,
    /// CA certificates the CA's chain must verify against (empty: not verified).
    #[serde(default)]
    pub ca_file: Option<String>,
}

impl AcmeCheck {
    fn certificate(&self) -> CertificateCheck {
        CertificateCheck {
            cert: self.cert.clone(),
            key: self.key.clone(),
            names: self.names.clone(),
            ca_file: self.ca_file.clone(),
            warn_days: 21,
            fail_days: 7,
            live_only: true,
        }
    }
}

impl Check for AcmeCheck {
    fn run(&self, cx: &CheckCx) -> CheckResult {
        let inner = self.certificate();
        if !cx.host.is_live() {
            return inner.run(cx);
        }
        let root = &cx.host.root;
        let (Ok(cert), Ok(key)) = (root.read(&self.cert), root.read(&self.key)) else {
            return inner.run(cx);
        };
        let now = crate::tls::now();
        let s = standing(
            (&self.cert, cert.as_deref()),
            (&self.key, key.as_deref()),
            &split_names(&self.names),
            now,
        );
        let Standing::StandIn { days } = s else {
            return inner.run(cx);
        };
        let st = State::load(root);
        let next = match st.next_try {
            Some(t) if t > now => format!("next try from {}", fmt_time(t)),
            _ => "next try at the next cron run (every 5 minutes)".into(),
        };
        let last = match &st.last_error {
            Some(e) => format!("; {} failed tries, last: {e}", st.failures),
            None => String::new(),
        };
        let detail = format!(
            "ACME has not succeeded yet ({next}): a self-signed stand-in with the kept key is served ({days} days left){last}"
        );
        CheckResult::new(
            format!("certificate {}", self.cert),
            CheckStatus::Warn,
            detail,
        )
        .with_hint("`firstboot acme status`; once the host name resolves to this host and port 80 is open, `firstboot acme renew --now`".to_string())
    }
}
