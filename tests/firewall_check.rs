//! The `firewall` check against a host made of fakes: `nft -j list table inet firstboot`
//! scripted with nft 1.0.6's real output. Pass when the input chain drops by default and
//! accepts exactly the ports served; fail on a missing port, an extra one, policy
//! accept or no table; skipped, naming the ports, when the firewall is not managed.

use firstboot::checks::{
    run_checks, CheckCx, CheckKind, CheckResult, CheckStatus, Declared, Retry,
};
use firstboot::host::fake::{exit, host};
use firstboot::host::runner::CommandOutput;
use firstboot::redact::Redactor;
use serde_json::json;
use std::time::Duration;

/// What nft 1.0.6 prints for our table with `policy` and TCP `ports` accepted.
fn listing(policy: &str, ports: &[u16]) -> String {
    let rule = |h: u32, expr: serde_json::Value| json!({"rule": {"family": "inet", "table": "firstboot", "chain": "input", "handle": h, "expr": expr}});
    json!({"nftables": [
        {"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}},
        {"table": {"family": "inet", "name": "firstboot", "handle": 3}},
        {"chain": {"family": "inet", "table": "firstboot", "name": "input", "handle": 1,
            "type": "filter", "hook": "input", "prio": 0, "policy": policy}},
        rule(2, json!([{"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": ["established", "related"]}}, {"accept": null}])),
        rule(4, json!([{"match": {"op": "==", "left": {"meta": {"key": "iifname"}}, "right": "lo"}}, {"accept": null}])),
        rule(6, json!([{"match": {"op": "==", "left": {"meta": {"key": "l4proto"}}, "right": {"set": ["icmp", "ipv6-icmp"]}}}, {"accept": null}])),
        rule(7, json!([{"match": {"op": "==", "left": {"payload": {"protocol": "udp", "field": "sport"}}, "right": 67}},
            {"match": {"op": "==", "left": {"payload": {"protocol": "udp", "field": "dport"}}, "right": 68}}, {"accept": null}])),
        rule(10, json!([{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": {"set": ports}}}, {"accept": null}])),
    ]})
    .to_string()
}

fn check(managed: bool) -> Vec<Declared> {
    let kind: CheckKind = serde_json::from_value(json!({"firewall": {
        "table": "inet firstboot", "tcp_ports": "22 25 465 587 993 995",
        "managed": if managed { "true" } else { "false" }}}))
    .unwrap();
    vec![Declared::new("firewall.ports", kind)]
}

/// Run the check with `nft` answering `out`; the result and the command lines run.
fn run(managed: bool, out: CommandOutput) -> (CheckResult, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let (h, fakes) = host(dir.path());
    fakes.exec.on("nft", Box::new(move |_, _| out.clone()));
    let redactor = Redactor::default();
    let cx = CheckCx {
        host: &h,
        redactor: &redactor,
        timeout: Duration::from_millis(200),
        retry: Retry::NONE,
        answers: Default::default(),
    };
    let r = run_checks(&cx, &check(managed), &mut |_| {})[0].clone();
    (r, fakes.exec.calls())
}

#[test]
fn the_ports_served_and_policy_drop_pass() {
    let (r, calls) = run(
        true,
        exit(0, &listing("drop", &[22, 25, 465, 587, 993, 995])),
    );
    assert_eq!(r.status, CheckStatus::Pass, "{}", r.detail);
    assert_eq!(
        r.detail,
        "tcp 22, 25, 465, 587, 993, 995 open, the rest dropped"
    );
    assert_eq!(calls, ["nft -j list table inet firstboot"]);
}

#[test]
fn a_missing_port_an_extra_port_and_policy_accept_each_fail() {
    let (r, _) = run(true, exit(0, &listing("drop", &[22, 25, 465, 587, 995])));
    assert_eq!(r.status, CheckStatus::Fail);
    assert_eq!(r.detail, "served but not open: tcp 993");
    let (r, _) = run(
        true,
        exit(0, &listing("drop", &[22, 25, 143, 465, 587, 993, 995])),
    );
    assert_eq!(r.status, CheckStatus::Fail);
    assert_eq!(r.detail, "open but not served: 143");
    let (r, _) = run(
        true,
        exit(0, &listing("accept", &[22, 25, 465, 587, 993, 995])),
    );
    assert_eq!(r.status, CheckStatus::Fail);
    assert_eq!(
        r.detail,
        "no input chain with policy drop: every port is open"
    );
}

#[test]
fn no_table_fails_and_names_what_nft_said() {
    let out = CommandOutput {
        code: Some(1),
        stdout: String::new(),
        stderr: "Error: No such file or directory\nlist table inet firstboot\n                 ^^^^^^^^^\n"
            .into(),
    };
    let (r, _) = run(true, out);
    assert_eq!(r.status, CheckStatus::Fail);
    assert_eq!(
        r.detail,
        "table inet firstboot is not loaded: Error: No such file or directory"
    );
}

#[test]
fn an_unmanaged_firewall_is_skipped_and_names_the_ports_to_open() {
    let (r, calls) = run(false, exit(0, ""));
    assert_eq!(r.status, CheckStatus::Skipped);
    assert!(r.detail.contains("left as it is"), "{}", r.detail);
    assert!(
        r.detail.ends_with("tcp 22, 25, 465, 587, 993, 995"),
        "{}",
        r.detail
    );
    assert!(calls.is_empty(), "nft is not asked: {calls:?}");
}
