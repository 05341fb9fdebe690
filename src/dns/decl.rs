//! A manifest's `records:` entries: as written ([`RecordDecl`], checked strictly when the
//! catalog loads) and with their strings rendered ([`Rendered`]); [`super::typed`] types
//! them and computes values from files (`tlsa_cert`, `dkim_key`) against a root.

use super::name::DName;
use super::record::Data;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::net::IpAddr;

/// Record types a manifest may declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RType {
    /// IPv4 address.
    A,
    /// IPv6 address.
    Aaaa,
    /// Alias.
    Cname,
    /// Mail exchanger.
    Mx,
    /// Text (SPF, DKIM, DMARC, MTA-STS, TLS-RPT).
    Txt,
    /// DANE association.
    Tlsa,
    /// Reverse DNS.
    Ptr,
    /// Service location.
    Srv,
}

impl RType {
    /// The type's name (`AAAA`).
    pub fn as_str(&self) -> &'static str {
        match self {
            RType::A => "A",
            RType::Aaaa => "AAAA",
            RType::Cname => "CNAME",
            RType::Mx => "MX",
            RType::Txt => "TXT",
            RType::Tlsa => "TLSA",
            RType::Ptr => "PTR",
            RType::Srv => "SRV",
        }
    }
}

/// Who puts a record into the DNS.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Publish {
    /// The domain's own zone: printed in the zone fragment, sent by `publish_records`.
    #[default]
    Dns,
    /// Only the hosting provider can set it (e.g. PTR): listed as a request, never sent.
    Provider,
}

/// One entry of a manifest's `records:` list, as written.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RecordDecl {
    /// Owner name (Tera); for PTR an IP address is turned into its reverse name.
    pub name: String,
    /// Record type.
    #[serde(rename = "type")]
    pub rtype: RType,
    /// TTL in seconds (default [`DEFAULT_TTL`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u32>,
    /// Condition (Tera expression, as for steps); the record is left out when false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    /// `dns` (default) or `provider`.
    #[serde(default)]
    pub publish: Publish,
    /// The value as text (Tera).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// TLSA `3 1 1` computed from the PEM certificate at this in-tree path (Tera).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tlsa_cert: Option<String>,
    /// DKIM TXT computed from the PEM RSA key at this in-tree path (Tera).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dkim_key: Option<String>,
}

fn literal(s: &str) -> bool {
    !s.contains("{{") && !s.contains("{%")
}

impl RecordDecl {
    /// What is wrong with the declaration itself: (key below the entry, reason).
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut bad = |k: &str, r: String| out.push((k.to_string(), r));
        let sources = [&self.value, &self.tlsa_cert, &self.dkim_key]
            .iter()
            .filter(|s| s.is_some())
            .count();
        if sources != 1 {
            bad(
                "value",
                "give exactly one of `value`, `tlsa_cert`, `dkim_key`".into(),
            );
        }
        if self.tlsa_cert.is_some() && self.rtype != RType::Tlsa {
            bad(
                "tlsa_cert",
                "only a TLSA record is computed from a certificate".into(),
            );
        }
        if self.dkim_key.is_some() && self.rtype != RType::Txt {
            bad(
                "dkim_key",
                "only a TXT record is computed from a DKIM key".into(),
            );
        }
        if self.ttl.is_some_and(|t| t == 0 || t > i32::MAX as u32) {
            bad("ttl", "must be 1 to 2147483647 seconds".into());
        }
        if self.name.trim().is_empty() {
            bad("name", "is empty".into());
        } else if literal(&self.name) {
            if let Err(e) = owner(self.rtype, &self.name) {
                bad("name", e);
            }
        }
        if let Some(v) = self.value.as_deref().filter(|v| literal(v)) {
            if let Err(e) = Data::parse(self.rtype, v) {
                bad("value", e);
            }
        }
        for (k, p) in [("tlsa_cert", &self.tlsa_cert), ("dkim_key", &self.dkim_key)] {
            if let Some(p) = p.as_deref().filter(|p| literal(p) && !p.starts_with('/')) {
                bad(k, format!("{p:?} is not an absolute path"));
            }
        }
        out
    }

    /// The declaration as JSON whose strings, once rendered, give its [`Rendered`] form:
    /// every string is guarded by the `when` condition, so a record that is left out
    /// renders to empty strings instead of failing on inputs it does not need.
    pub fn deferred(&self) -> Value {
        let guard = |s: &str| match &self.when {
            None => s.to_string(),
            Some(w) => format!("{{% if {w} %}}{s}{{% endif %}}"),
        };
        let opt = |s: &Option<String>| s.as_deref().map(guard);
        json!({
            "enabled": guard("true"),
            "name": guard(&self.name),
            "type": self.rtype,
            "ttl": self.ttl.map(|t| t.to_string()).unwrap_or_default(),
            "publish": self.publish,
            "value": opt(&self.value),
            "tlsa_cert": opt(&self.tlsa_cert),
            "dkim_key": opt(&self.dkim_key),
        })
    }
}

/// The owner name of a record: a domain name, or for PTR an address's reverse name.
pub(super) fn owner(rtype: RType, name: &str) -> Result<DName, String> {
    if rtype == RType::Ptr {
        if let Ok(ip) = name.trim().parse::<IpAddr>() {
            return Ok(DName::reverse(ip));
        }
    }
    DName::parse(name)
}

/// A record declaration with its strings rendered.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Rendered {
    /// `true` when the declaration's `when` holds (anything else: left out).
    pub enabled: String,
    /// Owner name.
    pub name: String,
    /// Type.
    #[serde(rename = "type")]
    pub rtype: RType,
    /// TTL (empty: the default).
    #[serde(default)]
    pub ttl: String,
    /// Who publishes it.
    #[serde(default)]
    pub publish: Publish,
    /// Value text.
    #[serde(default)]
    pub value: Option<String>,
    /// Certificate path.
    #[serde(default)]
    pub tlsa_cert: Option<String>,
    /// DKIM key path.
    #[serde(default)]
    pub dkim_key: Option<String>,
}
