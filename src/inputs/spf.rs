//! SPF mechanisms a config may add to the domain's record (RFC 7208 section 5): each term
//! checked against the grammar, `all` refused (the policy is `dns.spf_policy`), and the
//! list capped so the whole TXT record stays small and within the ten-lookup limit.

use super::kinds::dns_name;
use super::text::quote;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Most characters the added mechanisms may take together (joined with spaces): with
/// `v=spf1`, the host's ip4:/ip6: and the policy, the record stays under 450 bytes.
pub const MAX_CHARS: usize = 370;
/// Most mechanisms that cost a DNS lookup (a, mx, include, exists). RFC 7208 allows ten
/// per check, and the record itself may add `mx`.
pub const MAX_LOOKUPS: usize = 9;

/// Check one term like `include:_spf.example.net`, `ip4:192.0.2.0/24` or `~a//64`.
pub fn mechanism(term: &str) -> Result<String, String> {
    let bad = |why: &str| Err(format!("{} is not an SPF mechanism: {why}", quote(term)));
    let body = term.strip_prefix(['+', '-', '~', '?']).unwrap_or(term);
    if term.chars().any(char::is_whitespace) {
        return bad("one mechanism per list item, without spaces");
    }
    if body.contains('=') {
        return bad("modifiers (redirect=, exp=) cannot be added here");
    }
    let (name, arg) = match body.find([':', '/']) {
        Some(i) => (&body[..i], &body[i..]),
        None => (body, ""),
    };
    let r = match name.to_ascii_lowercase().as_str() {
        "all" => return bad(
            "`all` is the policy, set by dns.spf_policy (a second one would end the record early)",
        ),
        "ptr" => {
            return bad(
                "ptr is deprecated by RFC 7208 (slow and unreliable); use a:, mx or ip4:/ip6:",
            )
        }
        "include" | "exists" => match arg.strip_prefix(':') {
            Some(d) => domain_spec(d),
            None => Err(format!(
                "{name} needs a domain, like {name}:_spf.example.net"
            )),
        },
        "a" | "mx" => {
            let (d, cidr) = match arg.find('/') {
                Some(i) => (&arg[..i], &arg[i..]),
                None => (arg, ""),
            };
            let d = match d {
                "" => Ok(()),
                d => d
                    .strip_prefix(':')
                    .map_or(Err("expected ':' before the domain".into()), domain_spec),
            };
            d.and_then(|()| dual_cidr(cidr))
        }
        "ip4" => arg
            .strip_prefix(':')
            .ok_or_else(|| "ip4 needs an address, like ip4:192.0.2.0/24".to_string())
            .and_then(|n| network::<Ipv4Addr>(n, 32)),
        "ip6" => arg
            .strip_prefix(':')
            .ok_or_else(|| "ip6 needs an address, like ip6:2001:db8::/32".to_string())
            .and_then(|n| network::<Ipv6Addr>(n, 128)),
        "" => Err("it is empty".into()),
        _ => Err("known mechanisms are a, mx, include:, exists:, ip4:, ip6:".into()),
    };
    match r {
        Ok(()) => Ok(term.to_string()),
        Err(why) => bad(&why),
    }
}

/// Limits on the whole list of added mechanisms.
pub fn list(terms: &[String]) -> Result<(), String> {
    let chars: usize = terms.iter().map(|t| t.len() + 1).sum();
    if chars > MAX_CHARS {
        return Err(format!(
            "the SPF mechanisms take {chars} characters; at most {MAX_CHARS} keep the record under 450 bytes (use include: for a long list)"
        ));
    }
    let lookups = terms
        .iter()
        .filter(|t| {
            let b = t
                .trim_start_matches(['+', '-', '~', '?'])
                .to_ascii_lowercase();
            ["a", "mx", "include", "exists"].iter().any(|m| {
                b == *m || b.starts_with(&format!("{m}:")) || b.starts_with(&format!("{m}/"))
            })
        })
        .count();
    if lookups > MAX_LOOKUPS {
        return Err(format!(
            "{lookups} SPF mechanisms need a DNS lookup; at most {MAX_LOOKUPS} (RFC 7208 allows ten per check)"
        ));
    }
    Ok(())
}

/// `ADDR` or `ADDR/LEN` with LEN at most `max`.
fn network<A: std::str::FromStr>(n: &str, max: u8) -> Result<(), String> {
    let (addr, len) = match n.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (n, None),
    };
    addr.parse::<A>()
        .map_err(|_| format!("{} is not an address", quote(addr)))?;
    match len {
        None => Ok(()),
        Some(l) => cidr(l, max),
    }
}

/// A prefix length without leading zeros, at most `max`.
fn cidr(l: &str, max: u8) -> Result<(), String> {
    match l.parse::<u8>() {
        Ok(v) if v <= max && (l == "0" || !l.starts_with('0')) => Ok(()),
        _ => Err(format!("{} is not a prefix length 0-{max}", quote(l))),
    }
}

/// `/N` (IPv4), `//N` (IPv6), `/N//M`, or nothing.
fn dual_cidr(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Ok(());
    }
    let (v4, v6) = match s.split_once("//") {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    };
    if !v4.is_empty() {
        cidr(v4.strip_prefix('/').ok_or("bad prefix length")?, 32)?;
    }
    v6.map_or(Ok(()), |l| cidr(l, 128))
}

/// A domain, or a macro string (`%{i}._spf.%{d}`) of visible characters.
fn domain_spec(d: &str) -> Result<(), String> {
    if !d.contains('%') {
        // Labels like `_spf` are fine in a domain-spec: check the name without the `_`.
        let plain: Vec<&str> = d
            .split('.')
            .map(|l| l.strip_prefix('_').unwrap_or(l))
            .collect();
        return dns_name(&plain.join(".")).map(|_| ());
    }
    let mut rest = d;
    while let Some(i) = rest.find('%') {
        let after = &rest[i + 1..];
        rest = if let Some(m) = after.strip_prefix('{') {
            let end = m.find('}').ok_or("unclosed %{ macro")?;
            let inner = &m[..end];
            let ok = inner.starts_with([
                's', 'l', 'o', 'd', 'i', 'p', 'h', 'v', 'S', 'L', 'O', 'D', 'I', 'P', 'H', 'V',
            ]) && inner[1..]
                .chars()
                .all(|c| c.is_ascii_digit() || "r.-+,/_=".contains(c));
            if !ok {
                return Err(format!("bad macro %{{{inner}}}"));
            }
            &m[end + 1..]
        } else if after.starts_with(['%', '_', '-']) {
            &after[1..]
        } else {
            return Err("'%' must start a macro like %{d}, or be written %%".into());
        };
    }
    if d.chars().all(|c| c.is_ascii_graphic()) {
        Ok(())
    } else {
        Err("a macro domain holds visible ASCII characters only".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_mechanisms_people_add() {
        for t in [
            "include:_spf.example.net",
            "include:spf.protection.outlook.com",
            "a",
            "mx",
            "a:relay.example.net",
            "-a:relay.example.net/28",
            "mx//64",
            "mx/24//64",
            "~ip4:192.0.2.0/24",
            "ip4:192.0.2.1",
            "ip6:2001:db8::/32",
            "?exists:%{i}._spf.%{d}",
            "exists:%{ir}.%{l1r+-}._spf.%{d}",
        ] {
            assert_eq!(mechanism(t).as_deref(), Ok(t), "{t}");
        }
    }

    #[test]
    fn refuses_all_modifiers_and_malformed_terms() {
        for (t, why) in [
            ("", "empty"),
            ("+all", "policy"),
            ("all", "policy"),
            ("?all", "policy"),
            ("-ALL", "policy"),
            ("redirect=_spf.example.net", "modifiers"),
            ("ptr", "deprecated"),
            ("include:", "not a valid domain"),
            ("include", "needs a domain"),
            ("ip4:192.0.2.300", "not an address"),
            ("ip4:192.0.2.0/33", "prefix length"),
            ("ip6:2001:db8::/129", "prefix length"),
            ("ip4:2001:db8::1", "not an address"),
            ("a/33", "prefix length"),
            ("a:\"x\"", "not a valid domain"),
            ("exists:%{x}.d", "bad macro"),
            ("exists:%d", "'%'"),
            ("foo:bar", "known mechanisms"),
        ] {
            let e = mechanism(t).unwrap_err();
            assert!(e.contains(why), "{t}: {e}");
        }
    }

    #[test]
    fn caps_size_and_lookups() {
        let ok: Vec<String> = (0..9)
            .map(|i| format!("include:s{i}.example.net"))
            .collect();
        assert!(list(&ok).is_ok());
        let mut many = ok.clone();
        many.push("mx".into());
        assert!(list(&many).unwrap_err().contains("at most 9"));
        let long: Vec<String> = (0..30).map(|i| format!("ip4:192.0.2.{i}/32")).collect();
        assert!(list(&long).unwrap_err().contains("under 450 bytes"));
    }
}
