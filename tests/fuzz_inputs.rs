//! Property tests over the config parser and the input checker: arbitrary YAML-ish text,
//! and configs holding arbitrary values for every input the shipped modules declare
//! (valid samples, near misses and junk of every type). Nothing may panic, and a run
//! that exits 2 must leave the root exactly as it was.
//!
//! CI runs the default case counts (a few seconds); for a longer run see docs/testing.md
//! (`PROPTEST_CASES=...`).

mod common;
use common::*;
use firstboot::inputs::{InputDecl, InputKind};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Value};

/// The whole config schema of the shipped modules.
fn schema() -> InputDecl {
    firstboot::catalog::Catalog::load(&[])
        .unwrap_or_else(|d| panic!("{d}"))
        .schema()
}

/// Valid values for an input of `kind`, then near misses.
fn samples(kind: InputKind) -> (Vec<Value>, Vec<Value>) {
    let s = |v: &[&str]| v.iter().map(|x| Value::from(*x)).collect::<Vec<_>>();
    let (good, bad) = match kind {
        InputKind::Domain | InputKind::Hostname => (
            s(&["example.test", "mail.example.test", "Example.TEST."]),
            s(&["a..test", "-a.test", "localhost", ""]),
        ),
        InputKind::Ipv4 => (s(&["192.0.2.10"]), s(&["192.0.2.300", "::1"])),
        InputKind::Ipv6 => (s(&["2001:db8::10"]), s(&["2001:db8::g", "192.0.2.1"])),
        InputKind::Network => (
            s(&["198.51.100.0/24", "2001:db8:1::/64"]),
            s(&["192.0.2.1/24", "192.0.2.0", "2001:db8::/129"]),
        ),
        InputKind::Email => (s(&["a@example.test"]), s(&["a@", "@b.test", "a b@c.test"])),
        InputKind::Port | InputKind::Integer => (
            vec![Value::from(25), Value::from(100), Value::from(2048)],
            vec![
                Value::from(0),
                Value::from(65536),
                Value::from(-1),
                Value::from(i64::MAX),
            ],
        ),
        InputKind::Bool => (vec![Value::from(true), Value::from(false)], s(&["yes"])),
        InputKind::Path => (s(&["/etc/ssl/x.pem"]), s(&["relative", "/a b"])),
        InputKind::Url => (s(&["https://x.test/dir"]), s(&["ftp://x", "https://"])),
        InputKind::Duration => (s(&["90s", "1h30m"]), s(&["1x", "99999999999999999999w"])),
        InputKind::Token => (s(&["1", "20261202"]), s(&["1; p=x", ""])),
        InputKind::LocalPart => (s(&["ann", "bob.smith"]), s(&["a:b:0:0", "A", "a..b"])),
        InputKind::Account => (s(&["ssl-cert", "mail"]), s(&["1x", "a\u{202E}b"])),
        InputKind::SpfMechanism => (
            s(&["include:_spf.example.net", "ip4:192.0.2.0/24", "mx"]),
            s(&["+all", "ptr", "", "a b"]),
        ),
        InputKind::Enum => (vec![], s(&["x", "default"])),
        InputKind::String | InputKind::Secret => (
            s(&["x", "default", "secret-token-1"]),
            s(&[" x", "line\nbreak", "a\u{2028}b"]),
        ),
        InputKind::PasswordHash => (
            s(&[
                "{SHA512-CRYPT}$6$saltsalt$0123456789abcdefghij",
                "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaGhhc2g",
            ]),
            s(&[
                "x",
                "{PLAIN}secret-password",
                "{SHA512-CRYPT}$6$a:b$0123456789abcdefghij",
            ]),
        ),
        InputKind::List | InputKind::Map => (vec![], vec![]),
    };
    (good, bad)
}

/// Any JSON value of modest size: the junk a config may hold where a type is expected.
fn junk() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "\\PC{0,20}".prop_map(Value::from),
        ".{0,8}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z_]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Values for `decl`: mostly valid, sometimes a near miss or junk; maps and lists built
/// from their declared fields and items.
fn value_for(decl: &InputDecl, depth: u32) -> BoxedStrategy<Value> {
    match decl.kind {
        InputKind::Map if depth < 4 => {
            let fields: Vec<BoxedStrategy<(String, Option<Value>)>> = decl
                .fields
                .iter()
                .map(|(k, f)| {
                    let k = k.clone();
                    let p = if f.required { 0.9 } else { 0.3 };
                    prop::option::weighted(p, value_for(f, depth + 1))
                        .prop_map(move |v| (k.clone(), v))
                        .boxed()
                })
                .collect();
            let map = fields.prop_map(|kvs| {
                Value::Object(
                    kvs.into_iter()
                        .filter_map(|(k, v)| v.map(|v| (k, v)))
                        .collect::<Map<_, _>>(),
                )
            });
            prop_oneof![8 => map, 1 => junk()].boxed()
        }
        InputKind::List if depth < 4 => {
            let item = decl
                .items
                .as_deref()
                .map_or_else(|| junk().boxed(), |i| value_for(i, depth + 1));
            prop_oneof![
                8 => prop::collection::vec(item, 0..4).prop_map(Value::from),
                1 => junk()
            ]
            .boxed()
        }
        kind => {
            let (mut good, mut bad) = samples(kind);
            good.extend(decl.values.iter().map(|v| Value::from(v.as_str())));
            if let (InputKind::Integer, Some(lo), Some(hi)) = (kind, decl.min, decl.max) {
                good = vec![
                    Value::from(lo),
                    Value::from(hi),
                    Value::from(lo / 2 + hi / 2),
                ];
                bad = vec![
                    Value::from(lo.saturating_sub(1)),
                    Value::from(hi.saturating_add(1)),
                ];
            }
            if good.is_empty() {
                return junk().boxed();
            }
            if bad.is_empty() {
                return prop_oneof![8 => prop::sample::select(good), 1 => junk()].boxed();
            }
            prop_oneof![
                8 => prop::sample::select(good),
                1 => prop::sample::select(bad),
                1 => junk()
            ]
            .boxed()
        }
    }
}

/// Every input of the schema with its dotted path (lists as a whole, maps walked).
fn leaves(decl: &InputDecl, prefix: &str, out: &mut Vec<(Vec<String>, InputDecl)>) {
    for (k, f) in &decl.fields {
        let mut path: Vec<String> = prefix
            .split('.')
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect();
        path.push(k.clone());
        if f.kind == InputKind::Map {
            leaves(f, &path.join("."), out);
        }
        out.push((path, f.clone()));
    }
}

/// Put `v` at `path` inside `root`, making maps on the way (replacing non-maps).
fn set(root: &mut Value, path: &[String], v: Value) {
    let Some((last, dirs)) = path.split_last() else {
        return;
    };
    let mut cur = root;
    for d in dirs {
        if !cur.get(d).is_some_and(Value::is_object) {
            cur[d.as_str()] = Value::Object(Map::new());
        }
        cur = &mut cur[d.as_str()];
    }
    cur[last.as_str()] = v;
}

/// A whole config: a valid base with one to six inputs set to arbitrary values of their
/// declared type (or not).
fn config() -> BoxedStrategy<Value> {
    let mut all = Vec::new();
    leaves(&schema(), "", &mut all);
    let edits: Vec<BoxedStrategy<(Vec<String>, Value)>> = all
        .into_iter()
        .map(|(path, d)| {
            value_for(&d, 0)
                .prop_map(move |v| (path.clone(), v))
                .boxed()
        })
        .collect();
    let n = edits.len();
    (
        prop::sample::subsequence((0..n).collect::<Vec<_>>(), 1..7),
        edits,
    )
        .prop_map(|(pick, values)| {
            let mut cfg: Value = serde_yaml::from_str(CONFIG).unwrap_or_default();
            for i in pick {
                let (path, v) = values[i].clone();
                set(&mut cfg, &path, v);
            }
            cfg
        })
        .boxed()
}

/// YAML-ish text: fragments of real YAML syntax and the odd character, run together.
fn yamlish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("domain: example.test\n".to_string()),
        Just("mail:\n".to_string()),
        Just("  mode: full\n".to_string()),
        Just("\t".to_string()),
        Just("- ".to_string()),
        Just("{".to_string()),
        Just("}".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just(": ".to_string()),
        Just(", ".to_string()),
        Just("&a ".to_string()),
        Just("*a ".to_string()),
        Just("!!binary ".to_string()),
        Just("|\n".to_string()),
        Just("\"".to_string()),
        Just("'".to_string()),
        Just("#".to_string()),
        Just("---\n".to_string()),
        Just("<<: ".to_string()),
        Just("? ".to_string()),
        "[a-z_]{1,8}".prop_map(|s| s),
        "\\PC{1,4}".prop_map(|s| s),
        Just("\n".to_string()),
        Just("  ".to_string()),
    ];
    prop::collection::vec(piece, 0..60).prop_map(|v| v.concat())
}

fn runner(cases_divisor: u32) -> TestRunner {
    let base = Config::default();
    TestRunner::new(Config {
        cases: (base.cases / cases_divisor).max(4),
        failure_persistence: None,
        ..base
    })
}

/// Parse, check and build in-process (what `plan` does before planning): never a panic.
fn prepare_with(t: &Tree, text: &str) {
    t.write("/etc/firstboot/config.yaml", text);
    let opts = firstboot::engine::Options {
        root: t.root().to_path_buf(),
        profile: Some("advanced".into()),
        ..Default::default()
    };
    let _ = firstboot::engine::prepare(&opts, None);
}

#[test]
fn yamlish_text_never_panics_the_parser_or_the_checker() {
    let t = Tree::new(CONFIG);
    runner(1)
        .run(&yamlish(), |text| {
            let _ = firstboot::yaml::parse::<Value>(&text);
            prepare_with(&t, &format!("{CONFIG}{text}"));
            Ok(())
        })
        .unwrap();
}

#[test]
fn arbitrary_values_of_every_declared_type_never_panic_the_checker() {
    let t = Tree::new(CONFIG);
    runner(1)
        .run(&config(), |cfg| {
            let text = serde_yaml::to_string(&cfg).unwrap_or_default();
            prepare_with(&t, &text);
            Ok(())
        })
        .unwrap();
}

#[test]
fn a_run_that_exits_2_wrote_nothing() {
    let strategy = prop_oneof![
        config().prop_map(|c| serde_yaml::to_string(&c).unwrap_or_default()),
        yamlish().prop_map(|y| format!("{CONFIG}{y}")),
    ];
    runner(4)
        .run(&strategy, |text| {
            let t = Tree::new(&text);
            let before = t.snapshot(false);
            let o = t.fb(&["run", "--profile", "advanced", "-q"]);
            let code = o.status.code();
            prop_assert!(
                matches!(code, Some(0..=2)),
                "exit {code:?} for:\n{text}\n{}",
                stderr(&o)
            );
            if code == Some(2) {
                prop_assert!(
                    before == t.snapshot(false),
                    "exit 2 wrote to the root:\n{text}"
                );
            }
            Ok(())
        })
        .unwrap();
}
