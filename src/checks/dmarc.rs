//! The `dmarc` check (`dns.dmarc`): `_dmarc.<domain>` holds exactly one DMARC record,
//! `mail-auth` parses it, and it states its policy. `p=none` (receivers only report)
//! is a warning; none visible is pending; two records or one that does not parse fail.

use super::dnsq::{ask, lookup};
use super::{Check, CheckCx, CheckResult, CheckStatus};
use mail_auth::common::parse::TxtRecordParser;
use mail_auth::dmarc::{Dmarc, Policy};
use serde::Deserialize;

/// The domain publishes a DMARC policy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DmarcCheck {
    /// The mail domain.
    pub domain: String,
    /// Server to ask (empty: the first nameserver of /etc/resolv.conf).
    #[serde(default)]
    pub server: String,
}

fn word(p: &Policy) -> &'static str {
    match p {
        Policy::None => "none",
        Policy::Quarantine => "quarantine",
        Policy::Reject => "reject",
        Policy::Unspecified => "unspecified",
    }
}

/// Judge the TXT strings found at `_dmarc.<domain>`.
pub fn judge(txt: &[String]) -> (CheckStatus, String, Option<&'static str>) {
    let fix = "publish the DMARC record `firstboot records` shows";
    let dmarc: Vec<&String> = txt
        .iter()
        .filter(|t| t.trim_start().to_ascii_lowercase().starts_with("v=dmarc1"))
        .collect();
    match dmarc.len() {
        0 => {
            return (
                CheckStatus::Pending,
                "no DMARC record visible yet".into(),
                Some(fix),
            )
        }
        1 => {}
        n => {
            let why = format!("{n} DMARC records (receivers ignore them all)");
            return (CheckStatus::Fail, why, Some(fix));
        }
    }
    let rec = match Dmarc::parse(dmarc[0].as_bytes()) {
        Ok(r) => r,
        Err(e) => {
            let why = format!("`{}` does not parse: {e}", dmarc[0]);
            return (CheckStatus::Fail, why, Some(fix));
        }
    };
    let rua: Vec<&str> = rec.rua.iter().map(|u| u.uri.as_str()).collect();
    let detail = format!(
        "p={}, sp={}, rua={}",
        word(&rec.p),
        word(&rec.sp),
        if rua.is_empty() {
            "none".to_string()
        } else {
            rua.join(",")
        }
    );
    match rec.p {
        Policy::Quarantine | Policy::Reject => (CheckStatus::Pass, detail, None),
        Policy::None => (
            CheckStatus::Warn,
            format!("{detail}: receivers deliver mail failing DMARC anyway"),
            Some(
                "once reports show only your own mail, set dns.dmarc.policy: quarantine or reject",
            ),
        ),
        Policy::Unspecified => (CheckStatus::Fail, format!("{detail}: no p= tag"), Some(fix)),
    }
}

impl Check for DmarcCheck {
    fn run(&self, cx: &CheckCx) -> CheckResult {
        let title = format!("DMARC policy of {}", self.domain);
        let r = |st, d: String| CheckResult::new(title.clone(), st, d);
        if !cx.host.is_live() {
            return r(CheckStatus::Skipped, "offline root".into());
        }
        let (at, server) = match ask(cx, &format!("_dmarc.{}", self.domain), &self.server) {
            Ok(v) => v,
            Err(e) => return r(CheckStatus::Fail, e),
        };
        let txt = match lookup(cx, server).txt(&at) {
            Ok(t) => t,
            Err(e) => return r(CheckStatus::Pending, format!("cannot resolve: {e}")),
        };
        let (status, detail, hint) = judge(&txt);
        let out = r(status, format!("{detail} (at {server})"));
        match hint {
            Some(h) => out.with_hint(h),
            None => out,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(t: &[&str]) -> CheckStatus {
        judge(&t.iter().map(|s| s.to_string()).collect::<Vec<_>>()).0
    }

    #[test]
    fn policy_none_warns_quarantine_passes_two_fail_none_pending() {
        let q = "v=DMARC1; p=quarantine; rua=mailto:d@example.test";
        assert_eq!(st(&[q]), CheckStatus::Pass);
        assert_eq!(st(&["v=DMARC1; p=none"]), CheckStatus::Warn);
        assert_eq!(st(&[q, "v=DMARC1; p=reject"]), CheckStatus::Fail);
        assert_eq!(st(&["v=spf1 -all"]), CheckStatus::Pending);
        assert_eq!(st(&[]), CheckStatus::Pending);
        let (_, d, _) = judge(&[q.to_string()]);
        assert!(d.starts_with("p=quarantine"), "{d}");
    }
}
