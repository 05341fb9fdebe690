//! The `records` check: resolve each of the module's records through the system resolver
//! or a given server and report the standing `src/dns/check.rs` gives them. A server that
//! cannot be asked says nothing about the records: they are pending.

use super::{Check, CheckCx, CheckResult, CheckStatus};
use crate::dns::check::{judge, Standing};
use crate::dns::compare::{compare, units};
use crate::dns::query::system_server;
use crate::dns::typed::{compute_typed, Typed};
use crate::dns::wire::Client;
use serde::Deserialize;
use std::net::IpAddr;

/// Resolve the module's records and compare them with what they should be.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordsCheck {
    /// Server to ask (empty or absent: the first nameserver of /etc/resolv.conf).
    #[serde(default)]
    pub server: String,
    /// The module's records whose `when` holds, typed: handed over when the module is
    /// built (see [`super::CheckKind::records_slot`]), never written in a manifest.
    #[serde(skip)]
    pub records: Vec<Typed>,
}

impl Check for RecordsCheck {
    fn run(&self, cx: &CheckCx) -> CheckResult {
        let host = cx.host;
        let name = "DNS records".to_string();
        if !host.is_live() {
            return CheckResult::new(name, CheckStatus::Skipped, "offline root");
        }
        let server: IpAddr = match self.server.trim() {
            "" => match system_server(&host.root) {
                Ok(s) => s,
                Err(e) => return CheckResult::new(name, CheckStatus::Fail, e.to_string()),
            },
            s => match s.parse() {
                Ok(ip) => ip,
                Err(_) => {
                    let why = format!("{s:?} is not an IP address");
                    return CheckResult::new(name, CheckStatus::Fail, why);
                }
            },
        };
        let name = format!("DNS records at {server}");
        let records = match compute_typed(&self.records, &host.root) {
            Ok(r) => r,
            Err(e) => return CheckResult::new(name, CheckStatus::Fail, e.to_string()),
        };
        let client = Client {
            net: host.net.as_ref(),
            timeout: cx.timeout,
        };
        let compared = match compare(client, server, &units(&records), false) {
            Ok(c) => c,
            Err(e) => {
                let why = format!("cannot resolve: {e}");
                return CheckResult::new(name, CheckStatus::Pending, why);
            }
        };
        let (standing, detail) = judge(&compared, &records);
        let status = match standing {
            Standing::Pass => CheckStatus::Pass,
            Standing::Pending => CheckStatus::Pending,
            Standing::Fail => CheckStatus::Fail,
        };
        CheckResult::new(name, status, detail)
    }
}
