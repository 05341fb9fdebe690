//! Every variable path a manifest and its templates read (`when:` conditions, templated
//! fields, records, outputs, input defaults and rules, template files), checked against
//! the config schema and the outputs of earlier modules when the catalog loads: a typo
//! such as `mail.mod == "full"` is an error naming the manifest, its line and the path,
//! before anything runs. Templates a template includes, extends or imports must exist
//! in the same module.

use crate::diag::Diagnostics;
use crate::inputs::{InputDecl, InputKind};
use crate::manifest::{Decl, Module};
use crate::tvars::{of_condition, of_inline, of_template, Refs};
use serde_json::Value;
use std::collections::BTreeMap;

/// What a module may read besides the config: `outputs.<module>.<key>` of the modules
/// before it (by short name: order and output keys).
pub struct Scope<'a> {
    /// The whole config schema.
    pub schema: &'a InputDecl,
    /// Every module's short name → (order, output keys).
    pub outputs: &'a BTreeMap<String, (u32, Vec<String>)>,
}

/// Why `path` names nothing a module of order `order` can read; `None` when it is fine.
pub fn problem(scope: &Scope, order: u32, path: &str) -> Option<String> {
    let segs: Vec<&str> = path.split('.').collect();
    if segs[0] == "outputs" {
        let name = segs.get(1)?;
        let Some((o, keys)) = scope.outputs.get(*name) else {
            return Some(format!(
                "unknown variable `{path}`: no module is named `{name}`"
            ));
        };
        if *o >= order {
            return Some(format!(
                "`{path}`: a module reads only the outputs of modules before it"
            ));
        }
        return match segs.get(2) {
            Some(k) if !keys.iter().any(|x| x == k) => Some(format!(
                "unknown variable `{path}`: module `{name}` has no output `{k}` (it has: {})",
                words(keys.iter())
            )),
            Some(_) if segs.len() > 3 => Some(format!("`{path}`: an output is a string")),
            _ => None,
        };
    }
    let mut d = scope.schema;
    for (i, seg) in segs.iter().enumerate() {
        match d.kind {
            InputKind::Map => match d.fields.get(*seg) {
                Some(f) => d = f,
                None => {
                    let at = segs[..i].join(".");
                    let known = words(d.fields.keys());
                    return Some(match at.is_empty() {
                        true => format!("unknown variable `{path}` (the config has: {known})"),
                        false => format!(
                            "unknown variable `{path}`: `{at}` has no input `{seg}` (it has: {known})"
                        ),
                    });
                }
            },
            InputKind::List => return None, // items are read through loops
            _ => {
                let at = segs[..i].join(".");
                let kind = format!("{:?}", d.kind).to_lowercase();
                return Some(format!(
                    "`{path}`: `{at}` is a {kind} value, it has no field `{seg}`"
                ));
            }
        }
    }
    None
}

fn words<'a>(it: impl Iterator<Item = &'a String>) -> String {
    it.map(String::as_str).collect::<Vec<_>>().join(", ")
}

/// One place a manifest holds a template or a condition.
struct Site {
    key: String,
    text: String,
    condition: bool,
}

fn strings(v: &Value, key: &str, out: &mut Vec<Site>) {
    match v {
        Value::String(s) => out.push(Site {
            key: key.to_string(),
            text: s.clone(),
            condition: false,
        }),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| strings(x, &format!("{key}[{i}]"), out)),
        Value::Object(m) => m
            .iter()
            .for_each(|(k, x)| strings(x, &format!("{key}.{k}"), out)),
        _ => {}
    }
}

fn decls(list: &[Decl], out: &mut Vec<Site>) {
    for d in list {
        strings(&d.body, &d.at, out);
        for w in &d.when {
            out.push(Site {
                key: format!("{}.when", w.0),
                text: w.1.clone(),
                condition: true,
            });
        }
    }
}

fn inputs(decl: &InputDecl, key: &str, out: &mut Vec<Site>) {
    if let Some(Value::String(s)) = &decl.default {
        out.push(Site {
            key: format!("{key}.default"),
            text: s.clone(),
            condition: false,
        });
    }
    for (k, c) in [
        ("required_when", &decl.required_when),
        ("valid_when", &decl.valid_when),
    ] {
        if let Some(c) = c {
            out.push(Site {
                key: format!("{key}.{k}"),
                text: c.clone(),
                condition: true,
            });
        }
    }
    if let Some(items) = &decl.items {
        inputs(items, &format!("{key}.items"), out);
    }
    for (k, f) in &decl.fields {
        inputs(f, &format!("{key}.fields.{k}"), out);
    }
}

fn sites(m: &Module) -> Vec<Site> {
    let mut out = Vec::new();
    let man = &m.manifest;
    for (k, d) in &man.inputs {
        inputs(d, &format!("inputs.{k}"), &mut out);
    }
    for (k, t) in &man.outputs {
        strings(&Value::String(t.clone()), &format!("outputs.{k}"), &mut out);
    }
    for (i, r) in man.records.iter().enumerate() {
        let key = format!("records[{i}]");
        for (f, t) in [
            ("name", Some(&r.name)),
            ("value", r.value.as_ref()),
            ("tlsa_cert", r.tlsa_cert.as_ref()),
            ("dkim_key", r.dkim_key.as_ref()),
        ] {
            if let Some(t) = t {
                strings(&Value::String(t.clone()), &format!("{key}.{f}"), &mut out);
            }
        }
        if let Some(w) = &r.when {
            out.push(Site {
                key: format!("{key}.when"),
                text: w.clone(),
                condition: true,
            });
        }
    }
    decls(&man.steps, &mut out);
    decls(&man.checks, &mut out);
    out
}

/// Check every module of a catalog against its `schema`, each reading the outputs of
/// the modules before it; the templates of modules from directories are also parsed.
pub fn check_all(modules: &[Module], schema: &InputDecl, diags: &mut Diagnostics) {
    let outputs = modules
        .iter()
        .map(|m| {
            let keys = m.manifest.outputs.keys().cloned().collect();
            (m.name().to_string(), (m.order, keys))
        })
        .collect();
    let scope = Scope {
        schema,
        outputs: &outputs,
    };
    // The global inputs' defaults and rules read other inputs, never outputs.
    let mut globals = Vec::new();
    for (k, d) in &schema.fields {
        if !modules.iter().any(|m| m.name() == k) {
            inputs(d, &format!("inputs.{k}"), &mut globals);
        }
    }
    check_sites(globals, "embedded:modules/global.yaml", &scope, 0, diags);
    for m in modules {
        let before = diags.0.len();
        check(m, &scope, diags);
        if diags.0.len() == before && !m.source.starts_with("embedded:") {
            if let Err(e) = m.templates.check() {
                diags.push(&m.manifest_path(), "templates", e.to_string());
            }
        }
    }
}

/// Check one module: its manifest's strings and its template files.
pub fn check(m: &Module, scope: &Scope, diags: &mut Diagnostics) {
    check_sites(sites(m), &m.manifest_path(), scope, m.order, diags);
    for (name, text) in m.templates.sources() {
        let tfile = format!("{}/{}/templates/{name}", m.source, m.id);
        let at = |needle: &str| text.lines().position(|l| l.contains(needle)).map(|i| i + 1);
        let mut push = |line: Option<usize>, key: &str, reason: String| {
            diags.0.push(crate::diag::Diagnostic {
                file: tfile.clone(),
                key: key.to_string(),
                line,
                reason,
            })
        };
        let r = match of_template(name, text) {
            Ok(r) => r,
            Err(e) => {
                push(None, "(template)", format!("cannot be parsed: {e}"));
                continue;
            }
        };
        for t in &r.templates {
            if !m.templates.has(&m.template_name(t)) {
                push(
                    at(t),
                    t,
                    format!("no template `{t}` in {}/templates/ to include", m.id),
                );
            }
        }
        for v in &r.vars {
            if let Some(reason) = problem(scope, m.order, v) {
                push(at(v), v, reason);
            }
        }
    }
}

fn check_sites(sites: Vec<Site>, file: &str, scope: &Scope, order: u32, diags: &mut Diagnostics) {
    for s in sites {
        let refs = match s.condition {
            true => of_condition(&s.text),
            false => of_inline(&s.text),
        };
        match refs {
            Err(e) => diags.push(file, &s.key, format!("cannot be parsed: {e}")),
            Ok(r) => vars(&r, scope, order, |reason| diags.push(file, &s.key, reason)),
        }
    }
}

fn vars(r: &Refs, scope: &Scope, order: u32, mut push: impl FnMut(String)) {
    for v in &r.vars {
        if let Some(reason) = problem(scope, order, v) {
            push(reason);
        }
    }
}
