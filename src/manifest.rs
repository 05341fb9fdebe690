//! A module's manifest (`modules/NN-name/module.yaml`): its inputs, outputs, steps,
//! checks and DNS records. Steps and checks are kept as data and typed twice: once when
//! the manifest is loaded (so a typo is caught before anything runs), and again after
//! their strings are rendered with the run's inputs.

use crate::inputs::InputDecl;
use crate::render::{render_in, Ctx, RenderError};
use indexmap::IndexMap;
use serde::{de::Error as _, Deserialize, Deserializer};
use serde_json::{Map, Value};

/// A parsed `module.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Short name, also the name of the module's config section (`mail`).
    pub name: String,
    /// One line on what the module does.
    pub description: String,
    /// Inputs of the module's config section.
    #[serde(default)]
    pub inputs: IndexMap<String, InputDecl>,
    /// Values later modules may read as `outputs.<name>.<key>` (Tera strings).
    #[serde(default)]
    pub outputs: IndexMap<String, String>,
    /// What the module does, in order (groups flattened, see [`Decl`]).
    #[serde(default, deserialize_with = "steps")]
    pub steps: Vec<Decl>,
    /// What must hold after the module ran (and whenever `firstboot validate` runs).
    #[serde(default, deserialize_with = "checks")]
    pub checks: Vec<Decl>,
    /// DNS records this module needs (`firstboot records`, `publish_records`, the
    /// `records` check); see `src/dns/`.
    #[serde(default)]
    pub records: Vec<crate::dns::RecordDecl>,
}

/// One step or check as declared: a single-key map naming its kind, plus an optional
/// `when` condition (a Tera expression over the inputs). A group is an entry whose key
/// is the list's own name (`steps:` inside `steps:`, `checks:` inside `checks:`; `group`
/// is the system-group step) holding entries that share its `when`; groups may nest
/// and are flattened when the manifest is read, each member keeping every condition
/// above it.
#[derive(Debug, Clone)]
pub struct Decl {
    /// Where it is declared (`steps[3]`, `steps[4].steps[1]`), for messages.
    pub at: String,
    /// Conditions, outermost group first, each with where it is written; the step is
    /// left out unless all hold.
    pub when: Vec<(String, String)>,
    /// The kind (`file`, `service`...).
    pub kind: String,
    /// `{kind: {...}}` as written, strings not yet rendered.
    pub body: Value,
}

/// An entry as written, before groups are flattened.
struct Entry {
    when: Option<String>,
    kind: String,
    body: Value,
}

impl<'de> Deserialize<'de> for Entry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut map = Map::<String, Value>::deserialize(d)?;
        let when = match map.remove("when") {
            None => None,
            Some(Value::String(s)) => Some(s),
            Some(_) => return Err(D::Error::custom("`when` must be a string expression")),
        };
        if map.len() != 1 {
            let keys: Vec<&String> = map.keys().collect();
            return Err(D::Error::custom(format!(
                "a step or check needs exactly one kind key (besides `when`), found {keys:?}"
            )));
        }
        let kind = map.keys().next().cloned().unwrap_or_default();
        Ok(Entry {
            when,
            kind,
            body: Value::Object(map),
        })
    }
}

fn flatten<E: serde::de::Error>(
    entries: Vec<Entry>,
    what: &str,
    prefix: &str,
    outer: &[(String, String)],
    out: &mut Vec<Decl>,
) -> Result<(), E> {
    for (i, e) in entries.into_iter().enumerate() {
        let at = format!("{prefix}[{i}]");
        let mut when = outer.to_vec();
        when.extend(e.when.map(|w| (at.clone(), w)));
        if e.kind == what {
            let members = e.body.get(what).cloned().unwrap_or(Value::Null);
            let list: Vec<Entry> = serde_json::from_value(members)
                .map_err(|err| E::custom(format!("{at}.{what}: {err}")))?;
            flatten(list, what, &format!("{at}.{what}"), &when, out)?;
        } else {
            out.push(Decl {
                at,
                when,
                kind: e.kind,
                body: e.body,
            });
        }
    }
    Ok(())
}

fn decls<'de, D: Deserializer<'de>>(d: D, what: &str) -> Result<Vec<Decl>, D::Error> {
    let entries = Vec::<Entry>::deserialize(d)?;
    let mut out = Vec::new();
    flatten(entries, what, what, &[], &mut out)?;
    Ok(out)
}

fn steps<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Decl>, D::Error> {
    decls(d, "steps")
}

fn checks<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Decl>, D::Error> {
    decls(d, "checks")
}

impl Decl {
    /// Whether the step applies with these inputs (a Tera context converted once per
    /// module, see [`Ctx`]).
    pub fn enabled(&self, ctx: &Ctx) -> Result<bool, RenderError> {
        for (_, expr) in &self.when {
            if !crate::render::eval_bool_in(expr, ctx)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The body with every string rendered as a Tera template.
    pub fn rendered(&self, ctx: &Ctx) -> Result<Value, RenderError> {
        render_strings(&self.body, ctx)
    }

    /// Every string of the body, as written (the inline templates it renders).
    pub fn strings(&self) -> Vec<String> {
        let mut out = Vec::new();
        collect_strings(&self.body, &mut out);
        out
    }

    /// Template file names this declaration refers to (`template:` keys).
    pub fn templates(&self) -> Vec<String> {
        let mut out = Vec::new();
        collect_templates(&self.body, &mut out);
        out
    }
}

fn collect_strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|v| collect_strings(v, out)),
        Value::Object(m) => m.values().for_each(|v| collect_strings(v, out)),
        _ => {}
    }
}

fn collect_templates(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                match (k.as_str(), v) {
                    ("template", Value::String(s)) => out.push(s.clone()),
                    _ => collect_templates(v, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| collect_templates(v, out)),
        _ => {}
    }
}

/// Render every string leaf of `v` as a Tera template.
pub fn render_strings(v: &Value, ctx: &Ctx) -> Result<Value, RenderError> {
    Ok(match v {
        Value::String(s) => Value::String(render_in(s, ctx)?),
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|x| render_strings(x, ctx))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| Ok((k.clone(), render_strings(x, ctx)?)))
                .collect::<Result<_, RenderError>>()?,
        ),
        other => other.clone(),
    })
}

/// A module: its id, order, manifest and templates.
#[derive(Debug, Clone)]
pub struct Module {
    /// Full id, the directory name (`9-mail_config`).
    pub id: String,
    /// Numeric prefix; modules run in ascending order.
    pub order: u32,
    /// The parsed manifest.
    pub manifest: Manifest,
    /// Parsed templates, named `<id>/<relative path>`.
    pub templates: crate::render::Templates,
    /// Where the module came from (`embedded` or a directory), for messages.
    pub source: String,
    /// The manifest's YAML text, to put line numbers on messages.
    pub text: std::sync::Arc<str>,
}

impl Module {
    /// The numeric prefix of a module directory name (`10-monitoring` → 10).
    pub fn order_of(id: &str) -> Option<u32> {
        let (num, rest) = id.split_once('-')?;
        (!rest.is_empty()).then_some(())?;
        num.parse().ok()
    }

    /// Short name (`mail`).
    pub fn name(&self) -> &str {
        &self.manifest.name
    }

    /// Full template name for a manifest's `template:` value.
    pub fn template_name(&self, file: &str) -> String {
        format!("{}/{}", self.id, file)
    }

    /// Path of the manifest, for messages.
    pub fn manifest_path(&self) -> String {
        format!("{}/{}/module.yaml", self.source, self.id)
    }
}
