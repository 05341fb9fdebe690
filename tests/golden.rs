//! Golden trees: a config in, the exact files out. `tests/golden/<name>/config.yaml` is
//! applied with profile `<name>` to a small /etc; every file firstboot writes must equal
//! `tests/golden/<name>/expected/<path>` (generated keys and certificates excepted: they
//! are random, and tests/ssl.rs checks them). Set FIRSTBOOT_BLESS=1 to rewrite the
//! expected files after an intended change, then review the diff.

mod common;
use common::*;
use std::path::Path;

/// Files that differ on every run (fresh keys, certificates, hashes of them).
fn random(path: &str) -> bool {
    path.starts_with("/etc/firstboot/ssl/") || path.starts_with("/var/log/firstboot/dns/")
}

fn golden(name: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    let config = std::fs::read_to_string(dir.join("config.yaml")).unwrap();
    let t = Tree::new(&config);
    let before = t.snapshot(true);
    ok(&t.fb(&["run", "--profile", name]));
    let after = t.snapshot(true);
    let written: Vec<(&String, &FileState)> = after
        .iter()
        .filter(|(p, f)| before.get(*p) != Some(*f) && !f.data.is_empty() && !random(p))
        .collect();
    let expected = dir.join("expected");
    if std::env::var_os("FIRSTBOOT_BLESS").is_some() {
        let _ = std::fs::remove_dir_all(&expected);
        for (p, f) in &written {
            let out = expected.join(p.trim_start_matches('/'));
            std::fs::create_dir_all(out.parent().unwrap()).unwrap();
            std::fs::write(out, &f.data).unwrap();
        }
        return;
    }
    let mut want = Vec::new();
    collect(&expected, &expected, &mut want);
    let got: Vec<String> = written.iter().map(|(p, _)| p.to_string()).collect();
    assert_eq!(
        got, want,
        "the set of files written (FIRSTBOOT_BLESS=1 rewrites the expectation)"
    );
    for (p, f) in written {
        let exp = std::fs::read_to_string(expected.join(p.trim_start_matches('/'))).unwrap();
        assert_eq!(String::from_utf8_lossy(&f.data), exp, "{p}");
    }
}

fn collect(base: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(base, &p, out);
        } else {
            out.push(format!("/{}", p.strip_prefix(base).unwrap().display()));
        }
    }
    out.sort();
}

#[test]
fn advanced_profile_writes_exactly_the_golden_files() {
    golden("advanced");
}
