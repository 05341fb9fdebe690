//! What each input type accepts, how it normalises what it accepts, and the reason a
//! user reads for what it refuses (the text after `config.yaml:N: key:`), at the edges
//! of every limit: integer bounds, the 63/253-character DNS limits, label shapes,
//! e-mail local parts, paths, URLs and each duration unit.

use firstboot::inputs::kinds::{check, duration_secs};
use firstboot::inputs::text::quote;
use firstboot::inputs::InputDecl;
use serde_json::{json, Value};

/// An input declaration from its JSON form (`{"type": ...}` plus extras).
fn decl(mut v: Value) -> InputDecl {
    v["description"] = json!("test input");
    serde_json::from_value(v).unwrap_or_else(|e| panic!("{e}"))
}

fn kind(k: &str) -> InputDecl {
    decl(json!({ "type": k }))
}

/// The normalised value, or the reasons given for the key `k`.
fn run(d: &InputDecl, v: Value) -> Result<Value, Vec<String>> {
    let mut out = Vec::new();
    match check(d, &v, "k", &mut out) {
        Some(ok) if out.is_empty() => Ok(ok),
        _ => {
            assert!(out.iter().all(|(key, _)| key == "k"), "{out:?}");
            Err(out.into_iter().map(|(_, r)| r).collect())
        }
    }
}

fn ok(d: &InputDecl, v: Value) -> Value {
    run(d, v.clone()).unwrap_or_else(|e| panic!("{v} refused: {e:?}"))
}

/// The one reason `v` is refused.
fn refused(d: &InputDecl, v: Value) -> String {
    match run(d, v.clone()) {
        Ok(n) => panic!("{v} accepted as {n}"),
        Err(r) => {
            assert_eq!(r.len(), 1, "{r:?}");
            r[0].clone()
        }
    }
}

#[test]
fn integers_keep_to_their_bounds_inclusive() {
    let both = decl(json!({"type": "integer", "min": 0, "max": 100}));
    assert_eq!(ok(&both, json!(0)), json!(0));
    assert_eq!(ok(&both, json!(100)), json!(100));
    assert_eq!(refused(&both, json!(-1)), "-1 is out of range 0–100");
    assert_eq!(refused(&both, json!(101)), "101 is out of range 0–100");

    let lower = decl(json!({"type": "integer", "min": 1}));
    assert_eq!(ok(&lower, json!(1)), json!(1));
    assert_eq!(ok(&lower, json!(1_000_000)), json!(1_000_000));
    assert_eq!(refused(&lower, json!(0)), "0 is below the minimum, 1");

    let upper = decl(json!({"type": "integer", "max": 10}));
    assert_eq!(ok(&upper, json!(10)), json!(10));
    assert_eq!(ok(&upper, json!(-5)), json!(-5));
    assert_eq!(refused(&upper, json!(11)), "11 is above the maximum, 10");

    let free = kind("integer");
    assert_eq!(ok(&free, json!(-7)), json!(-7));
    assert_eq!(
        refused(&free, json!("7")),
        "expected an integer, got a string"
    );
    assert_eq!(
        refused(&free, json!(1.5)),
        "expected an integer, got a number"
    );
}

#[test]
fn ports_are_1_to_65535() {
    let p = kind("port");
    assert_eq!(ok(&p, json!(1)), json!(1));
    assert_eq!(ok(&p, json!(65535)), json!(65535));
    assert_eq!(refused(&p, json!(0)), "0 is out of range 1–65535");
    assert_eq!(refused(&p, json!(65536)), "65536 is out of range 1–65535");
    assert_eq!(refused(&p, json!([25])), "expected a port, got a list");
}

#[test]
fn booleans_and_nothing() {
    let b = kind("bool");
    assert_eq!(ok(&b, json!(false)), json!(false));
    assert_eq!(refused(&b, json!("yes")), "expected true or false");
    // An input left empty (`key:` in YAML) is no value, for every type.
    assert_eq!(ok(&kind("domain"), Value::Null), Value::Null);
    assert_eq!(ok(&kind("port"), Value::Null), Value::Null);
}

#[test]
fn text_types_say_what_they_expected_and_what_they_got() {
    assert_eq!(
        refused(&kind("domain"), json!(["a.test"])),
        "expected domain, got a list"
    );
    assert_eq!(
        refused(&kind("local_part"), json!({"a": 1})),
        "expected local part, got a map"
    );
    assert_eq!(
        refused(&kind("string"), json!(true)),
        "expected string, got a boolean"
    );
    // A number where text is expected is taken as its text.
    assert_eq!(ok(&kind("string"), json!(42)), json!("42"));
    assert_eq!(ok(&kind("token"), json!(2026)), json!("2026"));
}

#[test]
fn strings_refuse_surrounding_blanks_and_secrets_stay_hidden() {
    let s = kind("string");
    assert_eq!(ok(&s, json!("a b")), json!("a b"));
    assert_eq!(
        refused(&s, json!(" a")),
        "\" a\" has leading or trailing whitespace"
    );
    let secret = kind("secret");
    assert_eq!(ok(&secret, json!("hunter2")), json!("hunter2"));
    let r = refused(&secret, json!("hunter2 "));
    assert_eq!(r, "the value (hidden) has leading or trailing whitespace");
    let r = refused(&secret, json!("hun\nter2"));
    assert!(
        r.starts_with("the value (hidden) contains a control"),
        "{r}"
    );
    let flagged = decl(json!({"type": "string", "secret": true}));
    let r = refused(&flagged, json!("pass\u{200B}word"));
    assert!(!r.contains("pass"), "{r}");
}

#[test]
fn dns_names_keep_to_the_63_and_253_character_limits() {
    let d = kind("domain");
    let l63 = "a".repeat(63);
    let name = format!("{l63}.test");
    assert_eq!(ok(&d, json!(name)), json!(name));
    let r = refused(&d, json!(format!("{}.test", "a".repeat(64))));
    assert!(r.ends_with("is not a valid domain name: each label must be 1-63 characters"));

    // 4 labels of 63 and 61 characters: 253 with the dots (254 with a final dot).
    let n253 = format!("{l63}.{l63}.{l63}.{}", "b".repeat(61));
    assert_eq!(n253.len(), 253);
    assert_eq!(ok(&d, json!(n253)), json!(n253));
    assert_eq!(ok(&d, json!(format!("{n253}."))), json!(n253));
    let n254 = format!("{l63}.{l63}.{l63}.{}", "b".repeat(62));
    let r = refused(&d, json!(n254));
    assert!(
        r.ends_with("is not a valid domain name: longer than 253 characters"),
        "{r}"
    );
}

#[test]
fn dns_names_need_two_nonempty_ldh_labels() {
    let h = kind("hostname");
    assert_eq!(
        ok(&h, json!("Mail.Example.TEST.")),
        json!("mail.example.test")
    );
    assert_eq!(ok(&h, json!("a-b.x1.test")), json!("a-b.x1.test"));
    let cases = [
        (
            "localhost",
            "it needs at least two labels, like example.org",
        ),
        ("a..test", "each label must be 1-63 characters"),
        (".a.test", "each label must be 1-63 characters"),
        ("a.test..", "each label must be 1-63 characters"),
        ("a_b.test", "only letters, digits and '-' are allowed"),
        ("é.test", "only letters, digits and '-' are allowed"),
        ("-a.test", "a label cannot start or end with '-'"),
        ("a-.test", "a label cannot start or end with '-'"),
        ("a.-test", "a label cannot start or end with '-'"),
    ];
    for (name, why) in cases {
        assert_eq!(
            refused(&h, json!(name)),
            format!("{name:?} is not a valid domain name: {why}")
        );
    }
}

#[test]
fn email_addresses() {
    let e = kind("email");
    assert_eq!(
        ok(&e, json!("A.b+c@Example.TEST")),
        json!("A.b+c@example.test")
    );
    let l64 = "a".repeat(64);
    assert_eq!(
        ok(&e, json!(format!("{l64}@x.test"))),
        json!(format!("{l64}@x.test"))
    );
    for bad in [
        format!("a{l64}@x.test"),
        "@x.test".into(),
        ".a@x.test".into(),
        "a.@x.test".into(),
        "a b@x.test".into(),
        "a:b@x.test".into(),
    ] {
        assert_eq!(
            refused(&e, json!(bad)),
            format!("{} is not an e-mail address: bad local part", quote(&bad))
        );
    }
    assert_eq!(
        refused(&e, json!("postmaster")),
        "\"postmaster\" is not an e-mail address (no '@')"
    );
    assert_eq!(
        refused(&e, json!("a@localhost")),
        "\"a@localhost\" is not an e-mail address: \"localhost\" is not a valid domain name: \
         it needs at least two labels, like example.org"
    );
}

#[test]
fn addresses_are_written_in_their_usual_form() {
    assert_eq!(ok(&kind("ipv4"), json!("192.0.2.1")), json!("192.0.2.1"));
    assert_eq!(
        ok(&kind("ipv6"), json!("2001:DB8:0:0::0001")),
        json!("2001:db8::1")
    );
    assert_eq!(
        refused(&kind("ipv6"), json!("192.0.2.1")),
        "\"192.0.2.1\" is not an IPv6 address"
    );
}

#[test]
fn enums_paths_and_urls() {
    let en = decl(json!({"type": "enum", "values": ["local", "relay"]}));
    assert_eq!(ok(&en, json!("relay")), json!("relay"));
    assert_eq!(
        refused(&en, json!("Relay")),
        "\"Relay\" is not one of: local, relay"
    );

    let p = kind("path");
    assert_eq!(ok(&p, json!("/etc/ssl/x.pem")), json!("/etc/ssl/x.pem"));
    assert_eq!(
        refused(&p, json!("etc/x")),
        "\"etc/x\" is not an absolute path"
    );
    assert_eq!(refused(&p, json!("/a b")), "\"/a b\" contains whitespace");

    let u = kind("url");
    for good in ["https://acme.test/dir", "http://x.test"] {
        assert_eq!(ok(&u, json!(good)), json!(good));
    }
    assert_eq!(
        refused(&u, json!("ftp://x.test")),
        "\"ftp://x.test\" is not an http(s) URL"
    );
    for bad in [
        "https://",
        "http://",
        "https://a b",
        "https://a\"b",
        "https://a'b",
    ] {
        assert_eq!(
            refused(&u, json!(bad)),
            format!("{bad:?} is not a valid URL")
        );
    }
}

#[test]
fn each_duration_unit() {
    for (s, secs) in [
        ("90", 90),
        ("0", 0),
        ("90s", 90),
        ("20m", 1200),
        ("2h", 7200),
        ("1h30m", 5400),
        ("3d", 259_200),
        ("2w", 1_209_600),
        ("1w1d1h1m1s", 694_861),
    ] {
        assert_eq!(duration_secs(s), Ok(secs), "{s}");
    }
    let msg = |s: &str| format!("{s:?} is not a duration (examples: 90s, 20m, 1h30m, 1d, 2w)");
    for bad in [
        "",
        "m",
        "1h30",
        "1x",
        "-1s",
        "1.5h",
        "99999999999999999999w",
        "40000000000000w",
        "18446744073709551615s1s",
    ] {
        assert_eq!(duration_secs(bad), Err(msg(bad)), "{bad}");
    }
    // A duration input keeps the text the user wrote.
    let d = kind("duration");
    assert_eq!(ok(&d, json!("1h30m")), json!("1h30m"));
    assert_eq!(refused(&d, json!("1y")), msg("1y"));
}
