//! `preflight` against a host made of fakes: a scripted DNS zone and SMTP server. Each
//! item's pass and warn shapes: outbound port 25 open or dropped, PTR present, missing
//! or naming another host, the host name resolving here or nowhere, ACME feasibility.

mod common;
use common::dns_zone::{serve, Zone};
use firstboot::checks::{CheckResult, CheckStatus};
use firstboot::dns::RType;
use firstboot::host::fake::{host, Fakes, ScriptedSmtp};
use firstboot::preflight::{preflight, Target};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn target(acme: bool) -> Target {
    Target::from_values(&serde_json::json!({
        "hostname": "mail.example.test",
        "ipv4": "192.0.2.10",
        "ssl": {"provider": if acme { "acme" } else { "self-signed" }},
        "smtp_probe": "example.net",
    }))
}

fn zone(extra: &[(&'static str, RType, &'static str)]) -> Zone {
    let mut z = vec![
        ("example.net", RType::Mx, "10 mx.example.net"),
        ("mx.example.net", RType::A, "192.0.2.20"),
    ];
    z.extend_from_slice(extra);
    Arc::new(Mutex::new(z))
}

fn setup(dir: &std::path::Path, z: Zone) -> (firstboot::host::Host, Fakes) {
    std::fs::create_dir_all(dir.join("etc")).unwrap();
    std::fs::create_dir_all(dir.join("var")).unwrap();
    std::fs::write(dir.join("etc/resolv.conf"), "nameserver 192.0.2.53\n").unwrap();
    let (h, f) = host(dir);
    *f.net.handler.lock().unwrap() = Some(Arc::new(serve(z, Default::default())));
    (h, f)
}

fn find<'a>(rs: &'a [CheckResult], name: &str) -> &'a CheckResult {
    rs.iter()
        .find(|r| r.name.starts_with(name))
        .unwrap_or_else(|| panic!("no {name} in {rs:?}"))
}

#[test]
fn a_host_ready_for_mail_passes() {
    let dir = tempfile::tempdir().unwrap();
    let z = zone(&[
        ("10.2.0.192.in-addr.arpa", RType::Ptr, "mail.example.test"),
        ("mail.example.test", RType::A, "192.0.2.10"),
    ]);
    let (h, f) = setup(dir.path(), z);
    f.net
        .smtp(ScriptedSmtp::new("220 mx.example.net ESMTP", |_| {
            "250 ok".into()
        }));
    let rs = preflight(&h, &target(false), Duration::from_millis(500));
    let out = find(&rs, "outbound port 25");
    assert_eq!(out.status, CheckStatus::Pass, "{}", out.detail);
    assert!(out.detail.contains("192.0.2.20:25"), "{}", out.detail);
    assert_eq!(
        find(&rs, "reverse DNS (PTR) of 192.0.2.10").status,
        CheckStatus::Pass
    );
    assert_eq!(
        find(&rs, "mail.example.test resolves").status,
        CheckStatus::Pass
    );
    assert_eq!(find(&rs, "port 80").status, CheckStatus::Skipped);
    assert_eq!(find(&rs, "ACME feasible").status, CheckStatus::Skipped);
    assert_eq!(
        f.net.smtp_lines(),
        ["QUIT"],
        "nothing but QUIT is said to the probe target"
    );
}

#[test]
fn a_blocked_port_25_no_ptr_and_no_name_warn_saying_what_to_ask() {
    let dir = tempfile::tempdir().unwrap();
    let (h, _f) = setup(dir.path(), zone(&[]));
    // No TCP handler: every connection is refused, as a dropped port 25 would be.
    let rs = preflight(&h, &target(true), Duration::from_millis(500));
    let out = find(&rs, "outbound port 25");
    assert_eq!(out.status, CheckStatus::Warn);
    assert!(
        out.detail
            .contains("ask your provider to open outbound port 25"),
        "{}",
        out.detail
    );
    let ptr = find(&rs, "reverse DNS (PTR) of 192.0.2.10");
    assert_eq!(ptr.status, CheckStatus::Warn);
    assert!(
        ptr.detail
            .contains("ask your provider to set the PTR of 192.0.2.10 to mail.example.test"),
        "{}",
        ptr.detail
    );
    let name = find(&rs, "mail.example.test resolves");
    assert_eq!(name.status, CheckStatus::Warn);
    assert!(
        name.detail
            .contains("publish A/AAAA records mail.example.test -> 192.0.2.10"),
        "{}",
        name.detail
    );
    let acme = find(&rs, "ACME feasible");
    assert_eq!(acme.status, CheckStatus::Warn);
    assert!(
        acme.detail.contains("does not resolve to this host"),
        "{}",
        acme.detail
    );
    assert!(
        rs.iter().all(|r| r.status != CheckStatus::Fail),
        "preflight never fails: {rs:?}"
    );
}

#[test]
fn a_ptr_naming_another_host_warns() {
    let dir = tempfile::tempdir().unwrap();
    let z = zone(&[(
        "10.2.0.192.in-addr.arpa",
        RType::Ptr,
        "host-192-0-2-10.cloud.example",
    )]);
    let (h, _f) = setup(dir.path(), z);
    let rs = preflight(&h, &target(false), Duration::from_millis(500));
    let ptr = find(&rs, "reverse DNS (PTR) of 192.0.2.10");
    assert_eq!(ptr.status, CheckStatus::Warn);
    assert!(
        ptr.detail
            .contains("host-192-0-2-10.cloud.example, not mail.example.test"),
        "{}",
        ptr.detail
    );
}

#[test]
fn an_offline_root_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let h = firstboot::host::Host::new(
        firstboot::host::Root::new(dir.path()),
        firstboot::host::Runner::new(Duration::from_secs(1), Default::default()),
    );
    let rs = preflight(&h, &target(false), Duration::from_millis(100));
    assert!(
        rs.iter().all(|r| r.status == CheckStatus::Skipped),
        "{rs:?}"
    );
}

#[test]
fn the_command_on_an_offline_tree_skips_and_a_bad_config_exits_2() {
    let t = common::Tree::new(common::CONFIG);
    let o = t.fb(&["preflight", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", common::stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&common::stdout(&o)).unwrap();
    assert_eq!(v["warned"], 0);
    assert_eq!(v["checks"][0]["status"], "skipped");
    assert_eq!(v["checks"][0]["id"], "preflight");
    t.write(
        "/etc/firstboot/config.yaml",
        "domain: example.test\nsmtp_probe: [1]\n",
    );
    let o = t.fb(&["preflight"]);
    assert_eq!(o.status.code(), Some(2), "{}", common::stderr(&o));
    assert!(
        common::stderr(&o).contains("smtp_probe"),
        "{}",
        common::stderr(&o)
    );
    // A run on the offline tree (an image build) has no host to look at: no warning.
    t.write("/etc/firstboot/config.yaml", common::CONFIG);
    let o = t.fb(&["run", "--profile", "standard", "--only", "ssl"]);
    assert_eq!(o.status.code(), Some(0), "{}", common::stderr(&o));
    assert!(
        !common::stdout(&o).contains("preflight"),
        "{}",
        common::stdout(&o)
    );
}
