//! A module's own templates (`templates/` of one module), parsed on first use, under
//! their names within the module so `{% include %}`, `{% extends %}` and `{% import %}`
//! between them resolve.

use super::{chain, context, is_template, RenderError};
use serde_json::Value;
use tera::Tera;

/// A set of named templates (one module's `templates/` directory).
#[derive(Debug, Clone)]
pub struct Templates {
    raw: std::collections::BTreeMap<String, String>,
    tera: std::cell::RefCell<Tera>,
}

impl Templates {
    /// The templates' source texts.
    pub fn texts(&self) -> impl Iterator<Item = &str> {
        self.raw.values().map(String::as_str)
    }

    /// Keep templates to be parsed on first use (the embedded modules: the test suite
    /// parses every one of them, so a run pays only for what it renders).
    pub fn lazy(templates: &[(String, String)]) -> Self {
        let mut tera = Tera::default();
        tera.autoescape_on(vec![]);
        Templates {
            raw: templates.iter().cloned().collect(),
            tera: std::cell::RefCell::new(tera),
        }
    }

    /// Parse all templates now; the first broken one is reported by name.
    pub fn new(templates: &[(String, String)]) -> Result<Self, RenderError> {
        let t = Self::lazy(templates);
        t.check()?;
        Ok(t)
    }

    /// Parse every template not parsed yet (reports the first broken one by name).
    pub fn check(&self) -> Result<(), RenderError> {
        self.raw.keys().try_for_each(|n| self.parse(n))
    }

    fn parse(&self, name: &str) -> Result<(), RenderError> {
        let text = self.raw.get(name).ok_or_else(|| RenderError {
            template: name.to_string(),
            message: "no such template".into(),
        })?;
        if !is_template(text) {
            return Ok(());
        }
        self.ensure(name, &mut Vec::new())
    }

    /// Add `name` to Tera under its name within the module (`main.cf.tera`, so that
    /// `{% include %}`, `{% extends %}` and `{% import %}` between a module's own templates
    /// use the names they have in its `templates/`), the templates it refers to first.
    fn ensure(&self, name: &str, seen: &mut Vec<String>) -> Result<(), RenderError> {
        let rel = within(name);
        if seen.iter().any(|s| s == name) || self.tera.borrow().get_template(rel).is_ok() {
            return Ok(());
        }
        seen.push(name.to_string());
        let err = |message: String| RenderError {
            template: name.to_string(),
            message,
        };
        let text = self
            .raw
            .get(name)
            .ok_or_else(|| err("no such template".into()))?;
        if text.contains("include") || text.contains("extends") || text.contains("import") {
            let module = name.split_once('/').map_or("", |(m, _)| m);
            for dep in crate::tvars::of_template(rel, text).map_err(err)?.templates {
                let full = format!("{module}/{dep}");
                if !self.raw.contains_key(&full) {
                    return Err(err(format!("no template `{dep}` (in {module}/templates/)")));
                }
                self.ensure(&full, seen)?;
            }
        }
        self.tera
            .borrow_mut()
            .add_raw_template(rel, text)
            .map_err(|e| err(chain(&e)))
    }

    /// Every template's name within the module and text.
    pub fn sources(&self) -> impl Iterator<Item = (&str, &str)> {
        self.raw.iter().map(|(n, t)| (within(n), t.as_str()))
    }

    /// Whether a template of that name exists.
    pub fn has(&self, name: &str) -> bool {
        self.raw.contains_key(name)
    }

    /// Render one template with `ctx` (a JSON object); text without Tera syntax is
    /// returned as it is.
    pub fn render(&self, name: &str, ctx: &Value) -> Result<String, RenderError> {
        self.parse(name)?;
        match self.raw.get(name) {
            Some(text) if !is_template(text) => return Ok(text.clone()),
            _ => {}
        }
        self.tera
            .borrow()
            .render(within(name), &context(ctx, name)?)
            .map_err(|e| RenderError {
                template: name.to_string(),
                message: chain(&e),
            })
    }
}

/// A template's name within its module: `9-mail_config/main.cf.tera` → `main.cf.tera`.
fn within(name: &str) -> &str {
    name.split_once('/').map_or(name, |(_, rel)| rel)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_module_template_includes_and_extends_its_siblings() {
        let t = Templates::lazy(&[
            ("m/base.tera".into(), "[{% block b %}base{% endblock b %}]".into()),
            ("m/part.tera".into(), "part {{ x }}".into()),
            (
                "m/child.tera".into(),
                "{% extends \"base.tera\" %}{% block b %}{% include \"part.tera\" %}{% endblock b %}".into(),
            ),
            ("m/broken.tera".into(), "{% include \"gone.tera\" %}".into()),
        ]);
        let ctx = json!({"x": 1});
        assert_eq!(t.render("m/child.tera", &ctx).unwrap(), "[part 1]");
        let e = t.render("m/broken.tera", &ctx).unwrap_err();
        assert!(e.message.contains("no template `gone.tera`"), "{e}");
    }
}
