//! Tera rendering with errors that always name the template and carry Tera's whole cause chain.

use serde_json::Value;
use std::error::Error as _;
use tera::{Context, Tera};

/// A template that failed to parse or render.
#[derive(Debug, Clone, thiserror::Error)]
#[error("template {template}: {message}")]
pub struct RenderError {
    /// Template name (`8-dns_config/hosts.tera`) or the expression being evaluated.
    pub template: String,
    /// Tera's message with all its causes.
    pub message: String,
}

fn chain(e: &tera::Error) -> String {
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    msg
}

fn context(ctx: &Value, name: &str) -> Result<Context, RenderError> {
    Context::from_value(ctx.clone()).map_err(|e| RenderError {
        template: name.to_string(),
        message: chain(&e),
    })
}

/// A set of named templates (one module's `templates/` directory).
#[derive(Debug, Clone)]
pub struct Templates {
    tera: Tera,
}

impl Templates {
    /// Parse all templates; the first broken one is reported by name.
    pub fn new(templates: &[(String, String)]) -> Result<Self, RenderError> {
        let mut tera = Tera::default();
        tera.autoescape_on(vec![]);
        for (name, text) in templates {
            tera.add_raw_template(name, text).map_err(|e| RenderError {
                template: name.clone(),
                message: chain(&e),
            })?;
        }
        Ok(Templates { tera })
    }

    /// Whether a template of that name exists.
    pub fn has(&self, name: &str) -> bool {
        self.tera.get_template_names().any(|n| n == name)
    }

    /// Render one template with `ctx` (a JSON object).
    pub fn render(&self, name: &str, ctx: &Value) -> Result<String, RenderError> {
        self.tera
            .render(name, &context(ctx, name)?)
            .map_err(|e| RenderError {
                template: name.to_string(),
                message: chain(&e),
            })
    }
}

/// A long inline template shortened for messages.
fn abbreviated(text: &str) -> String {
    let one_line = text.replace('\n', " ");
    match one_line.char_indices().nth(60) {
        Some((i, _)) => format!("`{}...`", &one_line[..i]),
        None => format!("`{one_line}`"),
    }
}

/// Render a one-off template string (manifest values such as paths and defaults).
pub fn render_str(text: &str, ctx: &Value) -> Result<String, RenderError> {
    if !text.contains("{{") && !text.contains("{%") {
        return Ok(text.to_string());
    }
    Tera::one_off(text, &context(ctx, &abbreviated(text))?, false).map_err(|e| RenderError {
        template: abbreviated(text),
        message: chain(&e),
    })
}

/// Evaluate a Tera expression (`mail.mode == "full"`) as a condition.
pub fn eval_bool(expr: &str, ctx: &Value) -> Result<bool, RenderError> {
    let out = render_str(&format!("{{% if {expr} %}}yes{{% endif %}}"), ctx).map_err(|e| {
        RenderError {
            template: format!("condition `{expr}`"),
            message: e.message,
        }
    })?;
    Ok(out == "yes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
