//! The `dnssec` check (`dns.dnssec`): whether the zone's answers can be trusted. An
//! answer marked authentic (AD: a validating resolver checked it) passes; a zone that
//! publishes DNSKEY records asked of a server that does not validate (an authoritative
//! one) passes, saying so; an unsigned zone is a warning — a failure only when DANE is
//! configured, since a TLSA record in an unsigned zone protects nothing.

use super::dnsq::{ask, flag};
use super::{Check, CheckCx, CheckResult, CheckStatus};
use crate::dns::query::dnssec;
use crate::dns::wire::Client;
use serde::Deserialize;

/// The zone is DNSSEC-signed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnssecCheck {
    /// The zone (the mail domain).
    pub zone: String,
    /// `true` when the module publishes TLSA records (DANE needs DNSSEC).
    #[serde(default)]
    pub dane: String,
    /// Server to ask (empty: the first nameserver of /etc/resolv.conf).
    #[serde(default)]
    pub server: String,
}

impl Check for DnssecCheck {
    fn run(&self, cx: &CheckCx) -> CheckResult {
        let title = format!("DNSSEC of {}", self.zone);
        let r = |st, d: String| CheckResult::new(title.clone(), st, d);
        if !cx.host.is_live() {
            return r(CheckStatus::Skipped, "offline root".into());
        }
        let (zone, server) = match ask(cx, &self.zone, &self.server) {
            Ok(v) => v,
            Err(e) => return r(CheckStatus::Fail, e),
        };
        let client = Client {
            net: cx.host.net.as_ref(),
            timeout: cx.timeout,
        };
        let got = match dnssec(client, server, &zone) {
            Ok(g) => g,
            Err(e) => return r(CheckStatus::Pending, format!("cannot resolve: {e}")),
        };
        if got.authentic {
            return r(
                CheckStatus::Pass,
                format!("answers validated (AD) by {server}"),
            );
        }
        if got.dnskeys > 0 {
            let d = format!(
                "signed: {} DNSKEY at {server} (which does not validate)",
                got.dnskeys
            );
            return r(CheckStatus::Pass, d);
        }
        let dane = flag(&self.dane);
        let status = if dane {
            CheckStatus::Fail
        } else {
            CheckStatus::Warn
        };
        let why = if dane {
            "unsigned zone (no DNSKEY): the TLSA record (DANE) protects nothing"
        } else {
            "unsigned zone (no DNSKEY): answers can be forged on the way"
        };
        r(status, format!("{why} (at {server})")).with_hint(
            "sign the zone at your DNS provider and publish the DS record at the registrar",
        )
    }
}
