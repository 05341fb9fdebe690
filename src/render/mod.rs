//! Tera rendering with errors that always name the template and carry Tera's whole cause chain.

use serde_json::Value;
use std::error::Error as _;
use tera::{Context, Tera};

mod templates;
pub use templates::Templates;

/// A template that failed to parse or render.
#[derive(Debug, Clone, thiserror::Error)]
#[error("template {template}: {message}")]
pub struct RenderError {
    /// Template name (`8-dns_config/hosts.tera`) or the expression being evaluated.
    pub template: String,
    /// Tera's message with all its causes.
    pub message: String,
}

pub(crate) fn chain(e: &tera::Error) -> String {
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    msg
}

pub(crate) fn context(ctx: &Value, name: &str) -> Result<Context, RenderError> {
    Context::from_value(ctx.clone()).map_err(|e| RenderError {
        template: name.to_string(),
        message: chain(&e),
    })
}

/// A long inline template shortened for messages.
fn abbreviated(text: &str) -> String {
    let one_line = text.replace('\n', " ");
    match one_line.char_indices().nth(60) {
        Some((i, _)) => format!("`{}...`", &one_line[..i]),
        None => format!("`{one_line}`"),
    }
}

/// Inline templates (manifest values, defaults, conditions) parsed once per process:
/// the same strings are rendered for plan, apply, checks and the records summary, and a
/// fresh `Tera` per string cost most of a no-op run.
struct InlineCache {
    tera: Tera,
    names: std::collections::HashMap<String, String>,
}

thread_local! {
    static INLINE: std::cell::RefCell<Option<InlineCache>> = const { std::cell::RefCell::new(None) };
}

/// A template context converted once, for rendering many strings with the same inputs.
pub struct Ctx(Context);

impl Ctx {
    /// Convert `ctx` (a JSON object).
    pub fn new(ctx: &Value) -> Result<Ctx, RenderError> {
        context(ctx, "(context)").map(Ctx)
    }
}

pub use crate::tvars::is_template;

/// Render a one-off template string (manifest values such as paths and defaults).
pub fn render_str(text: &str, ctx: &Value) -> Result<String, RenderError> {
    if !is_template(text) {
        return Ok(text.to_string());
    }
    render_in(text, &Ctx::new(ctx)?)
}

/// Plain interpolation (`/etc/{{ hostname }}.crt`) without Tera: most manifest strings are
/// only that, and parsing each with Tera's grammar was most of a no-op run's time. `None`
/// when the text needs Tera (tags, filters, a missing or non-scalar value: Tera then
/// renders it, or reports the error, as usual).
fn interpolate(text: &str, ctx: &Ctx) -> Option<String> {
    if text.contains("{%") || text.contains("{#") {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}")?;
        match lookup(after[..end].trim(), ctx)? {
            Value::String(s) => out.push_str(s),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) if n.is_i64() || n.is_u64() => out.push_str(&n.to_string()),
            _ => return None,
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Some(out)
}

/// A dotted path's value in the context, when every part is a plain identifier.
fn lookup<'a>(path: &str, ctx: &'a Ctx) -> Option<&'a Value> {
    let ident = |p: &str| {
        p.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    if !path.split('.').all(ident) {
        return None;
    }
    let mut parts = path.split('.');
    let mut v = ctx.0.get(parts.next()?)?;
    for part in parts {
        v = v.get(part)?;
    }
    Some(v)
}

/// Conditions of the simple shapes manifests use (`path`, `not path`, `path == "x"`,
/// `path != "x"`), decided without Tera; `None` for anything else (Tera decides).
fn fast_bool(expr: &str, ctx: &Ctx) -> Option<bool> {
    let e = expr.trim();
    if !e.contains(['"', '\'', '(']) {
        if let Some((l, r)) = e.split_once(" or ") {
            return Some(fast_bool(l, ctx)? || fast_bool(r, ctx)?);
        }
        if let Some((l, r)) = e.split_once(" and ") {
            return Some(fast_bool(l, ctx)? && fast_bool(r, ctx)?);
        }
    }
    if let Some(rest) = e.strip_prefix("not ") {
        return fast_bool(rest, ctx).map(|b| !b);
    }
    if let Some(path) = e.strip_suffix(" is not defined") {
        return Some(lookup(path.trim(), ctx).is_none());
    }
    if let Some(path) = e.strip_suffix(" is defined") {
        return Some(lookup(path.trim(), ctx).is_some());
    }
    for (op, eq) in [(" == ", true), (" != ", false)] {
        if let Some((l, r)) = e.split_once(op) {
            let r = r.trim();
            let quoted = r
                .strip_prefix('"')
                .and_then(|x| x.strip_suffix('"'))
                .or_else(|| r.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')));
            let rhs = match quoted {
                Some(lit) if !lit.contains(['"', '\'', '\\']) => lit,
                Some(_) => return None,
                None => lookup(r, ctx)?.as_str()?,
            };
            let v = lookup(l.trim(), ctx)?.as_str()?;
            return Some((v == rhs) == eq);
        }
    }
    if e.contains(' ') {
        return None;
    }
    Some(match lookup(e, ctx)? {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        Value::Number(_) => return None,
    })
}

/// `{% if COND %}BODY{% endif %}` with a simple condition and a plain body.
fn guarded(text: &str, ctx: &Ctx) -> Option<String> {
    let rest = text.strip_prefix("{% if ")?;
    let (cond, rest) = rest.split_once(" %}")?;
    let body = rest.strip_suffix("{% endif %}")?;
    if body.contains("{%") || cond.contains("%}") {
        return None;
    }
    match fast_bool(cond, ctx)? {
        false => Some(String::new()),
        true => interpolate(body, ctx),
    }
}

/// Render a one-off template string with an already converted context.
pub fn render_in(text: &str, ctx: &Ctx) -> Result<String, RenderError> {
    if !is_template(text) {
        return Ok(text.to_string());
    }
    if let Some(done) = interpolate(text, ctx).or_else(|| guarded(text, ctx)) {
        return Ok(done);
    }
    let err = |e: tera::Error| RenderError {
        template: abbreviated(text),
        message: chain(&e),
    };
    let context = &ctx.0;
    INLINE.with(|cell| {
        let mut slot = cell.borrow_mut();
        let cache = slot.get_or_insert_with(|| {
            let mut tera = Tera::default();
            tera.autoescape_on(vec![]);
            InlineCache {
                tera,
                names: std::collections::HashMap::new(),
            }
        });
        let name = match cache.names.get(text) {
            Some(n) => n.clone(),
            None => {
                let n = format!("__inline_{}", cache.names.len());
                if std::env::var_os("FB_TRACE_TERA").is_some() {
                    eprintln!("TERA {}", text.len());
                    eprintln!("{text}");
                }
                cache.tera.add_raw_template(&n, text).map_err(err)?;
                cache.names.insert(text.to_string(), n.clone());
                n
            }
        };
        cache.tera.render(&name, context).map_err(err)
    })
}

/// Evaluate a Tera expression (`mail.mode == "full"`) as a condition.
pub fn eval_bool(expr: &str, ctx: &Value) -> Result<bool, RenderError> {
    eval_bool_in(expr, &Ctx::new(ctx)?)
}

/// [`eval_bool`] with an already converted context.
pub fn eval_bool_in(expr: &str, ctx: &Ctx) -> Result<bool, RenderError> {
    if let Some(b) = fast_bool(expr, ctx) {
        return Ok(b);
    }
    let out =
        render_in(&format!("{{% if {expr} %}}yes{{% endif %}}"), ctx).map_err(|e| RenderError {
            template: format!("condition `{expr}`"),
            message: e.message,
        })?;
    Ok(out == "yes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plain_interpolation_matches_tera() {
        let ctx = json!({"a": "x", "m": {"n": 587, "b": true, "z": null, "l": [1]}});
        for t in [
            "/etc/{{ a }}/{{m.n}}.conf",
            "{{ m.b }}",
            "{{ m.z }}",
            "{{ m.l }}",
            "{{ a | upper }}",
            "{% if m.b %}{{ a }}{% endif %}",
        ] {
            let tera = Tera::one_off(t, &Context::from_value(ctx.clone()).unwrap(), false);
            assert_eq!(render_str(t, &ctx).ok(), tera.ok(), "{t}");
        }
        assert!(render_str("{{ missing.key }}", &ctx).is_err());
    }

    #[test]
    fn fast_conditions_match_tera() {
        let ctx = json!({
            "s": "acme", "e": "", "t": true, "f": false, "z": null, "n": 0,
            "l": [], "ll": [1], "o": {}, "oo": {"k": "v"},
        });
        let exprs = [
            "s",
            "e",
            "t",
            "f",
            "z",
            "l",
            "ll",
            "o",
            "oo",
            "oo.k",
            "not s",
            "not z",
            "s == \"acme\"",
            "s != \"acme\"",
            "s == 'x'",
            "oo.k == \"v\"",
            "e == \"\"",
            "n",
            "s == oo.k",
            "oo.k != s",
            "s and t",
            "s and f",
            "f or t",
            "z or e",
            "oo is defined",
            "nope is defined",
            "nope is not defined",
            "t and oo is defined",
            "not f and t",
            "not t and f",
            "not s == \"acme\"",
            "f or not f and t",
            "s == \"acme\" and t",
        ];
        let tera_ctx = Context::from_value(ctx.clone()).unwrap();
        for e in exprs {
            let t = format!("{{% if {e} %}}yes{{% endif %}}");
            let want = Tera::one_off(&t, &tera_ctx, false).map(|o| o == "yes").ok();
            assert_eq!(eval_bool(e, &ctx).ok(), want, "{e}");
            let body = format!("{{% if {e} %}}<{{{{ s }}}}>{{% endif %}}");
            let want = Tera::one_off(&body, &tera_ctx, false).ok();
            assert_eq!(render_str(&body, &ctx).ok(), want, "{body}");
        }
    }

    #[test]
    fn conditions_and_errors_name_the_template() {
        let ctx = json!({"mail": {"mode": "full"}});
        assert!(eval_bool("mail.mode == \"full\"", &ctx).unwrap());
        assert!(!eval_bool("mail.mode == \"relay\"", &ctx).unwrap());
        let t = Templates::new(&[("m/x.tera".into(), "{{ nope.x }}".into())]).unwrap();
        let e = t.render("m/x.tera", &ctx).unwrap_err();
        assert_eq!(e.template, "m/x.tera");
        assert!(e.message.contains("nope"), "{}", e.message);
    }
}
