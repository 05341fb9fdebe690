//! The `spf` check (`dns.spf`): the domain has exactly one SPF record, it parses, its
//! evaluation stays within RFC 7208's 10 DNS lookups, and `mail-auth` evaluates it to
//! `pass` for each address mail leaves from — the host's, and the smarthost's in relay
//! mode; the HELO name's own record (the HELO identity) passes for the host's
//! addresses too. No record visible is pending; two records, a parse error, 11 lookups
//! or any result but `pass` fail.

use super::dnsq::{addresses, ask, list, lookup, smarthost_addrs};
use super::{Check, CheckCx, CheckResult, CheckStatus};
use crate::dns::spf::{evaluate, evaluate_helo, parse, walk, word, MAX_LOOKUPS};
use mail_auth::SpfResult;
use serde::Deserialize;

/// The domain's SPF passes for the sending addresses.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpfCheck {
    /// The domain whose record is evaluated (MAIL FROM postmaster@domain).
    pub domain: String,
    /// The HELO name the host gives.
    pub helo: String,
    /// The host's IPv4 address (empty: none).
    #[serde(default)]
    pub ipv4: String,
    /// The host's IPv6 address (empty: none).
    #[serde(default)]
    pub ipv6: String,
    /// The smarthost in relay mode (empty: none): its addresses must pass too.
    #[serde(default)]
    pub relay_host: String,
    /// Server to ask (empty: the first nameserver of /etc/resolv.conf).
    #[serde(default)]
    pub server: String,
}

/// Whether a TXT string is an SPF record (`v=spf1` alone or followed by a space).
fn is_spf(t: &str) -> bool {
    let t = t.trim_start();
    t.len() >= 6
        && t[..6].eq_ignore_ascii_case("v=spf1")
        && t[6..].chars().next().is_none_or(|c| c == ' ')
}

impl Check for SpfCheck {
    fn run(&self, cx: &CheckCx) -> CheckResult {
        let title = format!("SPF of {} passes for this host", self.domain);
        let r = |st, d: String| CheckResult::new(title.clone(), st, d);
        if !cx.host.is_live() {
            return r(CheckStatus::Skipped, "offline root".into());
        }
        let own = match addresses(&[&self.ipv4, &self.ipv6]) {
            Ok(a) => a,
            Err(e) => return r(CheckStatus::Fail, e),
        };
        let mut senders = own.clone();
        let (domain, server) = match ask(cx, &self.domain, &self.server) {
            Ok(v) => v,
            Err(e) => return r(CheckStatus::Fail, e),
        };
        let look = lookup(cx, server);
        let txt = match look.txt(&domain) {
            Ok(t) => t,
            Err(e) => return r(CheckStatus::Pending, format!("cannot resolve: {e}")),
        };
        let spf: Vec<&String> = txt.iter().filter(|t| is_spf(t)).collect();
        let fix = "publish the one SPF record `firstboot records` shows";
        match spf.len() {
            0 => {
                return r(
                    CheckStatus::Pending,
                    format!("no SPF record visible at {server} yet"),
                )
                .with_hint(fix)
            }
            1 => {}
            n => {
                let why = format!("{n} SPF records at {server} (receivers answer permerror)");
                return r(CheckStatus::Fail, why).with_hint(format!("remove all but one: {fix}"));
            }
        }
        let record = match parse(&[spf[0].clone()]) {
            Ok(rec) => rec,
            Err(e) => {
                let why = format!("`{}` does not parse: {e}", spf[0]);
                return r(CheckStatus::Fail, why).with_hint(fix);
            }
        };
        let tree = match walk(&look, &domain, &record) {
            Ok(t) => t,
            Err(e) => return r(CheckStatus::Pending, format!("cannot resolve: {e}")),
        };
        if tree.lookups > MAX_LOOKUPS {
            let why = format!(
                "{} DNS lookups, more than {MAX_LOOKUPS} (receivers answer permerror)",
                tree.lookups
            );
            let hint = "flatten includes into ip4:/ip6: or drop some (dns.spf_extra)";
            return r(CheckStatus::Fail, why).with_hint(hint);
        }
        if !tree.broken.is_empty() {
            let why = format!("no usable record at {}", tree.broken.join("; "));
            return r(CheckStatus::Fail, why).with_hint("fix or remove that include:");
        }
        match smarthost_addrs(&look, &self.relay_host) {
            Some(Ok(a)) => senders.extend(a),
            Some(Err((st, why))) => return r(st, why),
            None => {}
        }
        if senders.is_empty() {
            return r(
                CheckStatus::Skipped,
                "no sending address to evaluate".into(),
            );
        }
        let results = match evaluate(&look, domain.as_str(), self.helo.trim(), &senders) {
            Ok(x) => x,
            Err(e) => return r(CheckStatus::Pending, format!("cannot resolve: {e}")),
        };
        let each: Vec<String> = results
            .iter()
            .map(|(ip, res)| format!("{} for {ip}", word(res)))
            .collect();
        let detail = format!(
            "{} of {MAX_LOOKUPS} lookups, {} (at {server})",
            tree.lookups,
            list(&each)
        );
        if results.iter().any(|(_, res)| *res != SpfResult::Pass) {
            let hint = format!(
                "add ip4:/ip6: for {} to the record (dns.spf_extra for other senders)",
                list(&senders)
            );
            return r(CheckStatus::Fail, detail).with_hint(hint);
        }
        let detail = match self.helo(&look, &own) {
            Ok(None) => detail,
            Ok(Some(h)) => format!("{detail}; {h}"),
            Err((st, why, hint)) => {
                let res = r(st, format!("{detail}; {why}"));
                return match hint {
                    Some(h) => res.with_hint(h),
                    None => res,
                };
            }
        };
        r(CheckStatus::Pass, detail)
    }
}

impl SpfCheck {
    /// The HELO identity's SPF (the record at the HELO name) for the host's own
    /// addresses: what a receiver checking HELO gets. `None`: no HELO name or address.
    #[allow(clippy::type_complexity)]
    fn helo(
        &self,
        look: &crate::dns::lookup::Lookup,
        own: &[std::net::IpAddr],
    ) -> Result<Option<String>, (CheckStatus, String, Option<String>)> {
        let helo = self.helo.trim().trim_end_matches('.');
        if helo.is_empty() || own.is_empty() {
            return Ok(None);
        }
        let results = evaluate_helo(look, helo, own).map_err(|e| {
            (
                CheckStatus::Pending,
                format!("HELO {helo}: cannot resolve: {e}"),
                None,
            )
        })?;
        let each: Vec<String> = results
            .iter()
            .map(|(ip, res)| format!("{} for {ip}", word(res)))
            .collect();
        let line = format!("HELO {helo}: {}", list(&each));
        let fix = format!(
            "publish the SPF record of {helo} `firstboot records` shows (ip4:/ip6: of this host)"
        );
        let any = |want: &[SpfResult]| results.iter().any(|(_, r)| want.contains(r));
        if any(&[
            SpfResult::Fail,
            SpfResult::SoftFail,
            SpfResult::Neutral,
            SpfResult::PermError,
        ]) {
            return Err((CheckStatus::Fail, line, Some(fix)));
        }
        if any(&[SpfResult::None]) {
            let why = format!("HELO {helo}: no SPF record visible yet");
            return Err((CheckStatus::Pending, why, Some(fix)));
        }
        if any(&[SpfResult::TempError]) {
            return Err((CheckStatus::Pending, line, None));
        }
        Ok(Some(line))
    }
}

#[cfg(test)]
mod tests {
    use super::is_spf;

    #[test]
    fn only_v_spf1_alone_or_before_a_space_is_spf() {
        assert!(is_spf("v=spf1 -all"));
        assert!(is_spf("V=SPF1"));
        assert!(!is_spf("v=spf10 -all"));
        assert!(!is_spf("v=DMARC1; p=none"));
    }
}
