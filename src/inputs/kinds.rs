//! Value checks for each input type. Every string that can end up in a config file is
//! refused if it carries a newline or other control character (config injection) or an
//! invisible formatting character; values are echoed in messages cut to 60 characters.

pub use super::nested::join;
use super::nested::{check_list, check_map};
use super::schema::{InputDecl, InputKind};
use super::text::{self, quote};
use serde_json::Value;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Problems found while checking: (key path, reason).
pub type Problems = Vec<(String, String)>;

/// Check `value` against `decl`; return the normalised value, or record why not.
pub fn check(decl: &InputDecl, value: &Value, key: &str, out: &mut Problems) -> Option<Value> {
    if value.is_null() {
        return Some(Value::Null);
    }
    let res = match decl.kind {
        InputKind::List => return check_list(decl, value, key, out),
        InputKind::Map => return check_map(decl, value, key, out),
        InputKind::Port => integer(value, Some(1), Some(65535), "a port"),
        InputKind::Integer => integer(value, decl.min, decl.max, "an integer"),
        InputKind::Bool => value
            .as_bool()
            .map(Value::Bool)
            .ok_or_else(|| "expected true or false".to_string()),
        _ => match scalar_text(value) {
            None => Err(format!(
                "expected {}, got {}",
                kind_name(decl.kind),
                shape(value)
            )),
            Some(s) => text_kind(decl, &s).map(Value::String),
        },
    };
    match res {
        Ok(v) => Some(v),
        Err(reason) => {
            out.push((key.to_string(), reason));
            None
        }
    }
}

pub(super) fn shape(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

fn kind_name(k: InputKind) -> String {
    match serde_json::to_value(k) {
        Ok(Value::String(s)) => s.replace('_', " "),
        _ => format!("{k:?}").to_lowercase(),
    }
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn integer(v: &Value, min: Option<i64>, max: Option<i64>, what: &str) -> Result<Value, String> {
    let n = v
        .as_i64()
        .ok_or_else(|| format!("expected {what}, got {}", shape(v)))?;
    match (min, max) {
        (Some(lo), Some(hi)) if n < lo || n > hi => Err(format!("{n} is out of range {lo}–{hi}"))?,
        (Some(lo), None) if n < lo => Err(format!("{n} is below the minimum, {lo}"))?,
        (None, Some(hi)) if n > hi => Err(format!("{n} is above the maximum, {hi}"))?,
        _ => {}
    }
    Ok(Value::from(n))
}

fn text_kind(decl: &InputDecl, s: &str) -> Result<String, String> {
    let shown = |s: &str| {
        if decl.is_secret() {
            "the value (hidden)".to_string()
        } else {
            quote(s)
        }
    };
    text::plain_line(s, &shown(s))?;
    match decl.kind {
        InputKind::String | InputKind::Secret => {
            if s.trim() != s {
                return Err(format!("{} has leading or trailing whitespace", shown(s)));
            }
            Ok(s.to_string())
        }
        InputKind::Domain | InputKind::Hostname => dns_name(s),
        InputKind::Ipv4 => s
            .parse::<Ipv4Addr>()
            .map(|a| a.to_string())
            .map_err(|_| format!("{} is not an IPv4 address", quote(s))),
        InputKind::Ipv6 => s
            .parse::<Ipv6Addr>()
            .map(|a| a.to_string())
            .map_err(|_| format!("{} is not an IPv6 address", quote(s))),
        InputKind::Network => network(s),
        InputKind::Email => email(s),
        InputKind::Enum => {
            if decl.values.iter().any(|v| v == s) {
                Ok(s.to_string())
            } else {
                Err(format!(
                    "{} is not one of: {}",
                    quote(s),
                    decl.values.join(", ")
                ))
            }
        }
        InputKind::Path => path(s),
        InputKind::Url => url(s),
        InputKind::Duration => duration_secs(s).map(|_| s.to_string()),
        InputKind::Token => text::token(s),
        InputKind::LocalPart => text::local_part(s),
        InputKind::PasswordHash => super::pwhash::password_hash(s),
        InputKind::Account => text::account(s),
        InputKind::SpfMechanism => super::spf::mechanism(s),
        _ => Err(format!("{} is not valid here", quote(s))),
    }
}

/// A network `address/length`, stored with the address as Rust prints it; no host bits
/// may be set (`192.0.2.1/24` is refused: Postfix would read it as the whole /24).
pub fn network(s: &str) -> Result<String, String> {
    let bad = || {
        format!(
            "{} is not a network like 192.0.2.0/24 or 2001:db8::/64",
            quote(s)
        )
    };
    let (addr, len) = s.split_once('/').ok_or_else(bad)?;
    let len: u8 = len.parse().map_err(|_| bad())?;
    let (text, host_bits) = if let Ok(a) = addr.parse::<Ipv4Addr>() {
        if len > 32 {
            return Err(bad());
        }
        let mask = u32::MAX.checked_shr(u32::from(len)).unwrap_or(0);
        (a.to_string(), u32::from(a) & mask != 0)
    } else if let Ok(a) = addr.parse::<Ipv6Addr>() {
        if len > 128 {
            return Err(bad());
        }
        let mask = u128::MAX.checked_shr(u32::from(len)).unwrap_or(0);
        (a.to_string(), u128::from(a) & mask != 0)
    } else {
        return Err(bad());
    };
    if host_bits {
        return Err(format!("{} has host bits set beyond /{len}", quote(s)));
    }
    Ok(format!("{text}/{len}"))
}

/// A lower-cased DNS name with at least two LDH labels, without the trailing dot.
pub fn dns_name(s: &str) -> Result<String, String> {
    let name = s.strip_suffix('.').unwrap_or(s).to_ascii_lowercase();
    let bad = |why: &str| Err(format!("{} is not a valid domain name: {why}", quote(s)));
    if name.len() > 253 {
        return bad("longer than 253 characters");
    }
    let labels: Vec<&str> = name.split('.').collect();
    if labels.len() < 2 {
        return bad("it needs at least two labels, like example.org");
    }
    for l in &labels {
        if l.is_empty() || l.len() > 63 {
            return bad("each label must be 1-63 characters");
        }
        if !l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return bad("only letters, digits and '-' are allowed");
        }
        if l.starts_with('-') || l.ends_with('-') {
            return bad("a label cannot start or end with '-'");
        }
    }
    Ok(name)
}

fn email(s: &str) -> Result<String, String> {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return Err(format!("{} is not an e-mail address (no '@')", quote(s)));
    };
    let ok_local = !local.is_empty()
        && local.len() <= 64
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._%+-".contains(c))
        && !local.starts_with('.')
        && !local.ends_with('.');
    if !ok_local {
        return Err(format!(
            "{} is not an e-mail address: bad local part",
            quote(s)
        ));
    }
    let domain =
        dns_name(domain).map_err(|e| format!("{} is not an e-mail address: {e}", quote(s)))?;
    Ok(format!("{local}@{domain}"))
}

fn path(s: &str) -> Result<String, String> {
    if !s.starts_with('/') {
        return Err(format!("{} is not an absolute path", quote(s)));
    }
    if s.chars().any(char::is_whitespace) {
        return Err(format!("{} contains whitespace", quote(s)));
    }
    Ok(s.to_string())
}

fn url(s: &str) -> Result<String, String> {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .ok_or_else(|| format!("{} is not an http(s) URL", quote(s)))?;
    if rest.is_empty()
        || s.chars()
            .any(|c| c.is_whitespace() || c == '"' || c == '\'')
    {
        return Err(format!("{} is not a valid URL", quote(s)));
    }
    Ok(s.to_string())
}

/// Seconds in a duration like `90s`, `20m`, `1h30m`, `1d`, `2w` (a bare number is seconds).
pub fn duration_secs(s: &str) -> Result<u64, String> {
    let err = || {
        format!(
            "{} is not a duration (examples: 90s, 20m, 1h30m, 1d, 2w)",
            quote(s)
        )
    };
    if s.is_empty() {
        return Err(err());
    }
    if let Ok(n) = s.parse::<u64>() {
        return Ok(n);
    }
    let mut total: u64 = 0;
    let mut num = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            'w' => 604800,
            _ => return Err(err()),
        };
        let n: u64 = num.parse().map_err(|_| err())?;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(err)?;
        num.clear();
    }
    if !num.is_empty() {
        return Err(err());
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration_secs("1h30m"), Ok(5400));
        assert_eq!(duration_secs("1d"), Ok(86400));
        assert!(duration_secs("1x").is_err());
        assert!(duration_secs("m").is_err());
    }

    #[test]
    fn names_and_addresses() {
        assert_eq!(
            dns_name("Mail.Example.TEST."),
            Ok("mail.example.test".into())
        );
        assert!(dns_name("localhost").is_err());
        assert!(dns_name("a_b.test").is_err());
        assert!(email("a@b.test").is_ok());
        assert!(email("a b@b.test").is_err());
    }

    #[test]
    fn networks() {
        assert_eq!(network("192.0.2.0/24"), Ok("192.0.2.0/24".into()));
        assert_eq!(network("2001:DB8::/64"), Ok("2001:db8::/64".into()));
        assert_eq!(network("0.0.0.0/0"), Ok("0.0.0.0/0".into()));
        assert_eq!(network("198.51.100.20/32"), Ok("198.51.100.20/32".into()));
        assert!(network("192.0.2.1/24").unwrap_err().contains("host bits"));
        assert!(network("2001:db8::1/64").unwrap_err().contains("host bits"));
        for bad in [
            "192.0.2.0",
            "192.0.2.0/33",
            "2001:db8::/129",
            "x/8",
            "192.0.2.0/-1",
        ] {
            assert!(network(bad).is_err(), "{bad}");
        }
    }
}
