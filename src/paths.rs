//! Dotted paths (`mail.dkim.selector`) into the config schema and into a template
//! context: which input a path names, its value, and a copy of the context with one
//! value replaced (to find which input a bad rendered value came from).

use crate::inputs::{InputDecl, InputKind};
use serde_json::Value;
use std::collections::BTreeSet;

/// The context paths the given inline templates and conditions read (one Tera cannot
/// parse reads nothing here: its error is reported where it is rendered).
pub fn used(templates: &[String], conditions: &[String]) -> BTreeSet<String> {
    let t = templates.iter().map(|t| crate::tvars::of_inline(t));
    let c = conditions.iter().map(|c| crate::tvars::of_condition(c));
    t.chain(c).flatten().flat_map(|r| r.vars).collect()
}

/// The declaration of the input at `path` in `schema` (the whole config's map);
/// `None` when the path names no input. Items of a list are not addressed.
pub fn input_at<'a>(schema: &'a InputDecl, path: &str) -> Option<&'a InputDecl> {
    let mut d = schema;
    for seg in path.split('.') {
        if d.kind != InputKind::Map {
            return None;
        }
        d = d.fields.get(seg)?;
    }
    Some(d)
}

/// The value at `path` in a context.
pub fn value_at<'a>(ctx: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(ctx, |v, seg| v.get(seg))
}

/// Replace the value at `path`; false when there is none.
pub fn set_at(ctx: &mut Value, path: &str, new: Value) -> bool {
    let slot = path.split('.').try_fold(ctx, |v, seg| v.get_mut(seg));
    match slot {
        Some(s) => {
            *s = new;
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_into_values_and_schema() {
        let mut ctx = json!({"mail": {"dkim": {"selector": "a b"}}});
        assert_eq!(value_at(&ctx, "mail.dkim.selector"), Some(&json!("a b")));
        assert_eq!(value_at(&ctx, "mail.nope"), None);
        assert!(set_at(&mut ctx, "mail.dkim.selector", json!("x")));
        assert!(!set_at(&mut ctx, "mail.x.y", json!("x")));
        assert_eq!(ctx["mail"]["dkim"]["selector"], "x");
        let used = used(
            &["{{ a.b }}.{{ c }}".into(), "plain".into()],
            &["d == 1".into()],
        );
        assert_eq!(used.into_iter().collect::<Vec<_>>(), ["a.b", "c", "d"]);
    }
}
