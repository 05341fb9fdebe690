//! The input schema a manifest declares: type, default, required, secret, description.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// The type of an input value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InputKind {
    /// Free text on one line, no control characters.
    String,
    /// Like string, but never printed, logged or diffed.
    Secret,
    /// A DNS domain name (at least two labels).
    Domain,
    /// A fully qualified host name.
    Hostname,
    /// An IPv4 address.
    Ipv4,
    /// An IPv6 address.
    Ipv6,
    /// An IPv4 or IPv6 network in CIDR form (`192.0.2.0/24`, `2001:db8::/64`).
    Network,
    /// An e-mail address.
    Email,
    /// A TCP/UDP port, 1-65535.
    Port,
    /// An integer, optionally bounded by `min`/`max`.
    Integer,
    /// true or false.
    Bool,
    /// One of `values`.
    Enum,
    /// An absolute path without whitespace.
    Path,
    /// 1-32 ASCII letters and digits (e.g. an MTA-STS policy id).
    Token,
    /// A mailbox name: lower-case letters, digits, `.`, `_`, `-`.
    #[serde(rename = "local_part")]
    LocalPart,
    /// A password hash in Dovecot's scheme form (`{ARGON2ID}$argon2id$...`); secret.
    #[serde(rename = "password_hash")]
    PasswordHash,
    /// A user or group name as useradd/groupadd accept it.
    Account,
    /// One SPF mechanism (RFC 7208), `all` excluded.
    #[serde(rename = "spf_mechanism")]
    SpfMechanism,
    /// An http(s) URL.
    Url,
    /// A duration such as `90s`, `20m`, `1h30m`, `1d`, `2w`.
    Duration,
    /// A list of `items`.
    List,
    /// A map with the declared `fields` (unknown keys refused).
    Map,
}

/// One declared input.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct InputDecl {
    /// Value type.
    #[serde(rename = "type")]
    pub kind: InputKind,
    /// What the input means, shown by `firstboot list` and in docs.
    pub description: String,
    /// Default value; a string containing `{{` is a Tera template over earlier inputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<serde_json::Value>,
    /// The input must be given (by config, profile, default or fact).
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    /// Tera expression; when true the input must have a value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_when: Option<String>,
    /// Tera expression over the resolved inputs that must hold whenever the input has
    /// a value (e.g. `ssl.provider != "acme" or ssl.acme.agree_tos`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_when: Option<String>,
    /// Why the value is refused when `valid_when` does not hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid_reason: Option<String>,
    /// The value is a secret (implied by `type: secret`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub secret: bool,
    /// A map that may be absent as a whole (then null) instead of built from defaults.
    #[serde(default, skip_serializing_if = "is_false")]
    pub optional: bool,
    /// Host fact used when nothing else gives a value: one of [`crate::facts::NAMES`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fact: Option<String>,
    /// Allowed values of an enum.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    /// Bounds of an integer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<i64>,
    /// Bounds of an integer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
    /// Item schema of a list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<Box<InputDecl>>,
    /// For a list of maps: the field whose value must differ between items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique: Option<String>,
    /// Field schemas of a map, in order.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub fields: IndexMap<String, InputDecl>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl InputDecl {
    /// A map input with these fields (used to assemble the whole config schema).
    pub fn map(description: &str, fields: IndexMap<String, InputDecl>) -> Self {
        InputDecl {
            kind: InputKind::Map,
            description: description.to_string(),
            default: None,
            required: false,
            required_when: None,
            valid_when: None,
            invalid_reason: None,
            secret: false,
            optional: false,
            fact: None,
            values: Vec::new(),
            min: None,
            max: None,
            items: None,
            unique: None,
            fields,
        }
    }

    /// Whether values of this input are secret.
    pub fn is_secret(&self) -> bool {
        self.secret || matches!(self.kind, InputKind::Secret | InputKind::PasswordHash)
    }

    /// Schema problems of the declaration itself (enum without values, list without items...).
    pub fn problems(&self, key: &str, out: &mut Vec<(String, String)>) {
        let mut bad = |reason: &str| out.push((key.to_string(), reason.to_string()));
        if self.description.trim().is_empty() {
            bad("input has no description");
        }
        match self.kind {
            InputKind::Enum if self.values.is_empty() => bad("enum input lists no values"),
            InputKind::List if self.items.is_none() => bad("list input declares no items"),
            InputKind::Map if self.fields.is_empty() => bad("map input declares no fields"),
            _ => {}
        }
        if self.invalid_reason.is_some() && self.valid_when.is_none() {
            bad("invalid_reason without valid_when");
        }
        if let Some(f) = &self.fact {
            if !crate::facts::NAMES.contains(&f.as_str()) {
                bad(&format!(
                    "fact must be one of {}",
                    crate::facts::NAMES.join(", ")
                ));
            }
        }
        if let Some(u) = &self.unique {
            if !self
                .items
                .as_ref()
                .is_some_and(|i| i.fields.contains_key(u))
            {
                bad("unique names no field of the list's items");
            }
        }
        if let Some(items) = &self.items {
            items.problems(&format!("{key}[]"), out);
        }
        for (name, f) in &self.fields {
            f.problems(&format!("{key}.{name}"), out);
        }
    }
}
