//! How a module's records reach the steps and checks that use them: when the catalog
//! loads a manifest, it checks each `records:` entry and copies the list (in its
//! deferred, `when`-guarded form) into the module's `publish_records` and
//! `write_records` actions and `records` checks. Rendering the step then renders the
//! records with the same inputs, so no engine plumbing is needed and no module can
//! reach another module's records.

use crate::manifest::{Decl, Manifest};
use serde_json::{Map, Value};

/// Actions that receive the module's records.
pub const RECORD_ACTIONS: [&str; 2] = ["publish_records", "write_records"];

fn fill(body: &mut Value, records: &[Value], key: &str, out: &mut Vec<(String, String)>) {
    if body.is_null() {
        *body = Value::Object(Map::new());
    }
    let Some(obj) = body.as_object_mut() else {
        return; // the step's own parser reports the wrong shape
    };
    if obj.contains_key("records") {
        out.push((
            format!("{key}.records"),
            "is filled in from the module's `records:` list; remove it".into(),
        ));
    } else if records.is_empty() {
        out.push((key.to_string(), "the module declares no `records:`".into()));
    } else {
        obj.insert("records".into(), Value::Array(records.to_vec()));
    }
}

fn steps(decls: &mut [Decl], records: &[Value], out: &mut Vec<(String, String)>) {
    for (i, d) in decls.iter_mut().enumerate() {
        let Some(action) = d.body.get_mut("action").and_then(Value::as_object_mut) else {
            continue;
        };
        for name in RECORD_ACTIONS {
            if let Some(body) = action.get_mut(name) {
                fill(body, records, &format!("steps[{i}].action.{name}"), out);
            }
        }
    }
}

/// Check the manifest's records and hand them to the actions and checks that use them;
/// returns the problems as (key, reason).
pub fn records(m: &mut Manifest) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (i, r) in m.records.iter().enumerate() {
        for (k, reason) in r.problems() {
            out.push((format!("records[{i}].{k}"), reason));
        }
    }
    let deferred: Vec<Value> = m.records.iter().map(|r| r.deferred()).collect();
    steps(&mut m.steps, &deferred, &mut out);
    for (i, c) in m.checks.iter_mut().enumerate() {
        if let Some(body) = c.body.get_mut("records") {
            fill(body, &deferred, &format!("checks[{i}].records"), &mut out);
        }
    }
    out
}
