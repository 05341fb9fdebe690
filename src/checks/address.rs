//! The `address` check (`dns.address`): the host name's A and AAAA records are exactly
//! the host's addresses. None visible is pending; another address, or one of ours
//! missing while others are there, fails (mail would go to, or come from, elsewhere).

use super::dnsq::{ask, list, lookup, public_addresses};
use super::{Check, CheckCx, CheckResult, CheckStatus};
use serde::Deserialize;
use std::net::IpAddr;

/// The A/AAAA records of `name` are `ipv4` and `ipv6` (each may be empty: none).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddressCheck {
    /// This host's name.
    pub name: String,
    /// Its IPv4 address (empty: none).
    #[serde(default)]
    pub ipv4: String,
    /// Its IPv6 address (empty: none).
    #[serde(default)]
    pub ipv6: String,
    /// Server to ask (empty: the first nameserver of /etc/resolv.conf).
    #[serde(default)]
    pub server: String,
}

impl Check for AddressCheck {
    fn run(&self, cx: &CheckCx) -> CheckResult {
        let title = format!("A/AAAA of {}", self.name);
        let r = |st, d: String| CheckResult::new(title.clone(), st, d);
        let ours = match public_addresses(cx, &[&self.ipv4, &self.ipv6]) {
            Ok(a) => a,
            Err((st, why)) => return r(st, why),
        };
        let (host, server) = match ask(cx, &self.name, &self.server) {
            Ok(v) => v,
            Err(e) => return r(CheckStatus::Fail, e),
        };
        let found = match lookup(cx, server).addrs(&host) {
            Ok(f) => f,
            Err(e) => return r(CheckStatus::Pending, format!("cannot resolve: {e}")),
        };
        let hint = format!("publish {host} with {}", list(&ours));
        if found.is_empty() {
            return r(
                CheckStatus::Pending,
                format!("no A/AAAA visible at {server} yet"),
            )
            .with_hint(hint);
        }
        let extra: Vec<&IpAddr> = found.iter().filter(|a| !ours.contains(a)).collect();
        let missing: Vec<&IpAddr> = ours.iter().filter(|a| !found.contains(a)).collect();
        if extra.is_empty() && missing.is_empty() {
            return r(CheckStatus::Pass, format!("{} at {server}", list(&found)));
        }
        let mut why = Vec::new();
        if !extra.is_empty() {
            why.push(format!("not this host: {}", list(&extra)));
        }
        if !missing.is_empty() {
            why.push(format!("missing: {}", list(&missing)));
        }
        r(CheckStatus::Fail, format!("{} at {server}", why.join("; "))).with_hint(hint)
    }
}
