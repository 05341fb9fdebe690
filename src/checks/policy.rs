//! The `policy_record` check (`dns.mta_sts`, `dns.tls_rpt`): when the module publishes
//! an MTA-STS (RFC 8461) or SMTP TLS reporting (RFC 8460) record, exactly one is
//! visible and `mail-auth` parses it. Not configured: skipped, saying so.

use super::dnsq::{ask, flag, lookup};
use super::{Check, CheckCx, CheckResult, CheckStatus};
use mail_auth::common::parse::TxtRecordParser;
use mail_auth::mta_sts::{MtaSts, TlsRpt};
use serde::Deserialize;

/// Which record.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Which {
    /// `_mta-sts.<domain>`, `v=STSv1`.
    MtaSts,
    /// `_smtp._tls.<domain>`, `v=TLSRPTv1`.
    TlsRpt,
}

/// The domain's MTA-STS or TLS-RPT record, when configured.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyCheck {
    /// Which record.
    pub record: Which,
    /// The mail domain.
    pub domain: String,
    /// `true` when the module publishes it (rendered from its input).
    pub enabled: String,
    /// Server to ask (empty: the first nameserver of /etc/resolv.conf).
    #[serde(default)]
    pub server: String,
}

impl Which {
    fn parts(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Which::MtaSts => ("MTA-STS", "_mta-sts", "v=stsv1"),
            Which::TlsRpt => ("TLS-RPT", "_smtp._tls", "v=tlsrptv1"),
        }
    }
}

/// Judge the TXT strings found at the record's name.
pub fn judge(which: Which, txt: &[String]) -> (CheckStatus, String) {
    let (label, _, tag) = which.parts();
    let found: Vec<&String> = txt
        .iter()
        .filter(|t| t.trim_start().to_ascii_lowercase().starts_with(tag))
        .collect();
    match found.len() {
        0 => {
            return (
                CheckStatus::Pending,
                format!("no {label} record visible yet"),
            )
        }
        1 => {}
        n => return (CheckStatus::Fail, format!("{n} {label} records")),
    }
    let bytes = found[0].as_bytes();
    let parsed = match which {
        Which::MtaSts => MtaSts::parse(bytes).map(|r| format!("id={}", r.id)),
        Which::TlsRpt => {
            TlsRpt::parse(bytes).map(|r| format!("{} report address(es)", r.rua.len()))
        }
    };
    match parsed {
        Ok(d) => (CheckStatus::Pass, d),
        Err(e) => (
            CheckStatus::Fail,
            format!("`{}` does not parse: {e}", found[0]),
        ),
    }
}

impl Check for PolicyCheck {
    fn run(&self, cx: &CheckCx) -> CheckResult {
        let (label, prefix, _) = self.record.parts();
        let title = format!("{label} record of {}", self.domain);
        let r = |st, d: String| CheckResult::new(title.clone(), st, d);
        if !flag(&self.enabled) {
            let key = if self.record == Which::MtaSts {
                "dns.mta_sts"
            } else {
                "dns.tls_rpt"
            };
            return r(
                CheckStatus::Skipped,
                format!("not configured ({key}.enabled is false)"),
            );
        }
        if !cx.host.is_live() {
            return r(CheckStatus::Skipped, "offline root".into());
        }
        let (at, server) = match ask(cx, &format!("{prefix}.{}", self.domain), &self.server) {
            Ok(v) => v,
            Err(e) => return r(CheckStatus::Fail, e),
        };
        let txt = match lookup(cx, server).txt(&at) {
            Ok(t) => t,
            Err(e) => return r(CheckStatus::Pending, format!("cannot resolve: {e}")),
        };
        let (status, detail) = judge(self.record, &txt);
        let out = r(status, format!("{detail} at {at} (at {server})"));
        if status == CheckStatus::Pass {
            out
        } else {
            out.with_hint("publish the record `firstboot records` shows")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_record_that_parses_passes() {
        let t = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            judge(Which::MtaSts, &t(&["v=STSv1; id=20240101"])).0,
            CheckStatus::Pass
        );
        assert_eq!(judge(Which::MtaSts, &t(&[])).0, CheckStatus::Pending);
        let two = t(&["v=STSv1; id=1", "v=STSv1; id=2"]);
        assert_eq!(judge(Which::MtaSts, &two).0, CheckStatus::Fail);
        let rpt = t(&["v=TLSRPTv1; rua=mailto:tls@example.test"]);
        assert_eq!(judge(Which::TlsRpt, &rpt).0, CheckStatus::Pass);
    }
}
