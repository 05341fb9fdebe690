//! A record ready to print, publish or check: owner name, type, TTL, and its data —
//! parsed from text, so values compare by meaning (names case-insensitively, TXT by
//! their joined text, addresses as addresses) — or the reason it is still pending.

use super::decl::{Publish, RType};
use super::name::DName;
use serde::Serialize;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Longest character-string a TXT record may hold (RFC 1035 §3.3).
pub const TXT_CHUNK: usize = 255;

/// Record data, by type.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Data {
    /// IPv4 address.
    A(Ipv4Addr),
    /// IPv6 address.
    Aaaa(Ipv6Addr),
    /// Canonical name.
    Cname(DName),
    /// Pointer (reverse DNS).
    Ptr(DName),
    /// Mail exchanger.
    Mx {
        /// Lower is preferred.
        preference: u16,
        /// Host name.
        exchange: DName,
    },
    /// Service location.
    Srv {
        /// Lower is preferred.
        priority: u16,
        /// Share among equal priorities.
        weight: u16,
        /// Port.
        port: u16,
        /// Host name.
        target: DName,
    },
    /// Text, whole (split into character-strings only on the wire and in zone files).
    Txt(String),
    /// DANE certificate association.
    Tlsa {
        /// Certificate usage (3: DANE-EE).
        usage: u8,
        /// Selector (1: SubjectPublicKeyInfo).
        selector: u8,
        /// Matching type (1: SHA-256).
        matching: u8,
        /// Association data.
        data: Vec<u8>,
    },
}

fn num<T: std::str::FromStr>(tok: Option<&str>, what: &str) -> Result<T, String> {
    match tok {
        None => Err(format!("expected {what}")),
        Some(t) => t.parse().map_err(|_| format!("expected {what}, got {t:?}")),
    }
}

fn name(tok: Option<&str>, what: &str) -> Result<DName, String> {
    DName::parse(tok.ok_or_else(|| format!("expected {what}"))?)
}

impl Data {
    /// Parse a value as written in a manifest (`10 mail.example.test`, `3 1 1 ab12...`,
    /// TXT text without quotes).
    pub fn parse(rtype: RType, text: &str) -> Result<Data, String> {
        if text.chars().any(char::is_control) {
            return Err("value holds a control character".into());
        }
        let t = text.trim();
        if t.is_empty() {
            return Err("value is empty".into());
        }
        let mut toks = t.split_whitespace();
        let d = match rtype {
            RType::A => Data::A(num(toks.next(), "an IPv4 address")?),
            RType::Aaaa => Data::Aaaa(num(toks.next(), "an IPv6 address")?),
            RType::Cname => Data::Cname(name(toks.next(), "a host name")?),
            RType::Ptr => Data::Ptr(name(toks.next(), "a host name")?),
            RType::Mx => Data::Mx {
                preference: num(toks.next(), "a preference (0-65535) before the host")?,
                exchange: name(toks.next(), "a host name after the preference")?,
            },
            RType::Srv => Data::Srv {
                priority: num(toks.next(), "priority weight port target")?,
                weight: num(toks.next(), "priority weight port target")?,
                port: num(toks.next(), "priority weight port target")?,
                target: name(toks.next(), "priority weight port target")?,
            },
            RType::Txt => return Ok(Data::Txt(t.to_string())),
            RType::Tlsa => {
                let usage = num(toks.next(), "usage selector matching-type hex-data")?;
                let selector = num(toks.next(), "usage selector matching-type hex-data")?;
                let matching = num(toks.next(), "usage selector matching-type hex-data")?;
                let hexdata: String = toks.by_ref().collect();
                let data = hex::decode(&hexdata)
                    .map_err(|e| format!("association data is not hex: {e}"))?;
                let want = match matching {
                    1 => Some(32),
                    2 => Some(64),
                    _ => None,
                };
                if data.is_empty() || want.is_some_and(|w| w != data.len()) {
                    return Err(format!(
                        "association data has {} bytes, matching type {matching} needs {}",
                        data.len(),
                        want.unwrap_or(1)
                    ));
                }
                return Ok(Data::Tlsa {
                    usage,
                    selector,
                    matching,
                    data,
                });
            }
        };
        match toks.next() {
            Some(extra) => Err(format!("unexpected {extra:?} after the value")),
            None => Ok(d),
        }
    }

    /// The record type of this data.
    pub fn rtype(&self) -> RType {
        match self {
            Data::A(_) => RType::A,
            Data::Aaaa(_) => RType::Aaaa,
            Data::Cname(_) => RType::Cname,
            Data::Ptr(_) => RType::Ptr,
            Data::Mx { .. } => RType::Mx,
            Data::Srv { .. } => RType::Srv,
            Data::Txt(_) => RType::Txt,
            Data::Tlsa { .. } => RType::Tlsa,
        }
    }

    /// For TXT: the leading `v=...` tag (`v=spf1`, `v=dmarc1`), lower-case. Records
    /// with a tag own only the TXT records of the same tag at their name.
    pub fn txt_tag(&self) -> Option<String> {
        let Data::Txt(t) = self else { return None };
        let head = t.split([';', ' ']).next().unwrap_or("").trim();
        head.to_ascii_lowercase()
            .starts_with("v=")
            .then(|| head.to_ascii_lowercase())
    }

    /// The value in plain text: TXT unquoted and whole (what a DNS panel wants).
    pub fn plain(&self) -> String {
        match self {
            Data::Txt(t) => t.clone(),
            other => other.to_string(),
        }
    }
}

/// Split text into character-strings of at most 255 bytes, never inside a character.
pub fn txt_chunks(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in text.chars() {
        if cur.len() + c.len_utf8() > TXT_CHUNK {
            out.push(std::mem::take(&mut cur));
        }
        cur.push(c);
    }
    if !cur.is_empty() || out.is_empty() {
        out.push(cur);
    }
    out
}

fn quote(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            q.push('\\');
        }
        q.push(c);
    }
    q.push('"');
    q
}

/// Zone-file presentation (TXT as quoted 255-byte strings).
impl fmt::Display for Data {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Data::A(a) => write!(f, "{a}"),
            Data::Aaaa(a) => write!(f, "{a}"),
            Data::Cname(n) | Data::Ptr(n) => write!(f, "{n}"),
            Data::Mx {
                preference,
                exchange,
            } => write!(f, "{preference} {exchange}"),
            Data::Srv {
                priority,
                weight,
                port,
                target,
            } => write!(f, "{priority} {weight} {port} {target}"),
            Data::Txt(t) => {
                let parts: Vec<String> = txt_chunks(t).iter().map(|c| quote(c)).collect();
                write!(f, "{}", parts.join(" "))
            }
            Data::Tlsa {
                usage,
                selector,
                matching,
                data,
            } => write!(f, "{usage} {selector} {matching} {}", hex::encode(data)),
        }
    }
}

/// A record's value, or why it is not known yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordValue {
    /// Known.
    Ready(Data),
    /// Computed from a file that does not exist yet (e.g. a certificate not issued).
    Pending(String),
}

/// One record of a module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Owner name.
    pub name: DName,
    /// Type.
    pub rtype: RType,
    /// Time to live, seconds.
    pub ttl: u32,
    /// Who publishes it.
    pub publish: Publish,
    /// Its data, or why it is pending.
    pub value: RecordValue,
}

impl Record {
    /// The data when known.
    pub fn data(&self) -> Option<&Data> {
        match &self.value {
            RecordValue::Ready(d) => Some(d),
            RecordValue::Pending(_) => None,
        }
    }

    /// One zone-file line (`name ttl IN TYPE data`), names padded to `width`.
    pub fn zone_line(&self, width: usize) -> String {
        let data = self.data().map(|d| d.to_string()).unwrap_or_default();
        format!(
            "{:width$} {:>6} IN {:5} {data}",
            self.name.fqdn(),
            self.ttl,
            self.rtype.as_str()
        )
        .trim_end()
        .to_string()
    }

    /// `TYPE name`, for messages.
    pub fn label(&self) -> String {
        format!("{} {}", self.rtype.as_str(), self.name)
    }
}

/// A record as `--json` prints it.
#[derive(Debug, Serialize)]
pub struct RecordJson {
    /// Owner name with the final dot.
    pub name: String,
    /// Type.
    #[serde(rename = "type")]
    pub rtype: RType,
    /// TTL.
    pub ttl: u32,
    /// `dns` or `provider`.
    pub publish: Publish,
    /// `ready` or `pending`.
    pub status: &'static str,
    /// Plain value (TXT unquoted and whole); absent when pending.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// TXT character-strings as published (each at most 255 bytes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strings: Option<Vec<String>>,
    /// Why it is pending.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl From<&Record> for RecordJson {
    fn from(r: &Record) -> Self {
        let (status, value, strings, reason) = match &r.value {
            RecordValue::Ready(d) => (
                "ready",
                Some(d.plain()),
                match d {
                    Data::Txt(t) => Some(txt_chunks(t)),
                    _ => None,
                },
                None,
            ),
            RecordValue::Pending(why) => ("pending", None, None, Some(why.clone())),
        };
        RecordJson {
            name: r.name.fqdn(),
            rtype: r.rtype,
            ttl: r.ttl,
            publish: r.publish,
            status,
            value,
            strings,
            reason,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_parse_by_type_and_compare_by_meaning() {
        assert_eq!(
            Data::parse(RType::Mx, "10 Mail.Example.TEST.").unwrap(),
            Data::parse(RType::Mx, " 10  mail.example.test").unwrap()
        );
        assert_eq!(
            Data::parse(RType::Aaaa, "2001:0db8:0:0::10").unwrap(),
            Data::parse(RType::Aaaa, "2001:db8::10").unwrap()
        );
        assert!(Data::parse(RType::A, "192.0.2.300").is_err());
        assert!(Data::parse(RType::Mx, "10").is_err());
        assert!(Data::parse(RType::Mx, "10 a.test b.test").is_err());
        assert!(Data::parse(RType::Tlsa, "3 1 1 abcd")
            .unwrap_err()
            .contains("needs 32"));
        assert!(Data::parse(RType::Txt, "a\nb").is_err());
        assert_eq!(
            Data::parse(RType::Srv, "0 1 587 mail.example.test")
                .unwrap()
                .to_string(),
            "0 1 587 mail.example.test."
        );
        let txt = Data::parse(RType::Txt, "say \"hi\" \\o/").unwrap();
        assert_eq!(txt.to_string(), "\"say \\\"hi\\\" \\\\o/\"");
    }

    #[test]
    fn txt_tags() {
        let tag = |t: &str| Data::Txt(t.into()).txt_tag();
        assert_eq!(tag("v=spf1 -all").as_deref(), Some("v=spf1"));
        assert_eq!(tag("v=DMARC1; p=none").as_deref(), Some("v=dmarc1"));
        assert_eq!(tag("google-site-verification=x"), None);
    }

    #[test]
    fn chunks_never_split_a_character() {
        let text = "é".repeat(200);
        let chunks = txt_chunks(&text);
        assert!(chunks.iter().all(|c| c.len() <= TXT_CHUNK));
        assert_eq!(chunks.concat(), text);
        assert_eq!(txt_chunks(""), [""]);
    }
}
