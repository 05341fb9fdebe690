//! `firstboot list`: modules in order, their inputs, profiles.

use crate::catalog::Catalog;
use crate::cli::Cli;
use crate::error::Result;
use crate::inputs::InputDecl;
use indexmap::IndexMap;

fn print_inputs(prefix: &str, inputs: &IndexMap<String, InputDecl>, indent: usize) {
    for (k, d) in inputs {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        let mut extra = Vec::new();
        if d.required {
            extra.push("required".to_string());
        }
        if d.secret && d.kind != crate::inputs::InputKind::Secret {
            extra.push("secret".to_string());
        }
        if let Some(def) = &d.default {
            extra.push(format!("default {def}"));
        }
        if let Some(f) = &d.fact {
            extra.push(format!("fact {f}"));
        }
        if !d.values.is_empty() {
            extra.push(d.values.join("|"));
        }
        let kind = serde_json::to_value(d.kind)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        println!(
            "{:indent$}{key} ({kind}{}{}): {}",
            "",
            if extra.is_empty() { "" } else { ", " },
            extra.join(", "),
            d.description
        );
        if !d.fields.is_empty() {
            print_inputs(&key, &d.fields, indent);
        }
        if let Some(item) = &d.items {
            print_inputs(&format!("{key}[]"), &item.fields, indent);
        }
    }
}

/// Print the catalog.
pub fn list(cli: &Cli, json: bool) -> Result<()> {
    let cat = Catalog::load(&cli.modules_dirs)?;
    if json {
        let modules: Vec<_> = cat
            .modules
            .iter()
            .map(|m| serde_json::json!({"id": m.id, "name": m.name(), "description": m.manifest.description, "inputs": m.manifest.inputs}))
            .collect();
        let profiles: serde_json::Map<String, serde_json::Value> = cat
            .profiles
            .iter()
            .map(|(n, p)| (n.clone(), serde_json::json!({"description": p.description, "modules": p.modules, "defaults": p.defaults})))
            .collect();
        super::print_json(
            &serde_json::json!({"globals": cat.globals, "modules": modules, "profiles": profiles}),
        );
        return Ok(());
    }
    println!("Global inputs (top of the config file):");
    print_inputs("", &cat.globals, 2);
    println!("\nModules, in run order:");
    for m in &cat.modules {
        println!("\n{} ({}) — {}", m.id, m.name(), m.manifest.description);
        print_inputs(m.name(), &m.manifest.inputs, 2);
    }
    println!("\nProfiles:");
    for (n, p) in &cat.profiles {
        println!(
            "  {n}: {} — modules {}",
            p.description,
            p.modules.join(", ")
        );
    }
    Ok(())
}
