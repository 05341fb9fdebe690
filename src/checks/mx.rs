//! The `mx` check (`dns.mx`): the domain's MX records name this host. No MX visible is
//! pending (not published or not propagated yet); MX records that all name other hosts
//! fail; this host beside others passes, naming its preference.

use super::dnsq::{list, lookup, name, server};
use super::{Check, CheckCx, CheckResult, CheckStatus};
use serde::Deserialize;

/// The MX records of `domain` name `host`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MxCheck {
    /// The mail domain.
    pub domain: String,
    /// This host's name.
    pub host: String,
    /// Server to ask (empty: the first nameserver of /etc/resolv.conf).
    #[serde(default)]
    pub server: String,
}

impl Check for MxCheck {
    fn run(&self, cx: &CheckCx) -> CheckResult {
        let title = format!("MX of {} is {}", self.domain, self.host);
        let r = |st, d: String| CheckResult::new(title.clone(), st, d);
        if !cx.host.is_live() {
            return r(CheckStatus::Skipped, "offline root".into());
        }
        let (domain, host) = match (name(&self.domain), name(&self.host)) {
            (Ok(d), Ok(h)) => (d, h),
            (Err(e), _) | (_, Err(e)) => return r(CheckStatus::Fail, e),
        };
        let server = match server(cx, &self.server) {
            Ok(s) => s,
            Err(e) => return r(CheckStatus::Fail, e),
        };
        let mx = match lookup(cx, server).mx(&domain) {
            Ok(mx) => mx,
            Err(e) => return r(CheckStatus::Pending, format!("cannot resolve: {e}")),
        };
        let hint = format!("publish `{domain}. MX 10 {host}.`");
        if mx.is_empty() {
            return r(
                CheckStatus::Pending,
                format!("no MX visible at {server} yet"),
            )
            .with_hint(hint);
        }
        match mx.iter().find(|(_, h)| *h == host) {
            Some((p, _)) => r(
                CheckStatus::Pass,
                format!("{host} at preference {p} ({} MX at {server})", mx.len()),
            ),
            None => {
                let found: Vec<_> = mx.iter().map(|(p, h)| format!("{p} {h}")).collect();
                r(
                    CheckStatus::Fail,
                    format!("MX at {server} names {}, not {host}", list(&found)),
                )
                .with_hint(hint)
            }
        }
    }
}
