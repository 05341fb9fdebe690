//! Domain names as records use them: absolute, lower-case, compared as text, printed with
//! the final dot; plus the reverse (PTR) name of an address.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;

/// An absolute domain name, lower-case, stored without the final dot.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct DName(String);

impl TryFrom<String> for DName {
    type Error = String;
    fn try_from(s: String) -> Result<DName, String> {
        DName::parse(&s)
    }
}

impl From<DName> for String {
    fn from(d: DName) -> String {
        d.fqdn()
    }
}

impl DName {
    /// Parse `mail.example.test` or `mail.example.test.` (labels of letters, digits, `-`
    /// and `_`, a leading `*` label allowed).
    pub fn parse(text: &str) -> Result<DName, String> {
        let t = text.trim();
        let t = t.strip_suffix('.').unwrap_or(t);
        if t.is_empty() {
            return Err(format!("{text:?} is not a domain name"));
        }
        if t.len() > 253 {
            return Err(format!("{text:?} is longer than 253 characters"));
        }
        for (i, label) in t.split('.').enumerate() {
            if label.is_empty() || label.len() > 63 {
                return Err(format!(
                    "{text:?}: every label must have 1 to 63 characters"
                ));
            }
            let ok = (label == "*" && i == 0)
                || label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !ok {
                return Err(format!(
                    "{text:?}: label {label:?} may only hold letters, digits, '-' and '_'"
                ));
            }
        }
        Ok(DName(t.to_ascii_lowercase()))
    }

    /// The reverse-lookup name of an address (`10.2.0.192.in-addr.arpa`,
    /// `0.1.0.0....8.b.d.0.1.0.0.2.ip6.arpa`).
    pub fn reverse(ip: IpAddr) -> DName {
        match ip {
            IpAddr::V4(v4) => {
                let o = v4.octets();
                DName(format!("{}.{}.{}.{}.in-addr.arpa", o[3], o[2], o[1], o[0]))
            }
            IpAddr::V6(v6) => {
                let mut labels: Vec<String> = Vec::with_capacity(34);
                for b in v6.octets().iter().rev() {
                    labels.push(format!("{:x}", b & 0x0f));
                    labels.push(format!("{:x}", b >> 4));
                }
                labels.push("ip6".into());
                labels.push("arpa".into());
                DName(labels.join("."))
            }
        }
    }

    /// Without the final dot.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// With the final dot, as in a zone file.
    pub fn fqdn(&self) -> String {
        format!("{}.", self.0)
    }

    /// Whether this name is `zone` or below it.
    pub fn is_under(&self, zone: &DName) -> bool {
        self.0 == zone.0 || self.0.ends_with(&format!(".{}", zone.0))
    }

    /// The name as a DNS panel for `origin` wants it: `@` for the origin itself, the
    /// relative part below it, the full name with its dot otherwise.
    pub fn relative_to(&self, origin: &DName) -> String {
        if self.0 == origin.0 {
            "@".into()
        } else if let Some(rel) = self.0.strip_suffix(&format!(".{}", origin.0)) {
            rel.to_string()
        } else {
            self.fqdn()
        }
    }
}

impl fmt::Display for DName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalised_and_checked() {
        let n = DName::parse("Mail.Example.TEST.").unwrap();
        assert_eq!(n.as_str(), "mail.example.test");
        assert_eq!(n.to_string(), "mail.example.test.");
        assert!(DName::parse("_25._tcp.mail.example.test").is_ok());
        assert!(DName::parse("bad name.test").is_err());
        assert!(DName::parse("a..test").is_err());
        assert!(DName::parse(".").is_err());
        let zone = DName::parse("example.test").unwrap();
        assert_eq!(n.relative_to(&zone), "mail");
        assert_eq!(zone.relative_to(&zone), "@");
        assert!(n.is_under(&zone));
        assert!(!DName::parse("badexample.test").unwrap().is_under(&zone));
    }

    #[test]
    fn reverse_names() {
        assert_eq!(
            DName::reverse("192.0.2.10".parse().unwrap()).as_str(),
            "10.2.0.192.in-addr.arpa"
        );
        assert_eq!(
            DName::reverse("2001:db8::10".parse().unwrap()).as_str(),
            "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"
        );
    }
}
