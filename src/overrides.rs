//! Inputs set by firstboot's own commands (`firstboot dkim rotate`), kept in
//! `/var/lib/firstboot/overrides.json` and resolved over the config file: a command that
//! moves a host on (a rotation stage) says so there, and every later `run`, `plan` and
//! `validate` sees the same values. Checked against the schema like the config file;
//! `plan` names the file when one of its values is wrong.

use crate::host::{HostError, Root};
use crate::state::{ensure_state_dir, STATE_DIR};
use serde_json::{Map, Value};

/// The file, inside the root.
pub const OVERRIDES_FILE: &str = "/var/lib/firstboot/overrides.json";

/// Values by input path, as a config file would nest them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides(pub Map<String, Value>);

impl Overrides {
    /// Load (empty when there is no file). An unreadable or malformed file is an error
    /// saying what to do, never silently ignored: it holds where a host stands.
    pub fn load(root: &Root) -> Result<Overrides, HostError> {
        let Some(d) = root.read(OVERRIDES_FILE)? else {
            return Ok(Overrides::default());
        };
        match serde_json::from_slice::<Value>(&d) {
            Ok(Value::Object(m)) => Ok(Overrides(m)),
            _ => Err(HostError::io(
                "parse",
                &root.path(OVERRIDES_FILE).unwrap_or_default(),
                std::io::Error::other(format!(
                    "not a JSON object; it is written by firstboot commands only (`firstboot dkim rotate`): remove it to drop what they set, and the config file's values apply again (files in {STATE_DIR} are not in the backups)"
                )),
            )),
        }
    }

    /// Save atomically, 0600 (or remove the file when nothing is set).
    pub fn save(&self, root: &Root) -> Result<(), HostError> {
        ensure_state_dir(root)?;
        if self.0.is_empty() {
            return root.remove_file(OVERRIDES_FILE);
        }
        let json = serde_json::to_vec_pretty(&Value::Object(self.0.clone())).unwrap_or_default();
        root.write_atomic(OVERRIDES_FILE, &json, 0o600, None)
    }

    /// The value at a dotted path.
    pub fn get(&self, path: &str) -> Option<&Value> {
        let mut parts = path.split('.');
        let mut v = self.0.get(parts.next()?)?;
        for p in parts {
            v = v.get(p)?;
        }
        Some(v)
    }

    /// Set (or, with `None`, remove) the value at a dotted path; maps left empty go too.
    pub fn set(&mut self, path: &str, value: Option<Value>) {
        let parts: Vec<&str> = path.split('.').collect();
        set_in(&mut self.0, &parts, value);
    }

    /// As a config-shaped value.
    pub fn as_value(&self) -> Value {
        Value::Object(self.0.clone())
    }
}

fn set_in(m: &mut Map<String, Value>, parts: &[&str], value: Option<Value>) {
    let [first, rest @ ..] = parts else { return };
    if rest.is_empty() {
        match value {
            Some(v) => {
                m.insert(first.to_string(), v);
            }
            None => {
                m.remove(*first);
            }
        }
        return;
    }
    let entry = m
        .entry(first.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    if let Value::Object(inner) = entry {
        set_in(inner, rest, value);
        if inner.is_empty() {
            m.remove(*first);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn set_and_remove_by_path_leave_no_empty_maps() {
        let mut o = Overrides::default();
        o.set("mail.dkim.next", Some(json!("s2")));
        o.set("mail.dkim.selector", Some(json!("s1")));
        assert_eq!(o.get("mail.dkim.next"), Some(&json!("s2")));
        o.set("mail.dkim.next", None);
        assert_eq!(o.as_value(), json!({"mail": {"dkim": {"selector": "s1"}}}));
        o.set("mail.dkim.selector", None);
        assert_eq!(o, Overrides::default());
    }

    #[test]
    fn save_load_and_a_malformed_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let root = Root::new(dir.path());
        let mut o = Overrides::default();
        o.set("mail.dkim.next", Some(json!("s2")));
        o.save(&root).unwrap();
        assert_eq!(Overrides::load(&root).unwrap(), o);
        o.set("mail.dkim.next", None);
        o.save(&root).unwrap();
        assert!(root.read(OVERRIDES_FILE).unwrap().is_none());
        root.write_atomic(OVERRIDES_FILE, b"[1]", 0o600, None)
            .unwrap();
        let e = Overrides::load(&root).unwrap_err().to_string();
        assert!(e.contains("written by firstboot commands only"), "{e}");
    }
}
