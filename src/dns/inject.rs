//! How a module's records reach its `records` checks: when the catalog loads a manifest,
//! it checks each `records:` entry and copies the list (in its deferred, `when`-guarded
//! form) into the module's `records` checks, so rendering the check renders the records
//! with the same inputs. Steps get them typed instead, when the module is built (the
//! records hook of the step kinds); no module reaches another's records.

use super::decl::RecordDecl;
use serde_json::{Map, Value};

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

/// Check a manifest's records and hand them to the checks that use them (the bodies of
/// its checks, each with where it is declared); returns the problems as (key, reason).
pub fn records<'a>(
    records: &[RecordDecl],
    check_bodies: impl Iterator<Item = (String, &'a mut Value)>,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (i, r) in records.iter().enumerate() {
        for (k, reason) in r.problems() {
            out.push((format!("records[{i}].{k}"), reason));
        }
    }
    let deferred: Vec<Value> = records.iter().map(|r| r.deferred()).collect();
    for (at, c) in check_bodies {
        if let Some(body) = c.get_mut("records") {
            fill(body, &deferred, &format!("{at}.records"), &mut out);
        }
    }
    out
}
