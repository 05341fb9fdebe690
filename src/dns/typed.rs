//! A record typed when its module is built, before anything changes: owner name, type,
//! TTL and a literal value parsed from the rendered declaration. Only a value computed
//! from a file (`tlsa_cert`, `dkim_key`) waits for plan time, when the file may exist.

use super::decl::{owner, Publish, RType, Rendered};
use super::record::{Data, Record, RecordValue};
use super::{source, DName, DnsError, DEFAULT_TTL};
use crate::host::Root;

/// Where a typed record's value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A literal value, already parsed.
    Data(Data),
    /// TLSA `3 1 1` of the certificate at this in-tree path.
    TlsaCert(String),
    /// DKIM TXT of the RSA key at this in-tree path.
    DkimKey(String),
}

/// A record whose declaration holds with this run's inputs, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Typed {
    /// Owner name.
    pub name: DName,
    /// Type.
    pub rtype: RType,
    /// TTL in seconds.
    pub ttl: u32,
    /// Who publishes it.
    pub publish: Publish,
    /// Its value, or the file it is computed from.
    pub source: Source,
}

/// A rendered field that gives no usable record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    /// The declaration's field (`name`, `value`, `ttl`...).
    pub field: &'static str,
    /// What it rendered to.
    pub value: String,
    /// Why it is refused.
    pub reason: String,
}

impl Rendered {
    /// The record typed; `None` when its `when` does not hold.
    pub fn typed(&self) -> Result<Option<Typed>, FieldError> {
        if self.enabled.trim() != "true" {
            return Ok(None);
        }
        let bad = |field, value: &str, reason: String| FieldError {
            field,
            value: value.to_string(),
            reason,
        };
        let name = owner(self.rtype, &self.name).map_err(|r| bad("name", &self.name, r))?;
        let ttl = match self.ttl.trim() {
            "" => DEFAULT_TTL,
            t => t
                .parse::<u32>()
                .ok()
                .filter(|t| *t > 0 && *t <= i32::MAX as u32)
                .ok_or_else(|| bad("ttl", t, "is not 1 to 2147483647 seconds".into()))?,
        };
        let path = |field, p: &str| match p.starts_with('/') && !p.contains(char::is_whitespace) {
            true => Ok(p.to_string()),
            false => Err(bad(field, p, "is not an absolute path".into())),
        };
        let source = match (&self.value, &self.tlsa_cert, &self.dkim_key) {
            (Some(v), None, None) => {
                Source::Data(Data::parse(self.rtype, v).map_err(|r| bad("value", v, r))?)
            }
            (None, Some(p), None) => Source::TlsaCert(path("tlsa_cert", p)?),
            (None, None, Some(p)) => Source::DkimKey(path("dkim_key", p)?),
            _ => {
                return Err(bad(
                    "value",
                    "",
                    "give exactly one of `value`, `tlsa_cert`, `dkim_key`".into(),
                ))
            }
        };
        Ok(Some(Typed {
            name,
            rtype: self.rtype,
            ttl,
            publish: self.publish,
            source,
        }))
    }
}

impl Typed {
    /// The record, its value read from its file when computed (pending while the file
    /// does not exist).
    pub fn compute(&self, root: &Root) -> Result<Record, DnsError> {
        let value = match &self.source {
            Source::Data(d) => RecordValue::Ready(d.clone()),
            Source::TlsaCert(p) => match source::tlsa_311(root, p)? {
                Some(d) => RecordValue::Ready(d),
                None => RecordValue::Pending(format!("certificate not issued yet ({p})")),
            },
            Source::DkimKey(p) => match source::dkim_txt(root, p)? {
                Some(t) => RecordValue::Ready(Data::Txt(t)),
                None => RecordValue::Pending(format!("DKIM key not generated yet ({p})")),
            },
        };
        Ok(Record {
            name: self.name.clone(),
            rtype: self.rtype,
            ttl: self.ttl,
            publish: self.publish,
            value,
        })
    }
}

/// Compute every typed record.
pub fn compute_typed(typed: &[Typed], root: &Root) -> Result<Vec<Record>, DnsError> {
    typed.iter().map(|t| t.compute(root)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(name: &str, value: &str) -> Rendered {
        Rendered {
            enabled: "true".into(),
            name: name.into(),
            rtype: RType::Txt,
            ttl: String::new(),
            publish: Publish::Dns,
            value: Some(value.into()),
            tlsa_cert: None,
            dkim_key: None,
        }
    }

    #[test]
    fn names_and_values_are_typed_before_any_file_is_read() {
        let t = rendered("sel._domainkey.example.test", "v=spf1 -all")
            .typed()
            .unwrap()
            .unwrap();
        assert_eq!(t.name.as_str(), "sel._domainkey.example.test");
        assert_eq!(t.ttl, DEFAULT_TTL);
        let e = rendered("a b._domainkey.example.test", "x")
            .typed()
            .unwrap_err();
        assert_eq!(e.field, "name");
        assert_eq!(e.value, "a b._domainkey.example.test");
        let mut off = rendered("a b", "x");
        off.enabled = String::new();
        assert_eq!(off.typed().unwrap(), None, "a record left out is not typed");
        let mut dkim = rendered("d.example.test", "");
        (dkim.value, dkim.dkim_key) = (None, Some("keys/x".into()));
        assert_eq!(dkim.typed().unwrap_err().field, "dkim_key");
    }
}
