//! The build phase: every selected module rendered and typed before the first change of
//! a run (and before `plan` shows anything). Steps and checks are typed from their
//! rendered declarations, the module's DNS records are typed and handed to the steps
//! that use them. A problem is a [`BuildError`]: blamed on the config input that gives
//! the unusable value when one does, else on the manifest's declaration.

use super::module::Built;
use crate::checks::{CheckKind, Declared};
use crate::dns::typed::Typed;
use crate::dns::RecordDecl;
use crate::inputs::{InputDecl, InputKind};
use crate::manifest::{render_strings, Decl, Module};
use crate::render::Ctx;
use crate::steps::StepKind;
use serde_json::Value;

/// Why a module could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// A config input gives a value the module cannot use.
    #[error("{key}: {reason}")]
    Input {
        /// The config key (`mail.dkim.selector`).
        key: String,
        /// Why (secrets masked by the caller).
        reason: String,
    },
    /// A declaration of the manifest cannot be rendered or typed with valid inputs.
    #[error("{file}: {at}: {reason}")]
    Manifest {
        /// The manifest (`embedded:modules/9-mail_config/module.yaml`).
        file: String,
        /// Where in it (`steps[5].action.dkim_key`).
        at: String,
        /// Why.
        reason: String,
    },
}

/// One selected module, built.
pub struct BuiltModule {
    /// Index into [`super::Prepared::selected`].
    pub index: usize,
    /// The template context it was built with (inputs and earlier outputs).
    pub ctx: Value,
    /// Its steps and checks.
    pub built: Built,
}

/// What building needs besides the module: the context and, to blame inputs, the schema.
pub struct Env<'a> {
    /// Inputs plus `outputs.<module>` of earlier modules.
    pub ctx: &'a Value,
    /// The config schema (`None`: every problem is the manifest's).
    pub schema: Option<&'a InputDecl>,
    /// The tree, to check what steps read from it (`None`: not checked).
    pub root: Option<&'a crate::host::Root>,
    /// Learns the secrets steps read from the tree (a password file), to mask them.
    pub redactor: Option<&'a crate::redact::Redactor>,
}

/// Render and type a module's steps, checks and records; all problems are returned.
pub fn build(m: &Module, env: &Env) -> Result<Built, Vec<BuildError>> {
    let mut errs = Vec::new();
    let records = typed_records(m, env, &mut errs);
    let mut steps = Vec::new();
    for d in &m.manifest.steps {
        let at = format!("{}.{}", d.at, d.kind);
        let made = attempt(m, env, (d, &at, &failing_field), &mut errs, |c| {
            StepKind::from_body(&settled(d.rendered(c))?).map_err(|e| e.to_string())
        });
        if let Some(mut s) = made.flatten() {
            if let Some(slot) = s.records_slot() {
                *slot = records.clone();
            }
            match env.root.map(|r| s.check_host_inputs(r)) {
                Some(Err(crate::steps::StepError::Input { key, reason })) => {
                    errs.push(BuildError::Input { key, reason })
                }
                Some(Err(e)) => errs.push(BuildError::Manifest {
                    file: m.manifest_path(),
                    at: at.clone(),
                    reason: e.to_string(),
                }),
                Some(Ok(secrets)) => {
                    if let Some(r) = env.redactor {
                        r.add(secrets);
                    }
                }
                None => {}
            }
            steps.push(s);
        }
    }
    let mut checks = Vec::new();
    let mut placed = Vec::new();
    for (i, d) in m.manifest.checks.iter().enumerate() {
        let at = format!("{}.{}", d.at, d.kind);
        let made = attempt(m, env, (d, &at, &|_, _| None), &mut errs, |c| {
            let kind = serde_json::from_value::<CheckKind>(settled(d.rendered(c))?)
                .map_err(|e| e.to_string())?;
            let hint = match &d.hint {
                Some(h) => Some(crate::render::render_in(h, c).map_err(|e| format!("hint: {e}"))?),
                None => None,
            };
            Ok(Declared {
                id: d.check_id(i),
                hint,
                advisory: d.advisory,
                kind,
            })
        });
        if let Some(mut c) = made.flatten() {
            // Alternatives (one per provider) may share an id; two that both apply may not.
            if let Some(other) = checks.iter().position(|o: &Declared| o.id == c.id) {
                errs.push(BuildError::Manifest {
                    file: m.manifest_path(),
                    at: format!("{}.id", d.at),
                    reason: format!(
                        "check id {:?} is already used by {} (ids of the checks that apply must differ)",
                        c.id, placed[other]
                    ),
                });
            }
            placed.push(d.at.clone());
            if let Some(slot) = c.kind.records_slot() {
                *slot = records.clone();
            }
            checks.push(c);
        }
    }
    match errs.is_empty() {
        true => Ok(Built {
            steps,
            checks,
            records,
        }),
        false => Err(errs),
    }
}

/// The templated field of step `d` whose rendered value cannot be typed: the declaration
/// as loaded types (templates pending), so the first field that fails once it alone is
/// rendered is the one (`action.publish_records.tsig_algorithm`).
fn failing_field(d: &Decl, ctx: &Value) -> Option<String> {
    fn leaves(v: &Value, ptr: String, dotted: String, out: &mut Vec<(String, String)>) {
        match v {
            Value::String(s) if crate::render::is_template(s) => out.push((ptr, dotted)),
            Value::Object(m) => m.iter().for_each(|(k, x)| {
                let d = if dotted.is_empty() {
                    k.clone()
                } else {
                    format!("{dotted}.{k}")
                };
                leaves(x, format!("{ptr}/{k}"), d, out)
            }),
            Value::Array(a) => a
                .iter()
                .enumerate()
                .for_each(|(i, x)| leaves(x, format!("{ptr}/{i}"), format!("{dotted}[{i}]"), out)),
            _ => {}
        }
    }
    let rendered = d.rendered(&Ctx::new(ctx).ok()?).ok()?;
    let mut all = Vec::new();
    leaves(&d.body, String::new(), String::new(), &mut all);
    all.into_iter().find_map(|(ptr, dotted)| {
        let mut body = d.body.clone();
        *body.pointer_mut(&ptr)? = rendered.pointer(&ptr)?.clone();
        StepKind::from_body(&body).is_err().then_some(dotted)
    })
}

/// A rendered body whose strings hold no template syntax any more (an input value
/// carrying `{{` would otherwise leave a field untyped until plan time).
fn settled(v: Result<Value, crate::render::RenderError>) -> Result<Value, String> {
    fn check(v: &Value) -> Result<(), String> {
        match v {
            Value::String(s) if crate::render::is_template(s) => Err(format!(
                "renders to {s:?}, which still holds template syntax"
            )),
            Value::Array(a) => a.iter().try_for_each(check),
            Value::Object(m) => m.values().try_for_each(check),
            _ => Ok(()),
        }
    }
    let v = v.map_err(|e| e.to_string())?;
    check(&v)?;
    Ok(v)
}

/// Names the templated field of a declaration at fault (see [`failing_field`]).
type FieldOf<'a> = &'a dyn Fn(&Decl, &Value) -> Option<String>;

/// Evaluate `d`'s condition and make it with `make`; `None` on error (recorded),
/// `Some(None)` when the condition does not hold.
/// `field` names the templated field at fault, when it can be singled out.
fn attempt<T>(
    m: &Module,
    env: &Env,
    (d, at, field): (&Decl, &str, FieldOf),
    errs: &mut Vec<BuildError>,
    make: impl Fn(&Ctx) -> Result<T, String>,
) -> Option<Option<T>> {
    let run = |ctx: &Value| -> Result<Option<T>, String> {
        let c = Ctx::new(ctx).map_err(|e| e.to_string())?;
        match d.enabled(&c).map_err(|e| e.to_string())? {
            true => make(&c).map(Some),
            false => Ok(None),
        }
    };
    match run(env.ctx) {
        Ok(v) => Some(v),
        Err(reason) => {
            let texts = (d.strings(), d.when.iter().map(|w| w.1.clone()).collect());
            let what = format!("the {} step", d.kind);
            let at = field(d, env.ctx).map_or(at.to_string(), |f| format!("{}.{f}", d.at));
            errs.extend(blame(m, env, (&at, &what), texts, &reason, |c| {
                run(c).is_ok()
            }));
            None
        }
    }
}

/// The module's records whose `when` holds, typed.
fn typed_records(m: &Module, env: &Env, errs: &mut Vec<BuildError>) -> Vec<Typed> {
    let mut out = Vec::new();
    for (i, r) in m.manifest.records.iter().enumerate() {
        let one = |ctx: &Value| -> Result<Option<Typed>, (Option<&'static str>, String)> {
            let c = Ctx::new(ctx).map_err(|e| (None, e.to_string()))?;
            let v = render_strings(&r.deferred(), &c).map_err(|e| (None, e.to_string()))?;
            let rendered: crate::dns::Rendered =
                serde_json::from_value(v).map_err(|e| (None, e.to_string()))?;
            rendered.typed().map_err(|e| (Some(e.field), e.to_string()))
        };
        match one(env.ctx) {
            Ok(t) => out.extend(t),
            Err((field, reason)) => {
                let at = format!("records[{i}] ({} {})", r.rtype.as_str(), r.name);
                let texts = record_texts(r, field);
                let what = format!("a {} record", r.rtype.as_str());
                errs.extend(blame(m, env, (&at, &what), texts, &reason, |c| {
                    one(c).is_ok()
                }));
            }
        }
    }
    out
}

/// The templates a record's field is rendered from (all of them when unknown).
fn record_texts(r: &RecordDecl, field: Option<&str>) -> (Vec<String>, Vec<String>) {
    let mut texts = Vec::new();
    let fields = [
        ("name", Some(&r.name)),
        ("value", r.value.as_ref()),
        ("tlsa_cert", r.tlsa_cert.as_ref()),
        ("dkim_key", r.dkim_key.as_ref()),
    ];
    for (f, t) in fields {
        if field.is_none_or(|want| want == f) {
            texts.extend(t.cloned());
        }
    }
    (texts, r.when.iter().cloned().collect())
}

/// Free-form inputs (their checks cannot know what a template makes of them) used by
/// `texts` whose replacement by a plain value makes `works` hold: they are to blame.
/// When none can be singled out, the manifest is.
fn blame(
    m: &Module,
    env: &Env,
    (at, what): (&str, &str),
    (texts, conds): (Vec<String>, Vec<String>),
    reason: &str,
    works: impl Fn(&Value) -> bool,
) -> Vec<BuildError> {
    let manifest = || {
        vec![BuildError::Manifest {
            file: m.manifest_path(),
            at: at.to_string(),
            reason: reason.to_string(),
        }]
    };
    let Some(schema) = env.schema else {
        return manifest();
    };
    let mut culprits = Vec::new();
    for path in crate::paths::used(&texts, &conds) {
        let Some(plain) = crate::paths::input_at(schema, &path).and_then(placeholder) else {
            continue;
        };
        let Some(value) = crate::paths::value_at(env.ctx, &path) else {
            continue;
        };
        let mut alt = env.ctx.clone();
        if crate::paths::set_at(&mut alt, &path, Value::String(plain.into())) && works(&alt) {
            culprits.push(BuildError::Input {
                reason: format!("{value} cannot be used in {what}: {reason}"),
                key: path,
            });
        }
    }
    match culprits.is_empty() {
        true => manifest(),
        false => culprits,
    }
}

/// A harmless value of a free-form input's kind; `None` for kinds the input checks
/// already hold to a shape (a domain, a port, an enum...).
fn placeholder(d: &InputDecl) -> Option<&'static str> {
    match d.kind {
        InputKind::String | InputKind::Secret => Some("x"),
        InputKind::Path => Some("/x"),
        InputKind::Url => Some("https://x.invalid/"),
        _ => None,
    }
}
