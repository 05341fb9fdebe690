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
    /// A check's stable id (`dns.spf`), as written; `None` for steps and for checks
    /// declared without one (they get `<kind>.<n>`, see [`Decl::check_id`]).
    pub id: Option<String>,
    /// A check's hint on how to fix a failure (a Tera string), as written.
    pub hint: Option<String>,
    /// A check whose failure `run` reports without rolling the module back (what only
    /// the provider can fix, such as a PTR); `validate` still fails on it.
    pub advisory: bool,
}

/// An entry as written, before groups are flattened.
struct Entry {
    when: Option<String>,
    id: Option<String>,
    hint: Option<String>,
    advisory: bool,
    kind: String,
    body: Value,
}

/// A string-valued key of an entry besides its kind (`when`, `id`, `hint`).
fn take_str<E: serde::de::Error>(
    map: &mut Map<String, Value>,
    key: &str,
) -> Result<Option<String>, E> {
    match map.remove(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(E::custom(format!("`{key}` must be a string"))),
    }
}

/// Whether `id` is a usable check id: lowercase letters, digits, `.`, `_` and `-`,
/// starting with a letter, at most 64 characters (it becomes a Prometheus label value
/// and a JSON key users script against).
pub fn valid_check_id(id: &str) -> bool {
    id.len() <= 64
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
}

impl<'de> Deserialize<'de> for Entry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut map = Map::<String, Value>::deserialize(d)?;
        let when = match map.remove("when") {
            None => None,
            Some(Value::String(s)) => Some(s),
            Some(_) => return Err(D::Error::custom("`when` must be a string expression")),
        };
        let id = take_str::<D::Error>(&mut map, "id")?;
        let hint = take_str::<D::Error>(&mut map, "hint")?;
        let advisory = match map.remove("advisory") {
            None => false,
            Some(Value::Bool(b)) => b,
            Some(_) => return Err(D::Error::custom("`advisory` must be true or false")),
        };
        if map.len() != 1 {
            let keys: Vec<&String> = map.keys().collect();
            return Err(D::Error::custom(format!(
                "a step or check needs exactly one kind key (besides `when`, `id`, `hint`, `advisory`), found {keys:?}"
            )));
        }
        let kind = map.keys().next().cloned().unwrap_or_default();
        Ok(Entry {
            when,
            id,
            hint,
            advisory,
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
        if (e.id.is_some() || e.hint.is_some() || e.advisory)
            && (what != "checks" || e.kind == what)
        {
            return Err(E::custom(format!(
                "{at}: `id`, `hint` and `advisory` belong on a check, not on a step or a group"
            )));
        }
        if let Some(id) = e.id.as_deref().filter(|id| !valid_check_id(id)) {
            return Err(E::custom(format!(
                "{at}.id: {id:?} is not a check id (lowercase letters, digits, `.`, `_`, `-`; \
                 starts with a letter; at most 64 characters)"
            )));
        }
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
                id: e.id,
                hint: e.hint,
                advisory: e.advisory,
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
    /// The id of the check at `index` of the flattened list: its own, else `<kind>.<n>`
    /// (n counted from 1).
    pub fn check_id(&self, index: usize) -> String {
        match &self.id {
            Some(id) => id.clone(),
            None => format!("{}.{}", self.kind, index + 1),
        }
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    fn load(yaml: &str) -> Result<Manifest, String> {
        serde_yaml::from_str(yaml).map_err(|e| e.to_string())
    }

    #[test]
    fn checks_carry_ids_and_hints_and_get_a_default_id() {
        let m = load(
            "name: x\ndescription: d\nchecks:\n  - id: dns.spf\n    hint: publish it\n    file: {path: /a}\n  - when: 'true'\n    checks:\n      - command: {argv: [true]}\n",
        )
        .unwrap();
        assert_eq!(m.checks[0].id.as_deref(), Some("dns.spf"));
        assert_eq!(m.checks[0].hint.as_deref(), Some("publish it"));
        assert_eq!(m.checks[0].check_id(0), "dns.spf");
        assert_eq!(m.checks[1].id, None);
        assert_eq!(m.checks[1].check_id(1), "command.2");
    }

    #[test]
    fn a_bad_id_or_an_id_on_a_step_or_group_is_refused() {
        for (yaml, says) in [
            (
                "checks:\n  - id: Dns.Spf\n    file: {path: /a}\n",
                "is not a check id",
            ),
            (
                "checks:\n  - id: 'a b'\n    file: {path: /a}\n",
                "is not a check id",
            ),
            (
                "checks:\n  - id: [a]\n    file: {path: /a}\n",
                "`id` must be a string",
            ),
            (
                "steps:\n  - id: a\n    file: {path: /a}\n",
                "belong on a check",
            ),
            ("checks:\n  - id: a\n    checks: []\n", "belong on a check"),
            (
                "steps:\n  - advisory: true\n    file: {path: /a}\n",
                "belong on a check",
            ),
            (
                "checks:\n  - advisory: 1\n    file: {path: /a}\n",
                "`advisory` must be true or false",
            ),
        ] {
            let err = load(&format!("name: x\ndescription: d\n{yaml}")).unwrap_err();
            assert!(err.contains(says), "{yaml}: {err}");
        }
        assert!(valid_check_id("tls.imaps-993_x"));
        assert!(!valid_check_id("1tls"));
        assert!(!valid_check_id(&"a".repeat(65)));
        assert!(valid_check_id(&"a".repeat(64)));
    }
}
