//! Checks of lists and maps: each item or field through [`check`], unknown keys named
//! (cut to 60 characters), `unique` fields, and the whole-list limits of SPF mechanisms.

use super::kinds::{check, shape, Problems};
use super::schema::{InputDecl, InputKind};
use super::text::{self, quote};
use serde_json::{Map, Value};

pub(super) fn check_list(
    decl: &InputDecl,
    value: &Value,
    key: &str,
    out: &mut Problems,
) -> Option<Value> {
    let Some(items) = value.as_array() else {
        out.push((
            key.to_string(),
            format!("expected a list, got {}", shape(value)),
        ));
        return None;
    };
    let item_decl = decl.items.as_deref()?;
    let before = out.len();
    let vals: Vec<Value> = items
        .iter()
        .enumerate()
        .filter_map(|(i, v)| check(item_decl, v, &format!("{key}[{i}]"), out))
        .collect();
    if out.len() != before {
        return None;
    }
    if let Some(field) = &decl.unique {
        let mut seen = std::collections::HashMap::new();
        for (i, v) in vals.iter().enumerate() {
            if let Some(x) = v.get(field).filter(|x| !x.is_null()) {
                if let Some(first) = seen.insert(x.to_string(), i) {
                    out.push((
                        format!("{key}[{i}].{field}"),
                        format!("{} is used twice (also {key}[{first}])", quote_value(x)),
                    ));
                }
            }
        }
    }
    if item_decl.kind == InputKind::SpfMechanism {
        let terms: Vec<String> = vals
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        if let Err(e) = super::spf::list(&terms) {
            out.push((key.to_string(), e));
        }
    }
    (out.len() == before).then_some(Value::Array(vals))
}

pub(super) fn check_map(
    decl: &InputDecl,
    value: &Value,
    key: &str,
    out: &mut Problems,
) -> Option<Value> {
    let Some(map) = value.as_object() else {
        out.push((
            key.to_string(),
            format!("expected a map, got {}", shape(value)),
        ));
        return None;
    };
    let before = out.len();
    let mut result = Map::new();
    for (k, v) in map {
        match decl.fields.get(k) {
            None => out.push((
                join(key, &crate::yaml::truncate(k, text::SHOWN_CHARS)),
                unknown_key_reason(k, decl),
            )),
            Some(f) => {
                if let Some(nv) = check(f, v, &join(key, k), out) {
                    result.insert(k.clone(), nv);
                }
            }
        }
    }
    (out.len() == before).then_some(Value::Object(result))
}

/// `a.b` (or `b` at the top level).
pub fn join(key: &str, name: &str) -> String {
    if key.is_empty() {
        name.to_string()
    } else {
        format!("{key}.{name}")
    }
}

fn unknown_key_reason(k: &str, decl: &InputDecl) -> String {
    let known: Vec<&str> = decl.fields.keys().map(String::as_str).collect();
    format!(
        "unknown key `{}` (known keys: {})",
        crate::yaml::truncate(k, text::SHOWN_CHARS),
        known.join(", ")
    )
}

fn quote_value(v: &Value) -> String {
    match v {
        Value::String(s) => quote(s),
        other => crate::yaml::truncate(&other.to_string(), text::SHOWN_CHARS),
    }
}
