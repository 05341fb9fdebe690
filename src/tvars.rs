//! What a template reads: the variable paths (`mail.dkim.selector`) and the other
//! templates (`{% include %}`, `{% extends %}`, `{% import %}`) of a Tera template, from
//! its parsed syntax tree. Names bound inside the template (loop variables, `set`,
//! macro arguments) are not variables of the context and are left out.

use std::collections::BTreeSet;
use tera::ast::{Expr, ExprVal, FunctionCall, Node};

/// Everything a template refers to outside itself.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Refs {
    /// Dotted context paths, without list indices (`mail.users`, `outputs.dns.zone`).
    pub vars: BTreeSet<String>,
    /// Other templates, by the name used in the tag.
    pub templates: BTreeSet<String>,
}

/// Names Tera itself provides inside a template.
const BUILTIN: [&str; 3] = ["loop", "__tera_context", "super"];

/// The references of a whole template text.
pub fn of_template(name: &str, text: &str) -> Result<Refs, String> {
    let t = tera::Template::new(name, None, text).map_err(|e| chain(&e))?;
    let mut r = Refs::default();
    if let Some(p) = &t.parent {
        r.templates.insert(p.clone());
    }
    for (file, _) in &t.imported_macro_files {
        r.templates.insert(file.clone());
    }
    walk(&t.ast, &mut Vec::new(), &mut r);
    Ok(r)
}

/// Whether `text` holds Tera syntax (otherwise it renders to itself).
pub fn is_template(text: &str) -> bool {
    text.contains("{{") || text.contains("{%") || text.contains("{#")
}

/// The references of an inline template (a manifest string).
pub fn of_inline(text: &str) -> Result<Refs, String> {
    if !is_template(text) {
        return Ok(Refs::default());
    }
    of_template("(inline)", text)
}

/// The references of a condition (`mail.mode == "full"`).
pub fn of_condition(expr: &str) -> Result<Refs, String> {
    of_template("(condition)", &format!("{{% if {expr} %}}{{% endif %}}"))
}

fn chain(e: &tera::Error) -> String {
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    msg
}

/// The context path an identifier reads: `a.b[0].c` → `a.b`, `a["k"]` → `a`.
fn path_of(ident: &str) -> &str {
    ident.split('[').next().unwrap_or(ident)
}

fn var(ident: &str, bound: &[String], r: &mut Refs) {
    let path = path_of(ident);
    let head = path.split('.').next().unwrap_or(path);
    if head.is_empty() || BUILTIN.contains(&head) || bound.iter().any(|b| b == head) {
        return;
    }
    r.vars.insert(path.to_string());
}

fn call(f: &FunctionCall, bound: &[String], r: &mut Refs) {
    f.args.values().for_each(|e| expr(e, bound, r));
}

fn expr(e: &Expr, bound: &[String], r: &mut Refs) {
    match &e.val {
        ExprVal::Ident(i) => var(i, bound, r),
        ExprVal::Math(m) => {
            expr(&m.lhs, bound, r);
            expr(&m.rhs, bound, r);
        }
        ExprVal::Logic(l) => {
            expr(&l.lhs, bound, r);
            expr(&l.rhs, bound, r);
        }
        ExprVal::Test(t) => {
            var(&t.ident, bound, r);
            t.args.iter().for_each(|a| expr(a, bound, r));
        }
        ExprVal::MacroCall(m) => m.args.values().for_each(|a| expr(a, bound, r)),
        ExprVal::FunctionCall(f) => call(f, bound, r),
        ExprVal::Array(a) => a.iter().for_each(|x| expr(x, bound, r)),
        ExprVal::StringConcat(s) => s.values.iter().for_each(|v| {
            if let ExprVal::Ident(i) = v {
                var(i, bound, r)
            }
        }),
        ExprVal::In(i) => {
            expr(&i.lhs, bound, r);
            expr(&i.rhs, bound, r);
        }
        ExprVal::String(_) | ExprVal::Int(_) | ExprVal::Float(_) | ExprVal::Bool(_) => {}
    }
    e.filters.iter().for_each(|f| call(f, bound, r));
}

/// Walk nodes; `bound` grows with names a node binds for the rest of its scope.
fn walk(nodes: &[Node], bound: &mut Vec<String>, r: &mut Refs) {
    let depth = bound.len();
    for n in nodes {
        match n {
            Node::VariableBlock(_, e) => expr(e, bound, r),
            Node::MacroDefinition(_, m, _) => {
                let mut inner: Vec<String> = bound.clone();
                inner.extend(m.args.keys().cloned());
                m.args.values().flatten().for_each(|d| expr(d, bound, r));
                walk(&m.body, &mut inner, r);
            }
            Node::Extends(_, name) => {
                r.templates.insert(name.clone());
            }
            Node::Include(_, names, _) => r.templates.extend(names.iter().cloned()),
            Node::ImportMacro(_, file, _) => {
                r.templates.insert(file.clone());
            }
            Node::Set(_, s) => {
                expr(&s.value, bound, r);
                bound.push(s.key.clone());
            }
            Node::FilterSection(_, f, _) => {
                call(&f.filter, bound, r);
                walk(&f.body, &mut bound.clone(), r);
            }
            Node::Block(_, b, _) => walk(&b.body, &mut bound.clone(), r),
            Node::Forloop(_, f, _) => {
                expr(&f.container, bound, r);
                let mut inner = bound.clone();
                inner.push(f.value.clone());
                inner.extend(f.key.clone());
                walk(&f.body, &mut inner, r);
                if let Some(empty) = &f.empty_body {
                    walk(empty, &mut bound.clone(), r);
                }
            }
            Node::If(i, _) => {
                for (_, cond, body) in &i.conditions {
                    expr(cond, bound, r);
                    walk(body, &mut bound.clone(), r);
                }
                if let Some((_, body)) = &i.otherwise {
                    walk(body, &mut bound.clone(), r);
                }
            }
            Node::Super
            | Node::Text(_)
            | Node::Raw(..)
            | Node::Break(_)
            | Node::Continue(_)
            | Node::Comment(..) => {}
        }
    }
    bound.truncate(depth);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(r: &Refs) -> Vec<&str> {
        r.vars.iter().map(String::as_str).collect()
    }

    #[test]
    fn conditions_and_inline_strings() {
        let r = of_condition("mail.mode == \"full\" and outputs.dns is defined").unwrap();
        assert_eq!(vars(&r), ["mail.mode", "outputs.dns"]);
        let r = of_inline("{{ a.b | default(value=c) }}/{{ d[0].e }}").unwrap();
        assert_eq!(vars(&r), ["a.b", "c", "d"]);
        assert!(of_inline("plain").unwrap().vars.is_empty());
        assert!(of_condition("mail.mode ==").is_err());
    }

    #[test]
    fn names_bound_in_the_template_are_not_context_paths() {
        let t = "{% set x = y.z %}{{ x.k }}{% for u in mail.users %}{{ u.name }}{{ loop.index }}{% endfor %}\
                 {% macro m(p) %}{{ p.q }}{{ w }}{% endmacro m %}{% include \"part.tera\" %}";
        let r = of_template("t", t).unwrap();
        assert_eq!(vars(&r), ["mail.users", "w", "y.z"]);
        assert_eq!(r.templates.iter().collect::<Vec<_>>(), ["part.tera"]);
        let r = of_template(
            "c",
            "{% extends \"base.tera\" %}{% block b %}{{ v }}{% endblock b %}",
        )
        .unwrap();
        assert_eq!(vars(&r), ["v"]);
        assert!(r.templates.contains("base.tera"));
    }
}
