//! `publish_records` on a host made of fakes: it plans by asking the server through the
//! host's network (nothing to send when the server already answers our records; an
//! update listing what differs otherwise), and a refused update fails the step, so the
//! module rolls back.

mod common;
use common::dns_zone::{serve, Zone};
use common::rig::{rig, steps, Rig};
use firstboot::backup::restore;
use firstboot::dns::decl::Rendered;
use firstboot::dns::RType;
use firstboot::steps::{Change, StepKind};
use serde_json::json;
use std::sync::{Arc, Mutex};

fn publish(r: &Rig) -> Vec<StepKind> {
    std::fs::create_dir_all(r.path("/etc/firstboot")).unwrap();
    std::fs::write(
        r.path("/etc/firstboot/tsig.key"),
        "c2VjcmV0LXNlY3JldC1zZWNyZXQ=\n",
    )
    .unwrap();
    let mut s = steps(&[
        json!({"file": {"path": "/etc/issue", "content": "firstboot\n"}}),
        json!({"action": {"publish_records": {
            "server": "192.0.2.53", "zone": "example.test", "tsig_name": "firstboot",
            "tsig_secret_file": "/etc/firstboot/tsig.key"
        }}}),
    ]);
    let slot = s[1]
        .records_slot()
        .expect("publish_records takes the records");
    for (t, v) in [("MX", "10 mail.example.test"), ("TXT", "v=spf1 mx -all")] {
        let rendered: Rendered = serde_json::from_value(
            json!({"enabled": "true", "name": "example.test", "type": t, "value": v}),
        )
        .unwrap();
        slot.push(rendered.typed().unwrap().unwrap());
    }
    s
}

#[test]
fn publish_plans_through_the_network_and_a_refused_update_rolls_back() {
    let mut r = rig();
    let s = publish(&r);
    let zone: Zone = Arc::new(Mutex::new(vec![
        ("example.test", RType::Mx, "10 mail.example.test"),
        ("example.test", RType::Txt, "v=spf1 mx -all"),
    ]));
    let asked = Arc::new(Mutex::new(Vec::new()));
    *r.fakes.net.handler.lock().unwrap() = Some(Arc::new(serve(zone.clone(), asked.clone())));

    // The server already answers exactly our records: nothing to send.
    let p = r.plan(&s[1..]);
    assert_eq!(p[0].change, Change::None, "{p:?}");
    assert!(
        p[0].summary.contains("already answers all 2 record sets"),
        "{p:?}"
    );
    // Asked at once (compare's questions run concurrently): in any order.
    let mut seen = asked.lock().unwrap().clone();
    seen.sort();
    assert_eq!(
        seen,
        [
            "Udp 192.0.2.53:53 MX example.test.",
            "Udp 192.0.2.53:53 TXT example.test."
        ]
    );

    // The SPF record differs: an update replacing it, which the server refuses.
    zone.lock().unwrap()[1].2 = "v=spf1 -all";
    let p = r.plan(&s[1..]);
    assert!(matches!(p[0].change, Change::Update { .. }), "{p:?}");
    assert!(p[0].summary.contains("replace 1 of 2 record sets"), "{p:?}");
    let (e, m) = *r.apply(&s).expect_err("a refused update fails the step");
    let e = e.to_string();
    assert!(e.contains("update refused by 192.0.2.53: NOTAUTH"), "{e}");
    assert!(!e.contains("c2VjcmV0"), "{e}");
    assert!(asked
        .lock()
        .unwrap()
        .iter()
        .any(|a| a == "Tcp 192.0.2.53:53 UPDATE example.test."));
    assert_eq!(r.read("/etc/issue").as_deref(), Some("firstboot\n"));
    assert!(restore(&r.host, &m).failed.is_empty());
    assert_eq!(r.read("/etc/issue").as_deref(), Some("Debian\n"));
}

/// The plan lines, word for word: what the server already answers, what an update
/// would replace, and a record computed from a file that does not exist yet (pending).
#[test]
fn publish_plan_lines_count_record_sets_and_pending_records() {
    let r = rig();
    let mut s = publish(&r);
    let zone: Zone = Arc::new(Mutex::new(vec![
        ("example.test", RType::Mx, "10 mail.example.test"),
        ("example.test", RType::Txt, "v=spf1 mx -all"),
    ]));
    let asked = Arc::new(Mutex::new(Vec::new()));
    *r.fakes.net.handler.lock().unwrap() = Some(Arc::new(serve(zone.clone(), asked)));
    let p = r.plan(&s[1..]);
    assert_eq!(
        p[0].target,
        "action publish_records (example.test at 192.0.2.53)"
    );
    assert_eq!(
        p[0].summary,
        "192.0.2.53 already answers all 2 record sets of zone example.test"
    );

    // A DKIM record whose key file does not exist yet: pending, said after the rest.
    let rendered: Rendered = serde_json::from_value(json!({"enabled": "true",
        "name": "s1._domainkey.example.test", "type": "TXT",
        "dkim_key": "/etc/opendkim/keys/s1.private"}))
    .unwrap();
    s[1].records_slot()
        .unwrap()
        .push(rendered.typed().unwrap().unwrap());
    let p = r.plan(&s[1..]);
    assert_eq!(p[0].change, Change::None, "{p:?}");
    assert_eq!(
        p[0].summary,
        "192.0.2.53 already answers all 2 record sets of zone example.test; 1 pending until the file it is computed from exists"
    );
    zone.lock().unwrap()[1].2 = "v=spf1 -all";
    let p = r.plan(&s[1..]);
    assert_eq!(
        p[0].summary,
        "update zone example.test at 192.0.2.53 signed with key firstboot: replace 1 of 2 record sets; 1 pending until the file it is computed from exists"
    );
}
