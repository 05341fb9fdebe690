//! A manifest's `records:` checked when the catalog loads: each declaration on its own
//! (one value source, a source that fits the type, literal names and values parsed), and
//! every `records` check of the module has records to check. The records themselves
//! reach steps and checks typed, when the module is built (their `records_slot`); no
//! module reaches another's records.

use super::decl::RecordDecl;
use serde_json::Value;

/// The problems, as (key, reason), of a manifest's records and of the `records` checks
/// that use them (the bodies of its checks, each with where it is declared).
pub fn problems<'a>(
    records: &[RecordDecl],
    check_bodies: impl Iterator<Item = (String, &'a Value)>,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (i, r) in records.iter().enumerate() {
        for (k, reason) in r.problems() {
            out.push((format!("records[{i}].{k}"), reason));
        }
    }
    for (at, c) in check_bodies {
        let Some(body) = c.get("records") else {
            continue;
        };
        let key = format!("{at}.records");
        if body.get("records").is_some() {
            out.push((
                format!("{key}.records"),
                "is filled in from the module's `records:` list; remove it".into(),
            ));
        } else if records.is_empty() {
            out.push((key, "the module declares no `records:`".into()));
        }
    }
    out
}
