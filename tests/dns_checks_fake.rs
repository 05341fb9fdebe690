//! The mail-DNS check kinds (`dns.mx`, `dns.address`, `dns.ptr`, `dns.helo`,
//! `dns.spf`, `dns.dmarc`, `dns.mta_sts`, `dns.dnssec`) against a scripted DNS server on
//! the host's fake network: each one's pass and fail shapes, SPF evaluated by mail-auth
//! through our own client (no other network is touched).

use firstboot::checks::{run_checks, CheckKind, CheckResult, CheckStatus, Declared};
mod common;
use common::dns_zone::{serve, Zone};
use firstboot::dns::RType;
use firstboot::host::fake::host;
use firstboot::redact::Redactor;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SERVER: &str = "192.0.2.53";

type Rec = (&'static str, RType, &'static str);

/// The zone of a well set up host: mail.example.test at 192.0.2.10 and 2001:db8::10.
fn good() -> Vec<Rec> {
    vec![
        ("example.test", RType::Mx, "10 mail.example.test"),
        ("mail.example.test", RType::A, "192.0.2.10"),
        ("mail.example.test", RType::Aaaa, "2001:db8::10"),
        ("10.2.0.192.in-addr.arpa", RType::Ptr, "mail.example.test"),
        (
            "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
            RType::Ptr,
            "mail.example.test",
        ),
        (
            "example.test",
            RType::Txt,
            "v=spf1 ip4:192.0.2.10 ip6:2001:db8::10 include:_spf.example.net -all",
        ),
        ("example.test", RType::Txt, "google-site-verification=abc"),
        (
            "mail.example.test",
            RType::Txt,
            "v=spf1 ip4:192.0.2.10 ip6:2001:db8::10 -all",
        ),
        (
            "_spf.example.net",
            RType::Txt,
            "v=spf1 a:relay.example.net -all",
        ),
        ("relay.example.net", RType::A, "198.51.100.7"),
        (
            "_dmarc.example.test",
            RType::Txt,
            "v=DMARC1; p=quarantine; rua=mailto:dmarc@example.test",
        ),
        ("_mta-sts.example.test", RType::Txt, "v=STSv1; id=20261203"),
    ]
}

fn run(zone: Vec<Rec>, kind: Value) -> (CheckResult, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let (h, fakes) = host(dir.path());
    let asked = Arc::new(Mutex::new(Vec::new()));
    let zone: Zone = Arc::new(Mutex::new(zone));
    *fakes.net.handler.lock().unwrap() = Some(Arc::new(serve(zone, asked.clone())));
    let redactor = Redactor::default();
    let cx = common::check_cx(&h, &redactor, Duration::from_millis(200));
    let check: CheckKind = serde_json::from_value(kind).unwrap();
    let r = run_checks(&cx, &[Declared::new("dns.x", check)], &mut |_| {})[0].clone();
    let asked = asked.lock().unwrap().clone();
    (r, asked)
}

fn spf() -> Value {
    json!({"spf": {"domain": "example.test", "helo": "mail.example.test", "ipv4": "192.0.2.10",
        "ipv6": "2001:db8::10", "server": SERVER}})
}

fn without(mut z: Vec<Rec>, name: &str, rtype: RType) -> Vec<Rec> {
    z.retain(|(n, t, _)| !(*n == name && *t == rtype));
    z
}

#[test]
fn spf_passes_for_both_addresses_through_our_server_only() {
    let (r, asked) = run(good(), spf());
    assert_eq!(r.status, CheckStatus::Pass, "{}", r.detail);
    assert!(r.detail.contains("2 of 10 lookups"), "{}", r.detail);
    assert!(
        r.detail
            .contains("pass for 192.0.2.10, pass for 2001:db8::10"),
        "{}",
        r.detail
    );
    assert!(asked.iter().all(|a| a.contains(SERVER)), "{asked:?}");
    assert!(
        asked.iter().any(|a| a.contains("TXT _spf.example.net")),
        "{asked:?}"
    );
}

#[test]
fn the_helo_names_own_spf_is_evaluated_for_the_host_addresses() {
    let (r, asked) = run(good(), spf());
    assert!(
        r.detail
            .ends_with("; HELO mail.example.test: pass for 192.0.2.10, pass for 2001:db8::10"),
        "{}",
        r.detail
    );
    assert!(
        asked.iter().any(|a| a.contains("TXT mail.example.test")),
        "{asked:?}"
    );
    let mut z = without(good(), "mail.example.test", RType::Txt);
    z.push((
        "mail.example.test",
        RType::Txt,
        "v=spf1 ip4:192.0.2.10 -all",
    ));
    let (r, _) = run(z, spf());
    assert_eq!(r.status, CheckStatus::Fail, "{}", r.detail);
    assert!(
        r.detail
            .ends_with("; HELO mail.example.test: pass for 192.0.2.10, fail for 2001:db8::10"),
        "{}",
        r.detail
    );
    assert!(
        r.hint
            .as_deref()
            .unwrap_or("")
            .contains("SPF record of mail.example.test"),
        "{:?}",
        r.hint
    );
    let (r, _) = run(without(good(), "mail.example.test", RType::Txt), spf());
    assert_eq!(r.status, CheckStatus::Pending, "{}", r.detail);
    assert!(
        r.detail
            .ends_with("; HELO mail.example.test: no SPF record visible yet"),
        "{}",
        r.detail
    );
}

#[test]
fn spf_relay_mode_evaluates_the_smarthost_too() {
    let mut v = spf();
    v["spf"]["relay_host"] = json!("relay.example.net");
    let (r, _) = run(good(), v);
    assert_eq!(r.status, CheckStatus::Pass, "{}", r.detail);
    assert!(r.detail.contains("pass for 198.51.100.7"), "{}", r.detail);
    let mut z = without(good(), "_spf.example.net", RType::Txt);
    z.push(("_spf.example.net", RType::Txt, "v=spf1 -all"));
    let mut v = spf();
    v["spf"]["relay_host"] = json!("relay.example.net");
    let (r, _) = run(z, v);
    assert_eq!(r.status, CheckStatus::Fail, "{}", r.detail);
    assert!(r.detail.contains("fail for 198.51.100.7"), "{}", r.detail);
}

#[test]
fn spf_relay_mode_with_a_smarthost_without_an_address_is_pending() {
    let mut v = spf();
    v["spf"]["relay_host"] = json!("relay.nowhere.example.net.");
    let (r, _) = run(good(), v);
    assert_eq!(r.status, CheckStatus::Pending, "{}", r.detail);
    assert_eq!(
        r.detail,
        "smarthost relay.nowhere.example.net has no address at 192.0.2.53"
    );
}

#[test]
fn spf_with_ten_lookups_is_within_the_limit_and_no_helo_name_is_no_helo_check() {
    let z = lookup_tree("v=spf1 a mx a:y.example.net -all", "v=spf1 mx -all");
    let mut v = spf();
    v["spf"]["helo"] = json!("");
    let (r, _) = run(z, v);
    assert_eq!(r.status, CheckStatus::Pass, "{}", r.detail);
    assert!(!r.detail.contains("HELO"), "{}", r.detail);
}

#[test]
fn spf_without_the_host_address_fails_with_a_hint() {
    let mut z = without(good(), "example.test", RType::Txt);
    z.push(("example.test", RType::Txt, "v=spf1 ip4:192.0.2.99 -all"));
    let (r, _) = run(z, spf());
    assert_eq!(r.status, CheckStatus::Fail, "{}", r.detail);
    assert!(r.detail.contains("fail for 192.0.2.10"), "{}", r.detail);
    assert!(r.hint.unwrap().contains("192.0.2.10"));
}

#[test]
fn two_spf_records_fail_none_is_pending() {
    let mut z = good();
    z.push(("example.test", RType::Txt, "v=spf1 mx -all"));
    let (r, _) = run(z, spf());
    assert_eq!(r.status, CheckStatus::Fail, "{}", r.detail);
    assert!(r.detail.starts_with("2 SPF records"), "{}", r.detail);
    let (r, _) = run(without(good(), "example.test", RType::Txt), spf());
    assert_eq!(r.status, CheckStatus::Pending, "{}", r.detail);
}

/// The good zone with SPF including three records whose terms are `b` and `c` (`a`
/// holds `a mx a:x.example.net`): 3 includes plus what they ask.
fn lookup_tree(b: &'static str, c: &'static str) -> Vec<Rec> {
    let mut z = without(good(), "example.test", RType::Txt);
    z.push((
        "example.test",
        RType::Txt,
        "v=spf1 ip4:192.0.2.10 ip6:2001:db8::10 include:a.example.net include:b.example.net include:c.example.net -all",
    ));
    z.push((
        "a.example.net",
        RType::Txt,
        "v=spf1 a mx a:x.example.net -all",
    ));
    z.push(("b.example.net", RType::Txt, b));
    z.push(("c.example.net", RType::Txt, c));
    z
}

#[test]
fn spf_with_eleven_lookups_fails() {
    let z = lookup_tree(
        "v=spf1 a mx exists:y.example.net -all",
        "v=spf1 mx ptr -all",
    );
    let (r, _) = run(z, spf());
    assert_eq!(r.status, CheckStatus::Fail, "{}", r.detail);
    assert!(
        r.detail.starts_with("11 DNS lookups, more than 10"),
        "{}",
        r.detail
    );
}

/// The good zone with the domain's SPF replaced by `record`, plus `extra` records.
fn spf_zone(record: &'static str, extra: Vec<Rec>) -> Vec<Rec> {
    let mut z = without(good(), "example.test", RType::Txt);
    z.push(("example.test", RType::Txt, record));
    z.extend(extra);
    z
}

#[test]
fn spf_exists_matches_only_when_its_target_has_an_address() {
    let rec = "v=spf1 exists:ok.example.test -all";
    let (r, asked) = run(
        spf_zone(rec, vec![("ok.example.test", RType::A, "127.0.0.2")]),
        spf(),
    );
    assert_eq!(r.status, CheckStatus::Pass, "{}", r.detail);
    assert!(r.detail.contains("1 of 10 lookups"), "{}", r.detail);
    assert!(
        asked.iter().any(|a| a.contains("A ok.example.test")),
        "{asked:?}"
    );
    // No %{p} in the record: no PTR is asked for it.
    assert!(!asked.iter().any(|a| a.contains("PTR")), "{asked:?}");
    // The target without an address: the term does not match and -all fails both.
    let (r, _) = run(spf_zone(rec, vec![]), spf());
    assert_eq!(r.status, CheckStatus::Fail, "{}", r.detail);
    assert!(
        r.detail
            .contains("fail for 192.0.2.10, fail for 2001:db8::10"),
        "{}",
        r.detail
    );
    // Only an A record counts (RFC 7208 section 5.7), even for an IPv6 client.
    let (r, _) = run(
        spf_zone(rec, vec![("ok.example.test", RType::Aaaa, "2001:db8::2")]),
        spf(),
    );
    assert_eq!(r.status, CheckStatus::Fail, "{}", r.detail);
}

#[test]
fn spf_exists_macros_expand_per_address_and_keep_their_qualifier() {
    // %{i}: one name per client address; only 192.0.2.10's is listed.
    let rec = "v=spf1 exists:%{i}._ok.example.test -all";
    let listed = vec![("192.0.2.10._ok.example.test", RType::A, "127.0.0.2")];
    let (r, asked) = run(spf_zone(rec, listed.clone()), spf());
    assert_eq!(r.status, CheckStatus::Fail, "{}", r.detail);
    assert!(
        r.detail
            .contains("pass for 192.0.2.10, fail for 2001:db8::10"),
        "{}",
        r.detail
    );
    let v6 = "2.0.0.1.0.d.b.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0._ok.example.test";
    assert!(
        asked.iter().any(|a| a.contains(&format!("A {v6}"))),
        "{asked:?}"
    );
    // %{d} and %{l}: the record's own domain and the sender's local part.
    let rec = "v=spf1 exists:%{l}.%{d}._ok.example.test -all";
    let named = vec![(
        "postmaster.example.test._ok.example.test",
        RType::A,
        "127.0.0.2",
    )];
    let (r, _) = run(spf_zone(rec, named), spf());
    assert_eq!(r.status, CheckStatus::Pass, "{}", r.detail);
    // A qualified term keeps its qualifier: -exists: listed fails, unlisted falls through.
    let rec = "v=spf1 -exists:%{i}._ok.example.test ip4:192.0.2.10 ip6:2001:db8::10 -all";
    let (r, _) = run(spf_zone(rec, listed), spf());
    assert!(
        r.detail
            .contains("fail for 192.0.2.10, pass for 2001:db8::10"),
        "{}",
        r.detail
    );
}

#[test]
fn spf_exists_in_an_include_is_settled_and_p_is_the_validated_ptr_name() {
    let mut z = spf_zone(
        "v=spf1 include:_spf.example.net -all",
        vec![("10.2.0.192._spf.example.net", RType::A, "127.0.0.2")],
    );
    z = without(z, "_spf.example.net", RType::Txt);
    z.push((
        "_spf.example.net",
        RType::Txt,
        "v=spf1 exists:%{ir}.%{d} -all",
    ));
    let mut v = spf();
    v["spf"]["ipv6"] = json!("");
    let (r, _) = run(z, v.clone());
    assert_eq!(r.status, CheckStatus::Pass, "{}", r.detail);

    // %{p}: the PTR name whose own address is the client's (mail.example.test here).
    let rec = "v=spf1 exists:%{p}._ok.example.test -all";
    let listed = |name: &'static str| vec![(name, RType::A, "127.0.0.2")];
    let (r, _) = run(
        spf_zone(rec, listed("mail.example.test._ok.example.test")),
        v.clone(),
    );
    assert_eq!(r.status, CheckStatus::Pass, "{}", r.detail);
    let (r, _) = run(spf_zone(rec, vec![]), v.clone());
    assert_eq!(r.status, CheckStatus::Fail, "{}", r.detail);
    // Of two validated names, the one under the domain; the other comes first.
    let ptr = "10.2.0.192.in-addr.arpa";
    let mut z = without(
        spf_zone(rec, listed("mail.example.test._ok.example.test")),
        ptr,
        RType::Ptr,
    );
    z.push((ptr, RType::Ptr, "vm-1.provider.example.net"));
    z.push((ptr, RType::Ptr, "mail.example.test"));
    z.push(("vm-1.provider.example.net", RType::A, "192.0.2.10"));
    let (r, asked) = run(z, v.clone());
    assert_eq!(r.status, CheckStatus::Pass, "{}", r.detail);
    assert!(
        asked
            .iter()
            .any(|a| a.contains("A vm-1.provider.example.net")),
        "both names are checked for the client's address: {asked:?}"
    );
    // A PTR name that does not point back is not validated: %{p} is `unknown`.
    let mut z = without(
        spf_zone(rec, listed("unknown._ok.example.test")),
        ptr,
        RType::Ptr,
    );
    z.push((ptr, RType::Ptr, "vm-1.provider.example.net"));
    let (r, _) = run(z, v);
    assert_eq!(r.status, CheckStatus::Pass, "{}", r.detail);
}

#[test]
fn a_redirect_counts_as_a_lookup_and_its_target_is_walked() {
    // 3 includes, a's 3, b's 3, c's mx and redirect, and the redirect target's a: = 12.
    let z = lookup_tree(
        "v=spf1 a mx a:y.example.net -all",
        "v=spf1 mx redirect=_spf.example.net",
    );
    let (r, _) = run(z, spf());
    assert!(
        r.detail.starts_with("12 DNS lookups, more than 10"),
        "{}",
        r.detail
    );
}

#[test]
fn an_spf_record_that_does_not_parse_fails() {
    let mut z = without(good(), "example.test", RType::Txt);
    z.push(("example.test", RType::Txt, "v=spf1 ip4:192.0.2.10 -al"));
    let (r, _) = run(z, spf());
    assert_eq!(r.status, CheckStatus::Fail, "{}", r.detail);
    assert!(r.detail.contains("does not parse"), "{}", r.detail);
}

fn ptr(helo: bool) -> Value {
    json!({"ptr": {"name": "mail.example.test", "ipv4": "192.0.2.10", "ipv6": "2001:db8::10",
        "helo": helo, "server": SERVER}})
}

#[test]
fn forward_confirmed_ptr_passes_a_ptr_elsewhere_fails_none_is_pending() {
    let (r, _) = run(good(), ptr(false));
    assert_eq!(r.status, CheckStatus::Pass, "{}", r.detail);
    assert_eq!(r.hint, None, "a passing check needs no hint");
    let (r, _) = run(good(), ptr(true));
    assert_eq!(r.status, CheckStatus::Pass, "{}", r.detail);
    assert_eq!(r.hint, None, "a passing check needs no hint");

    let mut z = without(good(), "10.2.0.192.in-addr.arpa", RType::Ptr);
    z.push(("10.2.0.192.in-addr.arpa", RType::Ptr, "vm-1.provider.test"));
    let (r, _) = run(z.clone(), ptr(false));
    assert_eq!(r.status, CheckStatus::Fail, "{}", r.detail);
    assert!(
        r.detail.contains("192.0.2.10: PTR is vm-1.provider.test."),
        "{}",
        r.detail
    );
    assert!(r
        .hint
        .unwrap()
        .contains("set its PTR to mail.example.test."));
    let (r, _) = run(z, ptr(true));
    assert_eq!(r.status, CheckStatus::Fail, "{}", r.detail);
    assert!(
        r.detail.contains("HELO name mail.example.test. is not"),
        "{}",
        r.detail
    );
    // The HELO check's hint offers smtp_helo_name first.
    assert!(
        r.hint
            .as_deref()
            .unwrap_or_default()
            .starts_with("make smtp_helo_name the PTR name"),
        "{:?}",
        r.hint
    );

    // The PTR is right but the name does not resolve back: not forward-confirmed.
    let z = without(good(), "mail.example.test", RType::A);
    let (r, _) = run(z, ptr(false));
    assert_eq!(r.status, CheckStatus::Fail, "{}", r.detail);
    assert!(r.detail.contains("not back to 192.0.2.10"), "{}", r.detail);

    let z = without(good(), "10.2.0.192.in-addr.arpa", RType::Ptr);
    let (r, _) = run(z, ptr(false));
    assert_eq!(r.status, CheckStatus::Pending, "{}", r.detail);
}

#[test]
fn mx_and_addresses_pass_and_fail() {
    let mx =
        json!({"mx": {"domain": "example.test", "host": "mail.example.test", "server": SERVER}});
    assert_eq!(run(good(), mx.clone()).0.status, CheckStatus::Pass);
    let mut z = without(good(), "example.test", RType::Mx);
    z.push(("example.test", RType::Mx, "10 mx.other.test"));
    let (r, _) = run(z, mx.clone());
    assert_eq!(r.status, CheckStatus::Fail, "{}", r.detail);
    assert!(
        r.detail
            .contains("names 10 mx.other.test., not mail.example.test."),
        "{}",
        r.detail
    );
    let z = without(good(), "example.test", RType::Mx);
    assert_eq!(run(z, mx).0.status, CheckStatus::Pending);

    let addr = json!({"address": {"name": "mail.example.test", "ipv4": "192.0.2.10",
        "ipv6": "2001:db8::10", "server": SERVER}});
    assert_eq!(run(good(), addr.clone()).0.status, CheckStatus::Pass);
    // No address set for the host (ipv4 and ipv6 empty): nothing to compare, skipped.
    let (r, asked) = run(
        good(),
        json!({"address": {"name": "mail.example.test", "ipv4": "", "ipv6": "",
            "server": SERVER}}),
    );
    assert_eq!(r.status, CheckStatus::Skipped, "{}", r.detail);
    assert!(r.detail.contains("no public address set"), "{}", r.detail);
    assert!(asked.is_empty(), "{asked:?}");
    // Only one of the host's addresses published (nothing foreign): still a failure.
    let z = without(good(), "mail.example.test", RType::Aaaa);
    let (r, _) = run(z, addr.clone());
    assert_eq!(r.status, CheckStatus::Fail, "{}", r.detail);
    assert!(r.detail.contains("missing: 2001:db8::10"), "{}", r.detail);
    let mut z = without(good(), "mail.example.test", RType::A);
    z.push(("mail.example.test", RType::A, "192.0.2.66"));
    let (r, _) = run(z, addr);
    assert_eq!(r.status, CheckStatus::Fail, "{}", r.detail);
    assert!(
        r.detail
            .contains("not this host: 192.0.2.66; missing: 192.0.2.10"),
        "{}",
        r.detail
    );
}

#[test]
fn dmarc_none_warns_and_quarantine_passes() {
    let d = json!({"dmarc": {"domain": "example.test", "server": SERVER}});
    let (r, _) = run(good(), d.clone());
    assert_eq!(r.status, CheckStatus::Pass, "{}", r.detail);
    let mut z = without(good(), "_dmarc.example.test", RType::Txt);
    z.push((
        "_dmarc.example.test",
        RType::Txt,
        "v=DMARC1; p=none; rua=mailto:d@example.test",
    ));
    let (r, _) = run(z, d);
    assert_eq!(r.status, CheckStatus::Warn, "{}", r.detail);
    assert!(r.detail.starts_with("p=none"), "{}", r.detail);
    assert!(r.hint.unwrap().contains("quarantine or reject"));
}

#[test]
fn mta_sts_is_skipped_unless_enabled_and_dnssec_of_an_unsigned_zone_warns() {
    let p = |on: &str| {
        json!({"policy_record": {"record": "mta_sts", "domain": "example.test", "enabled": on,
            "server": SERVER}})
    };
    let (r, asked) = run(good(), p("false"));
    assert_eq!(r.status, CheckStatus::Skipped);
    assert!(
        r.detail.contains("dns.mta_sts.enabled is false"),
        "{}",
        r.detail
    );
    assert!(asked.is_empty());
    let (r, _) = run(good(), p("true"));
    assert_eq!(r.status, CheckStatus::Pass, "{}", r.detail);
    assert_eq!(r.hint, None, "a passing check needs no hint");
    let mut z = without(good(), "_mta-sts.example.test", RType::Txt);
    z.push(("_mta-sts.example.test", RType::Txt, "v=STSv1"));
    let (r, _) = run(z, p("true"));
    assert_ne!(r.status, CheckStatus::Pass, "{}", r.detail);
    assert_eq!(
        r.hint.as_deref(),
        Some("publish the record `firstboot records` shows")
    );

    let s =
        |dane: &str| json!({"dnssec": {"zone": "example.test", "dane": dane, "server": SERVER}});
    let (r, asked) = run(good(), s("false"));
    assert_eq!(r.status, CheckStatus::Warn, "{}", r.detail);
    assert!(
        asked.iter().any(|a| a.contains("DNSKEY example.test")),
        "{asked:?}"
    );
    assert_eq!(run(good(), s("true")).0.status, CheckStatus::Fail);
}

#[test]
fn a_server_that_does_not_answer_leaves_dns_checks_pending() {
    let dir = tempfile::tempdir().unwrap();
    let (h, _fakes) = host(dir.path());
    let redactor = Redactor::default();
    let cx = common::check_cx(&h, &redactor, Duration::from_millis(100));
    let checks: Vec<Declared> = [spf(), ptr(false)]
        .into_iter()
        .map(|v| Declared::new("dns.x", serde_json::from_value(v).unwrap()))
        .collect();
    for r in run_checks(&cx, &checks, &mut |_| {}) {
        assert_eq!(r.status, CheckStatus::Pending, "{}", r.detail);
        assert!(r.detail.contains("cannot resolve"), "{}", r.detail);
    }
}

#[test]
fn dnssec_of_a_signed_zone_not_validated_by_the_server_passes_saying_so() {
    use hickory_proto::dnssec::rdata::{DNSSECRData, DNSKEY};
    use hickory_proto::dnssec::{Algorithm, PublicKeyBuf};
    use hickory_proto::op::{Message, OpCode};
    use hickory_proto::rr::{Name, RData, Record, RecordType};
    let dir = tempfile::tempdir().unwrap();
    let (h, fakes) = host(dir.path());
    // An authoritative server answers the zone's DNSKEY without the AD bit.
    *fakes.net.handler.lock().unwrap() = Some(Arc::new(Box::new(|_, _, bytes: &[u8]| {
        let q = Message::from_vec(bytes).map_err(std::io::Error::other)?;
        let query = q.queries[0].clone();
        let mut r = Message::response(q.metadata.id, OpCode::Query);
        r.add_query(query.clone());
        r.metadata.authoritative = true;
        if query.query_type() == RecordType::DNSKEY {
            let key = DNSKEY::new(
                true,
                true,
                false,
                PublicKeyBuf::new(vec![7; 64], Algorithm::ECDSAP256SHA256),
            );
            r.add_answer(Record::from_rdata(
                Name::from_ascii("example.test.").unwrap(),
                3600,
                RData::DNSSEC(DNSSECRData::DNSKEY(key)),
            ));
        }
        r.to_vec().map_err(std::io::Error::other)
    })));
    let redactor = Redactor::default();
    let cx = common::check_cx(&h, &redactor, Duration::from_millis(200));
    let check: CheckKind = serde_json::from_value(
        json!({"dnssec": {"zone": "example.test", "dane": "true", "server": SERVER}}),
    )
    .unwrap();
    let r = run_checks(&cx, &[Declared::new("dns.dnssec", check)], &mut |_| {})[0].clone();
    assert_eq!(r.status, CheckStatus::Pass, "{}", r.detail);
    assert!(
        r.detail.contains("signed: 1 DNSKEY at 192.0.2.53"),
        "{}",
        r.detail
    );
}

#[test]
fn answers_with_records_are_shared_within_a_pass_and_asked_again_in_the_next() {
    use firstboot::dns::lookup::{Lookup, Shared};
    use firstboot::dns::wire::Client;
    use firstboot::dns::DName;
    let dir = tempfile::tempdir().unwrap();
    let (h, fakes) = host(dir.path());
    let asked = Arc::new(Mutex::new(Vec::new()));
    let zone: Zone = Arc::new(Mutex::new(good()));
    *fakes.net.handler.lock().unwrap() = Some(Arc::new(serve(zone, asked.clone())));
    let client = || Client {
        net: h.net.as_ref(),
        timeout: Duration::from_millis(200),
    };
    let server = SERVER.parse().unwrap();
    let shared = Shared::default();
    let name = DName::parse("example.test").unwrap();
    let empty = DName::parse("nothing.example.test").unwrap();
    for _ in 0..2 {
        let l = Lookup::new(client(), server).sharing(&shared);
        assert_eq!(l.txt(&name).unwrap().len(), 2);
        assert!(l.txt(&empty).unwrap().is_empty());
    }
    let other = Lookup::new(client(), "192.0.2.54".parse().unwrap()).sharing(&shared);
    other.txt(&name).unwrap();
    let got = asked.lock().unwrap().clone();
    let count = |q: &str| got.iter().filter(|a| a.ends_with(q)).count();
    assert_eq!(count("192.0.2.53:53 TXT example.test."), 1, "{got:?}");
    assert_eq!(
        count("192.0.2.53:53 TXT nothing.example.test."),
        2,
        "{got:?}"
    );
    assert_eq!(count("192.0.2.54:53 TXT example.test."), 1, "{got:?}");

    // Each run_checks is a pass of its own: a second one asks again.
    asked.lock().unwrap().clear();
    let redactor = Redactor::default();
    let cx = common::check_cx(&h, &redactor, Duration::from_millis(200));
    let check: CheckKind = serde_json::from_value(spf()).unwrap();
    let d = [Declared::new("dns.spf", check)];
    assert_eq!(
        run_checks(&cx, &d, &mut |_| {})[0].status,
        CheckStatus::Pass
    );
    let spf_asked = || {
        let got = asked.lock().unwrap().clone();
        got.iter()
            .filter(|a| a.ends_with("192.0.2.53:53 TXT example.test."))
            .count()
    };
    let first = spf_asked();
    assert!(first >= 1);
    assert_eq!(
        run_checks(&cx, &d, &mut |_| {})[0].status,
        CheckStatus::Pass
    );
    assert!(
        spf_asked() > first,
        "the second pass asked the SPF record again"
    );
}
