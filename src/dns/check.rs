//! The `records` check: resolve each of the module's records through the system resolver
//! or a given server and tell apart `pass` (visible and right), `pending` (not visible
//! yet, not computable yet, waiting for the provider, or the server cannot be asked) and
//! `fail` (visible but wrong).

use super::compare::{compare, units, Compared, Verdict};
use super::decl::{compute_all, Publish, Rendered};
use super::query::system_server;
use crate::engine::checks::{CheckResult, CheckStatus};
use crate::host::Host;
use serde::Deserialize;
use std::net::IpAddr;

/// Resolve the module's records and compare them with what they should be.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordsCheck {
    /// Server to ask (empty or absent: the first nameserver of /etc/resolv.conf).
    #[serde(default)]
    pub server: String,
    /// The module's records; filled in by the catalog from the manifest's `records:`.
    #[serde(default)]
    pub records: Vec<Rendered>,
}

fn want(c: &Compared) -> String {
    c.unit
        .wanted
        .iter()
        .map(|(_, d)| d.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

impl RecordsCheck {
    /// Run the check on `host` (skipped on an offline root: nothing resolves there).
    pub fn run(&self, host: &Host) -> CheckResult {
        let mut name = "DNS records".to_string();
        let out = |name: String, status, detail: String| CheckResult {
            name,
            status,
            detail,
        };
        if !host.is_live() {
            return out(name, CheckStatus::Skipped, "offline root".into());
        }
        let server: IpAddr = match self.server.trim() {
            "" => match system_server(&host.root) {
                Ok(s) => s,
                Err(e) => return out(name, CheckStatus::Fail, e.to_string()),
            },
            s => match s.parse() {
                Ok(ip) => ip,
                Err(_) => {
                    return out(
                        name,
                        CheckStatus::Fail,
                        format!("{s:?} is not an IP address"),
                    )
                }
            },
        };
        name = format!("DNS records at {server}");
        let records = match compute_all(&self.records, &host.root) {
            Ok(r) => r,
            Err(e) => return out(name, CheckStatus::Fail, e.to_string()),
        };
        // A server that cannot be asked says nothing about the records: not visible yet.
        let compared = match compare(server, &units(&records), false) {
            Ok(c) => c,
            Err(e) => return out(name, CheckStatus::Pending, format!("cannot resolve: {e}")),
        };
        let (mut ok, mut wrong, mut pending) = (0, Vec::new(), Vec::new());
        for c in &compared {
            match (c.verdict.clone(), c.unit.publish) {
                (Verdict::Ok, _) => ok += 1,
                (Verdict::Missing, Publish::Dns) => {
                    pending.push(format!("{}: not visible yet", c.unit.label()))
                }
                (Verdict::Different, Publish::Dns) => wrong.push(format!(
                    "{}: server has {}, want {}",
                    c.unit.label(),
                    c.found_text().join(", "),
                    want(c)
                )),
                (v, Publish::Provider) => pending.push(format!(
                    "{}: {} — ask your DNS provider for {}",
                    c.unit.label(),
                    if v == Verdict::Missing {
                        "not set".to_string()
                    } else {
                        format!("is {}", c.found_text().join(", "))
                    },
                    want(c)
                )),
            }
        }
        for r in records.iter().filter(|r| r.data().is_none()) {
            if let super::record::RecordValue::Pending(why) = &r.value {
                pending.push(format!("{}: {why}", r.label()));
            }
        }
        let status = if !wrong.is_empty() {
            CheckStatus::Fail
        } else if !pending.is_empty() {
            CheckStatus::Pending
        } else {
            CheckStatus::Pass
        };
        let mut detail = vec![format!("{ok} of {} ok", compared.len())];
        if !wrong.is_empty() {
            detail.push(format!("wrong: {}", wrong.join("; ")));
        }
        if !pending.is_empty() {
            detail.push(format!("pending: {}", pending.join("; ")));
        }
        out(name, status, detail.join("; "))
    }
}
