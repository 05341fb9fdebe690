//! Resolution: values set by firstboot's commands (`src/overrides.rs`) over the config
//! file over cloud-init's instance data over profile defaults over manifest defaults over
//! host facts, each source checked against the schema first, every problem reported at
//! once.

use super::kinds::{check, join, Problems};
use super::schema::{InputDecl, InputKind};
use crate::diag::Diagnostics;
use crate::facts::Facts;
use crate::render::{eval_bool, render_str};
use serde_json::{Map, Value};

/// The sources of one resolution.
pub struct Sources<'a> {
    /// Config file name, for messages.
    pub config_file: &'a str,
    /// Its text (`None` when there is no config file), for line numbers.
    pub config_text: Option<&'a str>,
    /// Its parsed value (parsed once, by the caller).
    pub config: Option<&'a Value>,
    /// Profile file name, for messages.
    pub profile_file: &'a str,
    /// The profile's default inputs.
    pub profile_defaults: &'a Map<String, Value>,
    /// Host facts.
    pub facts: &'a Facts,
    /// Values set by firstboot's own commands, with their file's name.
    pub overrides: Option<(&'a str, &'a Value)>,
    /// Inputs from cloud-init's instance data (`src/instance_data.rs`).
    pub instance: Option<InstanceLayer<'a>>,
}

/// Inputs taken from cloud-init's instance data where the config leaves them out.
pub struct InstanceLayer<'a> {
    /// The instance-data file, for messages.
    pub file: &'a str,
    /// `{hostname: .., ipv4: .., ipv6: ..}`, each only where the instance data has it.
    pub values: &'a Value,
    /// Per input, the instance-data key it came from (what a message names).
    pub keys: &'a [(String, String)],
}

/// Validated inputs: the template context, and the secret values in it.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// `{domain: ..., mail: {...}, ...}`.
    pub values: Value,
    /// Every secret value (to be masked everywhere).
    pub secrets: Vec<String>,
}

/// Problems become diagnostics; an empty reason marks a value left out because an input
/// it is computed from has a problem of its own (reported once, there).
fn to_diags(d: &mut Diagnostics, file: &str, p: Problems) {
    for (k, r) in p.into_iter().filter(|(_, r)| !r.is_empty()) {
        d.push(file, &k, r);
    }
}

/// Whether the template `s` names an input that already has a problem (or was left out).
fn uses_failed(s: &str, p: &Problems) -> bool {
    if p.is_empty() || !s.contains("{{") && !s.contains("{%") {
        return false;
    }
    let names: Vec<&str> = s
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .filter(|w| !w.is_empty())
        .collect();
    p.iter().any(|(k, _)| {
        let k = k.split('[').next().unwrap_or(k);
        names
            .iter()
            .any(|n| *n == k || n.starts_with(&format!("{k}.")) || k.starts_with(&format!("{n}.")))
    })
}

/// Resolve inputs for the config schema `schema`, filling defaults only for the top-level
/// keys in `fill_keys` (globals and the selected modules' sections).
pub fn resolve(
    schema: &InputDecl,
    fill_keys: &[String],
    src: &Sources,
) -> Result<Resolved, Diagnostics> {
    let mut diags = Diagnostics::default();
    let empty = Value::Object(Map::new());
    let config = src.config.unwrap_or(&empty);
    let mut p = Problems::new();
    let config = check(schema, config, "", &mut p);
    to_diags(&mut diags, src.config_file, p);
    let mut p = Problems::new();
    let profile = check(
        schema,
        &Value::Object(src.profile_defaults.clone()),
        "",
        &mut p,
    );
    to_diags(&mut diags, src.profile_file, p);
    let over = match src.overrides {
        Some((file, v)) => {
            let mut p = Problems::new();
            let checked = check(schema, v, "", &mut p);
            to_diags(&mut diags, file, p);
            checked
        }
        None => Some(Value::Object(Map::new())),
    };
    let instance = match &src.instance {
        Some(l) => {
            let mut p = Problems::new();
            let checked = check(schema, l.values, "", &mut p);
            let p = p
                .into_iter()
                .map(
                    |(k, r)| match l.keys.iter().find(|(input, _)| *input == k) {
                        Some((_, from)) => (format!("{from} (as {k})"), r),
                        None => (k, r),
                    },
                )
                .collect();
            to_diags(&mut diags, l.file, p);
            checked
        }
        None => Some(Value::Object(Map::new())),
    };
    let (Some(config), Some(profile), Some(over), Some(instance)) =
        (config, profile, over, instance)
    else {
        if let Some(t) = src.config_text {
            diags.locate_in(src.config_file, t);
        }
        return Err(diags);
    };
    let merged = merge(merge(merge(profile, instance), config), over);
    let mut root = Value::Object(Map::new());
    let mut p = Problems::new();
    for (name, decl) in &schema.fields {
        let given = merged.get(name).filter(|v| !v.is_null());
        let v = if fill_keys.iter().any(|k| k == name) {
            fill(decl, given, name, &root, src.facts, &mut p)
        } else {
            given.cloned().unwrap_or(Value::Null)
        };
        if let Value::Object(m) = &mut root {
            m.insert(name.clone(), v);
        }
    }
    for (name, decl) in &schema.fields {
        if fill_keys.iter().any(|k| k == name) {
            required_when(decl, &root[name], name, &root, &mut p);
        }
    }
    to_diags(&mut diags, src.config_file, p);
    if let Some(t) = src.config_text {
        diags.locate_in(src.config_file, t);
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    let mut secrets = Vec::new();
    collect_secrets(schema, &root, &mut secrets);
    Ok(Resolved {
        values: root,
        secrets,
    })
}

/// `over` merged onto `base`, maps recursively, anything else replaced.
fn merge(base: Value, over: Value) -> Value {
    match (base, over) {
        (Value::Object(mut b), Value::Object(o)) => {
            for (k, v) in o {
                let merged = match b.remove(&k) {
                    Some(bv) => merge(bv, v),
                    None => v,
                };
                b.insert(k, merged);
            }
            Value::Object(b)
        }
        (_, o) => o,
    }
}

/// A fact's text as `decl` takes it: the number it spells for an integer or port input,
/// its words for a list (each as the list's items take it), else the text.
fn fact_value(decl: &InputDecl, f: &str) -> Value {
    match decl.kind {
        InputKind::Integer | InputKind::Port => f
            .parse::<i64>()
            .map_or_else(|_| Value::String(f.to_string()), Value::from),
        InputKind::List => Value::Array(
            f.split_whitespace()
                .map(|w| match decl.items.as_deref() {
                    Some(item) => fact_value(item, w),
                    None => Value::String(w.to_string()),
                })
                .collect(),
        ),
        _ => Value::String(f.to_string()),
    }
}

fn fill(
    decl: &InputDecl,
    given: Option<&Value>,
    key: &str,
    root: &Value,
    facts: &Facts,
    p: &mut Problems,
) -> Value {
    if let Some(v) = given {
        return match (decl.kind, v) {
            (InputKind::Map, Value::Object(m)) => fill_map(decl, m, key, root, facts, p),
            (InputKind::List, Value::Array(items)) => {
                let Some(item) = decl.items.as_deref() else {
                    return v.clone();
                };
                Value::Array(
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, x)| fill(item, Some(x), &format!("{key}[{i}]"), root, facts, p))
                        .collect(),
                )
            }
            _ => v.clone(),
        };
    }
    if let Some(d) = &decl.default {
        let d = match d {
            // A default computed from an input that is missing or wrong is not computed:
            // that input's own problem is the one to report.
            Value::String(s) if uses_failed(s, p) => {
                p.push((key.to_string(), String::new()));
                return Value::Null;
            }
            Value::String(s) => match render_str(s, root) {
                Ok(r) => Value::String(r),
                Err(e) => {
                    p.push((
                        key.to_string(),
                        format!("default could not be computed: {e}"),
                    ));
                    return Value::Null;
                }
            },
            other => other.clone(),
        };
        if decl.kind == InputKind::Map {
            if let Value::Object(m) = &d {
                return fill_map(decl, m, key, root, facts, p);
            }
        }
        return check(decl, &d, key, p).unwrap_or(Value::Null);
    }
    if let Some(f) = decl.fact.as_deref().and_then(|f| facts.get(f)) {
        return check(decl, &fact_value(decl, f), key, p).unwrap_or(Value::Null);
    }
    if decl.kind == InputKind::Map && !decl.optional {
        return fill_map(decl, &Map::new(), key, root, facts, p);
    }
    if decl.required {
        p.push((
            key.to_string(),
            format!("is missing (required: {})", decl.description),
        ));
    }
    Value::Null
}

fn fill_map(
    decl: &InputDecl,
    given: &Map<String, Value>,
    key: &str,
    root: &Value,
    facts: &Facts,
    p: &mut Problems,
) -> Value {
    let mut out = Map::new();
    for (name, f) in &decl.fields {
        let v = fill(
            f,
            given.get(name).filter(|v| !v.is_null()),
            &join(key, name),
            root,
            facts,
            p,
        );
        out.insert(name.clone(), v);
    }
    Value::Object(out)
}

/// Cross-input rules, once every value is known: `required_when` for missing values,
/// `valid_when` for present ones.
fn required_when(decl: &InputDecl, v: &Value, key: &str, root: &Value, p: &mut Problems) {
    if let (Some(expr), false) = (&decl.valid_when, v.is_null()) {
        match eval_bool(expr, root) {
            Ok(true) => {}
            Ok(false) => p.push((
                key.to_string(),
                decl.invalid_reason
                    .clone()
                    .unwrap_or_else(|| format!("must satisfy {expr}")),
            )),
            Err(e) => p.push((
                key.to_string(),
                format!("valid_when could not be evaluated: {e}"),
            )),
        }
    }
    if let (Some(expr), true) = (&decl.required_when, v.is_null()) {
        match eval_bool(expr, root) {
            Ok(true) => p.push((
                key.to_string(),
                format!("is required when {expr} ({})", decl.description),
            )),
            Ok(false) => {}
            Err(e) => p.push((
                key.to_string(),
                format!("required_when could not be evaluated: {e}"),
            )),
        }
    }
    if let Value::Object(m) = v {
        for (name, f) in &decl.fields {
            required_when(
                f,
                m.get(name).unwrap_or(&Value::Null),
                &join(key, name),
                root,
                p,
            );
        }
    }
}

fn collect_secrets(decl: &InputDecl, v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) if decl.is_secret() => out.push(s.clone()),
        Value::Object(m) => {
            for (name, f) in &decl.fields {
                if let Some(x) = m.get(name) {
                    collect_secrets(f, x, out);
                }
            }
        }
        Value::Array(a) => {
            if let Some(item) = decl.items.as_deref() {
                a.iter().for_each(|x| collect_secrets(item, x, out));
            }
        }
        _ => {}
    }
}
