//! Build script: rebuild when embedded modules or profiles change (include_dir does not
//! track new files), and turn the embedded YAML manifests and profiles into JSON once,
//! here, so a run reads them with serde_json instead of parsing YAML at every start.
//! The YAML is parsed by the same `src/yaml.rs` the binary uses.

#[path = "src/yaml.rs"]
#[allow(dead_code)]
mod yaml;

use std::fmt::Write as _;
use std::path::Path;

fn collect(dir: &Path, base: &Path, out: &mut Vec<(String, String)>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect(&p, base, out);
        } else if p.extension().is_some_and(|e| e == "yaml") {
            let rel = p
                .strip_prefix(base)
                .unwrap_or(&p)
                .to_string_lossy()
                .into_owned();
            let text = std::fs::read_to_string(&p).unwrap_or_default();
            // A manifest that does not parse is left out: the binary then parses its YAML
            // and reports the error with its line, as for any module.
            if let Ok(v) = yaml::parse::<serde_json::Value>(&text) {
                out.push((rel, serde_json::to_string(&v).unwrap_or_default()));
            }
        }
    }
}

fn main() {
    println!("cargo:rerun-if-changed=modules");
    println!("cargo:rerun-if-changed=profiles");
    println!("cargo:rerun-if-changed=src/yaml.rs");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    collect(&root.join("modules"), root, &mut files);
    collect(&root.join("profiles"), root, &mut files);
    let mut code = String::from("/// Embedded YAML files as JSON, by path relative to the crate.\npub static JSON: &[(&str, &str)] = &[\n");
    for (path, json) in files {
        let _ = writeln!(code, "    ({path:?}, {json:?}),");
    }
    code.push_str("];\n");
    let out = std::env::var("OUT_DIR").unwrap_or_default();
    if let Err(e) = std::fs::write(Path::new(&out).join("embedded_json.rs"), code) {
        panic!("cannot write embedded_json.rs: {e}");
    }
}
