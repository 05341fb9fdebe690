//! The digest of what a module reads: the values of the context's top-level entries
//! (globals, input sections, `outputs`) that the module's manifest or templates mention.
//! It is kept in the state when the module completes; when it differs at the next run
//! (the user changed `hostname` or `dns.dmarc.policy`), the module is no longer "done"
//! and runs again. Mentions are found in the text, so an entry named only in a comment
//! counts too: the digest may change when nothing the module uses did (a harmless
//! re-run), never the other way round.

use crate::digest::sha256_hex;
use crate::manifest::Module;
use serde_json::Value;
use std::collections::BTreeMap;

/// Every text of `m` that is rendered: declarations, conditions, outputs, records,
/// templates.
fn texts(m: &Module) -> Vec<String> {
    let mut out = Vec::new();
    for d in m.manifest.steps.iter().chain(&m.manifest.checks) {
        out.extend(d.strings());
        out.extend(d.when.iter().map(|w| w.1.clone()));
    }
    out.extend(m.manifest.outputs.values().cloned());
    for r in &m.manifest.records {
        out.push(r.deferred().to_string());
    }
    out.extend(m.templates.texts().map(str::to_string));
    out
}

/// Whether `word` occurs in `text` with no identifier character on either side.
fn mentions(text: &str, word: &str) -> bool {
    let ident = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    text.match_indices(word).any(|(i, _)| {
        !ident(text[..i].chars().next_back()) && !ident(text[i + word.len()..].chars().next())
    })
}

/// The digest of the entries of `ctx` that `m` mentions.
pub fn inputs_digest(m: &Module, ctx: &Value) -> String {
    let texts = texts(m);
    let used: BTreeMap<&String, &Value> = ctx
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| texts.iter().any(|t| mentions(t, k)))
        .collect();
    sha256_hex(&serde_json::to_vec(&used).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_whole_names_only() {
        assert!(mentions("{{ dns.mailname }}", "dns"));
        assert!(mentions("hostname", "hostname"));
        assert!(!mentions("{{ outputs.dns_zone }}", "dns"));
        assert!(!mentions("_domainkey", "domain"));
        assert!(!mentions("mydomain", "domain"));
        assert!(mentions("x domain", "domain"));
    }

    #[test]
    fn the_digest_follows_what_the_module_reads() {
        let cat = crate::catalog::Catalog::load(&[]).unwrap();
        let dns = cat.module("dns").unwrap();
        let base = serde_json::json!({"hostname": "a.example.test", "dns": {"x": 1}, "monitoring": {"y": 1}});
        let d0 = inputs_digest(dns, &base);
        let mut other = base.clone();
        other["monitoring"]["y"] = 2.into();
        assert_eq!(
            d0,
            inputs_digest(dns, &other),
            "monitoring is not dns's input"
        );
        let mut renamed = base.clone();
        renamed["hostname"] = "b.example.test".into();
        assert_ne!(d0, inputs_digest(dns, &renamed));
        let mut policy = base;
        policy["dns"]["x"] = 2.into();
        assert_ne!(d0, inputs_digest(dns, &policy));
    }
}
