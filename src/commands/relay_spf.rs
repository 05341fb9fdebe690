//! The warning `plan` gives in relay mode when the SPF record 8-dns_config publishes
//! does not cover the smarthost: mail it relays leaves from the relay's addresses, so
//! receivers find them missing from `v=spf1 ...` and SPF fails (and DMARC with it, if
//! the DKIM signature breaks on the way). Offline, without resolving anything, an SPF
//! mechanism covers the smarthost when it names the smarthost or its parent domain (or
//! a name under that domain, such as `include:_spf.example.net` for `smtp.example.net`);
//! an `ip4:`/`ip6:` mechanism cannot be judged without DNS and keeps the warning quiet.

use serde_json::Value;

/// Does `mechanism` (an SPF mechanism of `dns.spf_extra`) cover `host`?
fn covers(mechanism: &str, host: &str) -> bool {
    let m = mechanism.trim_start_matches(['+', '-', '~', '?']);
    if m.starts_with("ip4:") || m.starts_with("ip6:") {
        return true;
    }
    let Some((_, target)) = m.split_once(':') else {
        return false;
    };
    let target = target.split('/').next().unwrap_or("").trim_end_matches('.');
    let target = target.to_ascii_lowercase();
    let parent = host
        .split_once('.')
        .map(|(_, p)| p)
        .filter(|p| p.contains('.'));
    target == host
        || host.ends_with(&format!(".{target}"))
        || parent.is_some_and(|p| target == p || target.ends_with(&format!(".{p}")))
}

/// The warning for these resolved inputs, if any: relay mode, 8-dns_config's SPF among
/// the inputs, and no `dns.spf_extra` mechanism covering `mail.relay.host`.
pub fn warning(values: &Value) -> Option<String> {
    if values.pointer("/mail/mode")?.as_str()? != "relay" {
        return None;
    }
    let host = values
        .pointer("/mail/relay/host")?
        .as_str()?
        .to_ascii_lowercase();
    let extra = values.pointer("/dns/spf_extra")?.as_array()?;
    if extra
        .iter()
        .filter_map(Value::as_str)
        .any(|m| covers(m, &host))
    {
        return None;
    }
    let domain = values
        .pointer("/domain")
        .and_then(Value::as_str)
        .unwrap_or("the domain");
    let suggest = host
        .split_once('.')
        .map_or(host.as_str(), |(_, p)| p)
        .to_string();
    Some(format!(
        "mail.mode is relay but dns.spf_extra does not cover the smarthost {host}: mail it \
         relays for {domain} fails SPF (and DMARC, if its DKIM signature breaks on the way). \
         Add the SPF mechanism your relay provider documents, e.g. \
         dns.spf_extra: [\"include:{suggest}\"] (or the ip4:/ip6: of its outgoing servers)."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn values(mode: &str, extra: &[&str]) -> Value {
        json!({"domain": "example.test", "mail": {"mode": mode, "relay": {"host": "smtp.example.net"}},
               "dns": {"spf_extra": extra}})
    }

    #[test]
    fn warns_only_in_relay_mode_without_a_covering_mechanism() {
        let w = warning(&values("relay", &[])).unwrap();
        assert!(w.contains("smtp.example.net"), "{w}");
        assert!(w.contains("include:example.net"), "{w}");
        assert!(warning(&values("local", &[])).is_none());
        assert!(warning(&values("relay", &["include:_spf.other.test"])).is_some());
        assert!(warning(&values("relay", &["a:mail.example.test"])).is_some());
        assert!(warning(&json!({"mail": {"mode": "relay", "relay": {"host": "a.b.c"}}})).is_none());
    }

    #[test]
    fn a_mechanism_naming_the_relay_or_its_domain_covers_it() {
        for m in [
            "include:_spf.example.net",
            "include:example.net",
            "a:smtp.example.net",
            "+mx:example.net/24",
            "~include:spf.EXAMPLE.net.",
            "ip4:198.51.100.20",
            "ip6:2001:db8:1::/48",
        ] {
            assert!(warning(&values("relay", &[m])).is_none(), "{m}");
        }
    }
}
