//! The `ptr` check: forward-confirmed reverse DNS for each of the host's addresses —
//! the PTR names `name` and `name` resolves back to the same address (`dns.ptr`); with
//! `helo: true`, `name` is the HELO name Postfix gives (`smtp_helo_name`) and must be
//! that PTR name (`dns.helo`). No PTR yet is pending (only the address owner sets it);
//! a PTR naming another host, or a name that does not resolve back, fails.

use super::dnsq::{ask, list, lookup, public_addresses};
use super::{Check, CheckCx, CheckResult, CheckStatus};
use crate::dns::decl::RType;
use crate::dns::lookup::Lookup;
use crate::dns::name::DName;
use serde::Deserialize;
use std::net::IpAddr;

/// Each address's PTR is `name`, which resolves back to it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PtrCheck {
    /// The name the PTR records must give (the host name, or the HELO name).
    pub name: String,
    /// The host's IPv4 address (empty: none).
    #[serde(default)]
    pub ipv4: String,
    /// The host's IPv6 address (empty: none).
    #[serde(default)]
    pub ipv6: String,
    /// `name` is the HELO name (the check is about what the host says in HELO).
    #[serde(default)]
    pub helo: bool,
    /// Server to ask (empty: the first nameserver of /etc/resolv.conf).
    #[serde(default)]
    pub server: String,
}

/// One address's standing.
fn one(look: &Lookup, ip: IpAddr, want: &DName, helo: bool) -> (CheckStatus, String) {
    let names = match look.ptr(ip) {
        Ok(n) => n,
        Err(e) => return (CheckStatus::Pending, format!("{ip}: cannot resolve: {e}")),
    };
    if names.is_empty() {
        return (CheckStatus::Pending, format!("{ip}: no PTR visible yet"));
    }
    if !names.contains(want) {
        let what = if helo { "HELO name" } else { "PTR" };
        let why = format!("{ip}: PTR is {}, {what} {want} is not", list(&names));
        return (CheckStatus::Fail, why);
    }
    match look.addrs(want) {
        Ok(a) if a.contains(&ip) => (CheckStatus::Pass, format!("{ip} <-> {want}")),
        Ok(a) => (
            CheckStatus::Fail,
            format!(
                "{ip}: PTR {want} resolves to {}, not back to {ip}",
                list(&a)
            ),
        ),
        Err(e) => (
            CheckStatus::Pending,
            format!("{ip}: cannot resolve {want}: {e}"),
        ),
    }
}

impl Check for PtrCheck {
    fn run(&self, cx: &CheckCx) -> CheckResult {
        let title = if self.helo {
            format!("HELO name {} matches reverse DNS", self.name)
        } else {
            format!("reverse DNS is {} (forward-confirmed)", self.name)
        };
        let r = |st, d: String| CheckResult::new(title.clone(), st, d);
        let ours = match public_addresses(cx, &[&self.ipv4, &self.ipv6]) {
            Ok(a) => a,
            Err((st, why)) => return r(st, why),
        };
        let (want, server) = match ask(cx, &self.name, &self.server) {
            Ok(v) => v,
            Err(e) => return r(CheckStatus::Fail, e),
        };
        let look = lookup(cx, server);
        // Every question at once: the PTRs and the name's addresses.
        let mut ask: Vec<(DName, RType)> = ours
            .iter()
            .map(|ip| (DName::reverse(*ip), RType::Ptr))
            .collect();
        ask.push((want.clone(), RType::A));
        ask.push((want.clone(), RType::Aaaa));
        look.prefetch(&ask);
        let each: Vec<_> = ours
            .iter()
            .map(|ip| one(&look, *ip, &want, self.helo))
            .collect();
        let status = [CheckStatus::Fail, CheckStatus::Pending]
            .into_iter()
            .find(|s| each.iter().any(|(st, _)| st == s))
            .unwrap_or(CheckStatus::Pass);
        let detail = each
            .iter()
            .map(|(_, d)| d.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        let result = r(status, format!("{detail} (at {server})"));
        match status {
            CheckStatus::Pass => result,
            _ if self.helo => result.with_hint(format!(
                "make smtp_helo_name the PTR name of the sending address, or ask the \
                 address owner to set the PTR of {} to {want}",
                list(&ours)
            )),
            _ => result.with_hint(format!(
                "ask whoever owns {} (your provider) to set its PTR to {want}",
                list(&ours)
            )),
        }
    }
}
