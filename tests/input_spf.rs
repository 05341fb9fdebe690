//! The limits on a list of added SPF mechanisms (`dns.spf_extra`), at their edges: 370
//! characters together, nine that cost a DNS lookup, prefix lengths without leading
//! zeros. The text checked is the reason a user reads after `config.yaml:N: key:`.

use firstboot::inputs::kinds::check;
use firstboot::inputs::InputDecl;
use serde_json::{json, Value};

fn spf_list() -> InputDecl {
    serde_json::from_value(json!({
        "type": "list",
        "description": "added mechanisms",
        "items": {"type": "spf_mechanism", "description": "one mechanism"},
    }))
    .unwrap_or_else(|e| panic!("{e}"))
}

/// The accepted list, or every (key, reason) given.
fn run(terms: &[&str]) -> Result<Value, Vec<(String, String)>> {
    let mut out = Vec::new();
    match check(&spf_list(), &json!(terms), "dns.spf_extra", &mut out) {
        Some(v) if out.is_empty() => Ok(v),
        _ => Err(out),
    }
}

fn one_problem(terms: &[&str]) -> (String, String) {
    let e = run(terms).expect_err("refused");
    assert_eq!(e.len(), 1, "{e:?}");
    e[0].clone()
}

#[test]
fn at_most_370_characters_counting_a_space_before_each() {
    // 25 × 13 characters and one of 19, each with its space: 370.
    let mut terms = vec!["ip4:192.0.2.1"; 25];
    terms.push("ip6:2001:db8::1/128");
    assert_eq!(
        run(&terms).map(|v| v.as_array().map(Vec::len)),
        Ok(Some(26))
    );
    terms[25] = "ip6:2001:db8::10/128";
    assert_eq!(
        one_problem(&terms),
        (
            "dns.spf_extra".into(),
            "the SPF mechanisms take 371 characters; at most 370 keep the record under 450 \
             bytes (use include: for a long list)"
                .into()
        )
    );
}

#[test]
fn nine_mechanisms_may_cost_a_lookup_and_addresses_cost_none() {
    let mut terms = vec![
        "a",
        "mx",
        "a/24",
        "mx//64",
        "include:_spf.example.net",
        "exists:%{i}.x.test",
        "a:relay.example.net",
        "MX:backup.example.net",
        "~include:y.test",
    ];
    // Addresses need no lookup: ten of them do not count against the nine.
    terms.extend(["ip4:192.0.2.1"; 5]);
    terms.extend(["ip6:2001:db8::1"; 5]);
    assert!(run(&terms).is_ok(), "{:?}", run(&terms));
    terms.push("-a");
    assert_eq!(
        one_problem(&terms),
        (
            "dns.spf_extra".into(),
            "10 SPF mechanisms need a DNS lookup; at most 9 (RFC 7208 allows ten per check)".into()
        )
    );
}

#[test]
fn prefix_lengths_are_written_without_leading_zeros() {
    assert!(run(&["ip4:0.0.0.0/0", "ip6:::/0", "a/0//0"]).is_ok());
    assert_eq!(
        one_problem(&["ip4:192.0.2.0/024"]),
        (
            "dns.spf_extra[0]".into(),
            "\"ip4:192.0.2.0/024\" is not an SPF mechanism: \"024\" is not a prefix length 0-32"
                .into()
        )
    );
    assert_eq!(
        one_problem(&["ip4:192.0.2.0/00"]).1,
        "\"ip4:192.0.2.0/00\" is not an SPF mechanism: \"00\" is not a prefix length 0-32"
    );
}
