//! Fields a template may fill, typed after rendering: a literal is typed when the
//! manifest loads, a template when the module is built (before anything changes), so a
//! value that does not fit is found then, not while a step runs.

use super::StepError;
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A typed field of a step, possibly written as a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Templated<T> {
    /// The value, typed.
    Ready(T),
    /// A template not rendered yet (only in a manifest as loaded, never in a built step).
    Pending(String),
}

impl<T> From<T> for Templated<T> {
    fn from(t: T) -> Self {
        Templated::Ready(t)
    }
}

impl<T> Templated<T> {
    /// The typed value.
    pub fn get(&self) -> Result<&T, StepError> {
        match self {
            Templated::Ready(t) => Ok(t),
            Templated::Pending(s) => Err(StepError::Invalid(format!("`{s}` was not rendered"))),
        }
    }
}

impl<T: std::fmt::Display> std::fmt::Display for Templated<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Templated::Ready(t) => t.fmt(f),
            Templated::Pending(s) => f.write_str(s),
        }
    }
}

/// Type `v` as `T`; a string is also read as the number or boolean it spells (a
/// template renders to text: `"2048"` for an integer field).
fn typed<T: DeserializeOwned>(v: Value) -> Result<T, String> {
    match serde_json::from_value::<T>(v.clone()) {
        Ok(t) => Ok(t),
        Err(e) => match &v {
            Value::String(s) => serde_json::from_str::<Value>(s.trim())
                .ok()
                .filter(|x| x.is_number() || x.is_boolean())
                .and_then(|x| serde_json::from_value(x).ok())
                .ok_or_else(|| e.to_string()),
            _ => Err(e.to_string()),
        },
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Templated<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        if let Value::String(s) = &v {
            if crate::render::is_template(s) {
                return Ok(Templated::Pending(s.clone()));
            }
        }
        typed(v).map(Templated::Ready).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::steps::mode::Mode;
    use serde_json::json;

    #[test]
    fn literals_are_typed_at_once_templates_when_rendered() {
        let m: Templated<Mode> = serde_json::from_value(json!("{{ m }}")).unwrap();
        assert!(matches!(m, Templated::Pending(_)));
        assert!(m.get().is_err());
        let m: Templated<Mode> = serde_json::from_value(json!("0640")).unwrap();
        assert_eq!(m.get().unwrap(), &Mode(0o640));
        assert!(serde_json::from_value::<Templated<Mode>>(json!("rw")).is_err());
        let b: Templated<u32> = serde_json::from_value(json!("2048")).unwrap();
        assert_eq!(b.get().unwrap(), &2048);
        assert!(serde_json::from_value::<Templated<u32>>(json!("20x")).is_err());
        let z: Templated<crate::dns::DName> =
            serde_json::from_value(json!("Example.Test.")).unwrap();
        assert_eq!(z.to_string(), "example.test.");
        assert!(serde_json::from_value::<Templated<crate::dns::DName>>(json!("a b")).is_err());
        let s: Templated<std::net::IpAddr> = serde_json::from_value(json!("192.0.2.53")).unwrap();
        assert_eq!(s.to_string(), "192.0.2.53");
        assert!(serde_json::from_value::<Templated<std::net::IpAddr>>(json!("dns.test")).is_err());
    }
}
