//! `firstboot preflight`: what no configuration can fix, found before anything is
//! installed — outbound port 25, reverse DNS, ports 25 and 80, the host name in DNS,
//! free disk, and (provider acme) whether a certificate can be had. Each finding is a
//! [`CheckResult`] that passes, warns (saying what to ask the provider for) or is skipped;
//! nothing here fails or blocks: `run` prints the warnings and goes on.

mod items;
pub mod ports;

use crate::checks::{CheckResult, CheckStatus};
use crate::host::Host;
use std::net::IpAddr;
use std::time::Duration;

/// Free space wanted on the file systems of `/` and `/var` (packages, queue, mailboxes).
pub const MIN_FREE_MIB: u64 = 1024;

/// The default outbound port 25 probe: a domain whose MX answers on port 25.
pub const DEFAULT_PROBE: &str = "gmail.com";

/// What preflight looks at, from the resolved config.
#[derive(Debug, Clone)]
pub struct Target {
    /// The host's name (`hostname`).
    pub hostname: String,
    /// Its public addresses (`ipv4`, `ipv6`).
    pub addresses: Vec<IpAddr>,
    /// Whether the certificate comes from ACME (`ssl.provider: acme`).
    pub acme: bool,
    /// Where outbound port 25 is tried: `HOST[:PORT]`, a domain (its MX) or an address.
    pub probe: String,
}

impl Target {
    /// The target from resolved input values (`hostname`, `ipv4`, `ipv6`,
    /// `ssl.provider`, `smtp_probe`).
    pub fn from_values(v: &serde_json::Value) -> Target {
        let s = |p: &str| {
            v.pointer(p)
                .and_then(|x| x.as_str())
                .unwrap_or("")
                .trim()
                .to_string()
        };
        let addresses = ["/ipv4", "/ipv6"]
            .iter()
            .filter_map(|p| s(p).parse().ok())
            .collect();
        let probe = match s("/smtp_probe") {
            p if p.is_empty() => DEFAULT_PROBE.to_string(),
            p => p,
        };
        Target {
            hostname: s("/hostname"),
            addresses,
            acme: s("/ssl/provider") == "acme",
            probe,
        }
    }
}

/// Run every item (concurrently: each waits on the network at most `timeout` per
/// exchange) and return the results in a fixed order. An offline root is not a host:
/// everything is skipped.
pub fn preflight(host: &Host, t: &Target, timeout: Duration) -> Vec<CheckResult> {
    if !host.is_live() {
        let mut r = CheckResult::new("preflight".into(), CheckStatus::Skipped, "offline root");
        r.id = "preflight".into();
        return vec![r];
    }
    let ptr_ids: Vec<&str> = match t.addresses.is_empty() {
        true => vec!["preflight.ptr"],
        false => t
            .addresses
            .iter()
            .map(|a| match a.is_ipv4() {
                true => "preflight.ptr_ipv4",
                false => "preflight.ptr_ipv6",
            })
            .collect(),
    };
    std::thread::scope(|s| {
        let jobs = [
            (
                s.spawn(|| items::outbound_25(host, t, timeout)),
                vec!["preflight.outbound_25"],
            ),
            (s.spawn(|| items::ptr(host, t, timeout)), ptr_ids),
            (
                s.spawn(|| items::ports(t)),
                vec!["preflight.port_25", "preflight.port_80"],
            ),
            (
                s.spawn(|| items::fqdn(host, t, timeout)),
                vec!["preflight.fqdn"],
            ),
            (
                s.spawn(|| items::disk(host)),
                vec!["preflight.disk_root", "preflight.disk_var"],
            ),
            (
                s.spawn(|| items::acme(host, t, timeout)),
                vec!["preflight.acme"],
            ),
        ];
        jobs.into_iter()
            .flat_map(|(j, ids)| {
                let rs = j.join().unwrap_or_else(|_| {
                    vec![CheckResult::new(
                        "preflight".into(),
                        CheckStatus::Warn,
                        "a probe panicked",
                    )]
                });
                rs.into_iter()
                    .zip(ids.into_iter().chain(std::iter::repeat("preflight.other")))
                    .map(|(mut r, id)| {
                        r.id = id.to_string();
                        r
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    })
}
