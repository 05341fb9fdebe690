//! Folders import downward only: walk every `crate::...` path in `src/` (in `use` lines,
//! brace groups and code) and fail on a cycle between top-level folders or files of
//! `src/` (`steps/` and `actions/` importing each other, `dns/` and `engine/`...).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top-level unit of a file under src/: its first folder, or its own stem.
fn unit(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap_or(file);
    let first = rel
        .components()
        .next()
        .map(|c| c.as_os_str().to_string_lossy().to_string());
    first
        .unwrap_or_default()
        .trim_end_matches(".rs")
        .to_string()
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The code of a file without comments (line comments and doc comments).
fn code(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            // A `//` inside a string literal ("https://...") is kept: count quotes.
            Some(i) if l[..i].matches('"').count() % 2 == 0 => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn ident(s: &str) -> String {
    s.trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// Every top-level name a file reaches through `crate::`.
fn targets(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // `crate::{a::b, c}`: the first name of each item at depth 0.
            let mut depth = 0;
            let mut item_start = true;
            for (j, ch) in group.char_indices() {
                match ch {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        item_start = true;
                        continue;
                    }
                    _ => {}
                }
                if item_start && !ch.is_whitespace() {
                    out.insert(ident(&group[j..]));
                    item_start = false;
                }
            }
        } else {
            out.insert(ident(rest));
        }
    }
    out
}

/// Strongly connected components of more than one node (Tarjan).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct T<'a> {
        g: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a str) {
        let n = t.index.len();
        t.index.insert(v, n);
        t.low.insert(v, n);
        t.stack.push(v);
        t.on.insert(v);
        if let Some(next) = t.g.get(v) {
            for w in next {
                let w = w.as_str();
                if !t.index.contains_key(w) {
                    visit(t, w);
                    let lw = t.low[w];
                    let lv = t.low[v];
                    t.low.insert(v, lv.min(lw));
                } else if t.on.contains(w) {
                    let iw = t.index[w];
                    let lv = t.low[v];
                    t.low.insert(v, lv.min(iw));
                }
            }
        }
        if t.low[v] == t.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(w);
                comp.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                t.out.push(comp);
            }
        }
    }
    let mut t = T {
        g: graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !t.index.contains_key(v.as_str()) {
            visit(&mut t, v);
        }
    }
    t.out
}

#[test]
fn no_import_cycle_between_top_level_folders_or_files_of_src() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    let units: BTreeSet<String> = all.iter().map(|f| unit(&src, f)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut why: BTreeMap<(String, String), String> = BTreeMap::new();
    for f in &all {
        let from = unit(&src, f);
        if from == "lib" || from == "main" {
            continue;
        }
        let text = std::fs::read_to_string(f).unwrap();
        for to in targets(&code(&text)) {
            if to != from && units.contains(&to) {
                graph.entry(from.clone()).or_default().insert(to.clone());
                why.entry((from.clone(), to))
                    .or_insert_with(|| f.strip_prefix(&src).unwrap().display().to_string());
            }
        }
    }
    let found = cycles(&graph);
    let mut report = Vec::new();
    for comp in &found {
        let edges: Vec<String> = why
            .iter()
            .filter(|((a, b), _)| comp.contains(a) && comp.contains(b))
            .map(|((a, b), f)| format!("{a} -> {b} (src/{f})"))
            .collect();
        report.push(format!(
            "cycle {{{}}}:\n  {}",
            comp.join(", "),
            edges.join("\n  ")
        ));
    }
    assert!(found.is_empty(), "{}", report.join("\n"));
}

#[test]
fn the_walk_sees_use_groups_and_paths_in_code() {
    let c = code("use crate::{a::X, b};\nfn f() { crate::c::g(); } // crate::d\nlet u = \"https://x\"; crate::e::h();");
    let t = targets(&c);
    assert_eq!(
        t.into_iter().collect::<Vec<_>>(),
        ["a", "b", "c", "e"].map(String::from)
    );
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    g.entry("x".into()).or_default().insert("y".into());
    g.entry("y".into()).or_default().insert("z".into());
    assert!(cycles(&g).is_empty());
    g.entry("z".into()).or_default().insert("x".into());
    assert_eq!(cycles(&g), [["x", "y", "z"].map(String::from).to_vec()]);
}
