//! Checks against a host made of fakes: the `records` check asks a scripted DNS server
//! through the host's network seam (pass, pending, fail, and a server that cannot be
//! asked), and a `command` or `listen` check that settles is retried only when a
//! service was (re)started, through the one `run_checks`.

use firstboot::checks::{run_checks, CheckCx, CheckKind, CheckStatus, Declared, Retry};
mod common;
use common::dns_zone::{serve, Zone};
use firstboot::dns::{RType, Rendered};
use firstboot::host::fake::{exit, host};
use firstboot::redact::Redactor;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn records_check() -> Vec<Declared> {
    let rec = |name: &str, t: &str, v: &str| {
        let r: Rendered =
            serde_json::from_value(json!({"enabled": "true", "name": name, "type": t, "value": v}))
                .unwrap();
        r.typed().unwrap().unwrap()
    };
    let mut check: CheckKind =
        serde_json::from_value(json!({"records": {"server": "192.0.2.53"}})).unwrap();
    // What building the module does: the module's typed records go to the check.
    *check.records_slot().unwrap() = vec![
        rec("example.test", "MX", "10 mail.example.test"),
        rec("example.test", "TXT", "v=spf1 mx -all"),
    ];
    vec![Declared::new("records", check)]
}

fn cx<'a>(h: &'a firstboot::host::Host, r: &'a Redactor, retry: Retry) -> CheckCx<'a> {
    CheckCx {
        host: h,
        redactor: r,
        timeout: Duration::from_millis(200),
        retry,
        answers: Default::default(),
    }
}

#[test]
fn records_check_asks_the_server_through_the_host_network() {
    let dir = tempfile::tempdir().unwrap();
    let (h, fakes) = host(dir.path());
    let redactor = Redactor::default();
    let checks = records_check();
    let run = || run_checks(&cx(&h, &redactor, Retry::NONE), &checks, &mut |_| {})[0].clone();

    // Nobody answers: pending, never a failure (a resolver says nothing of our records).
    let r = run();
    assert_eq!(r.status, CheckStatus::Pending, "{}", r.detail);
    assert!(
        r.detail
            .starts_with("cannot resolve: no answer from 192.0.2.53"),
        "{}",
        r.detail
    );

    let zone: Zone = Arc::new(Mutex::new(vec![
        ("example.test", RType::Mx, "10 mail.example.test"),
        ("example.test", RType::Txt, "google-site-verification=abc"),
    ]));
    let asked = Arc::new(Mutex::new(Vec::new()));
    *fakes.net.handler.lock().unwrap() = Some(Arc::new(serve(zone.clone(), asked.clone())));
    let r = run();
    assert_eq!(r.status, CheckStatus::Pending, "{}", r.detail);
    assert!(r.detail.contains("1 of 2 ok"), "{}", r.detail);
    assert!(
        r.detail
            .contains("TXT example.test. (v=spf1): not visible yet"),
        "{}",
        r.detail
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

    zone.lock()
        .unwrap()
        .push(("example.test", RType::Txt, "v=spf1 mx -all"));
    let r = run();
    assert_eq!(r.status, CheckStatus::Pass, "{}", r.detail);
    assert_eq!(r.name, "DNS records at 192.0.2.53");

    zone.lock().unwrap()[0].2 = "10 other.test";
    let r = run();
    assert_eq!(r.status, CheckStatus::Fail, "{}", r.detail);
    assert!(
        r.detail.contains("server has 3600 10 other.test."),
        "{}",
        r.detail
    );
}

#[test]
fn a_settling_command_check_is_retried_after_a_restart_only() {
    let dir = tempfile::tempdir().unwrap();
    let (h, fakes) = host(dir.path());
    let tries = Arc::new(Mutex::new(0));
    let t = tries.clone();
    fakes.exec.on(
        "swaks",
        Box::new(move |_, _| {
            let mut n = t.lock().unwrap();
            *n += 1;
            exit(if *n >= 3 { 0 } else { 1 }, "")
        }),
    );
    let checks = vec![Declared::new(
        "smtp",
        serde_json::from_value(
            json!({"command": {"argv": ["swaks", "--server", "127.0.0.1"], "name": "smtp answers"}}),
        )
        .unwrap(),
    )];
    let redactor = Redactor::default();
    let once = run_checks(&cx(&h, &redactor, Retry::NONE), &checks, &mut |_| {});
    assert_eq!(once[0].status, CheckStatus::Fail);
    assert!(
        once[0].detail.contains("exit 1, expected exit 0"),
        "{}",
        once[0].detail
    );
    let retry = Retry {
        retries: 5,
        delay: Duration::from_millis(1),
    };
    let again = run_checks(&cx(&h, &redactor, retry), &checks, &mut |_| {});
    assert_eq!(again[0].status, CheckStatus::Pass, "{}", again[0].detail);
    assert_eq!(*tries.lock().unwrap(), 3);
}

#[test]
fn a_wrong_record_is_not_retried_it_does_not_settle() {
    let dir = tempfile::tempdir().unwrap();
    let (h, fakes) = host(dir.path());
    let zone: Zone = Arc::new(Mutex::new(vec![
        ("example.test", RType::Mx, "10 other.test"),
        ("example.test", RType::Txt, "v=spf1 mx -all"),
    ]));
    let asked = Arc::new(Mutex::new(Vec::new()));
    *fakes.net.handler.lock().unwrap() = Some(Arc::new(serve(zone, asked.clone())));
    let redactor = Redactor::default();
    let retry = Retry {
        retries: 3,
        delay: Duration::from_millis(1),
    };
    let r = run_checks(&cx(&h, &redactor, retry), &records_check(), &mut |_| {});
    assert_eq!(r[0].status, CheckStatus::Fail, "{}", r[0].detail);
    assert_eq!(
        asked.lock().unwrap().len(),
        2,
        "asked once per record set, not retried"
    );
}

fn command(body: serde_json::Value) -> Vec<Declared> {
    vec![Declared::new(
        "command",
        serde_json::from_value(json!({ "command": body })).unwrap(),
    )]
}

#[test]
fn command_check_output_conditions_and_a_bounded_retry() {
    let dir = tempfile::tempdir().unwrap();
    let (h, fakes) = host(dir.path());
    fakes.exec.on(
        "postconf",
        Box::new(|_, _| exit(0, "smtpd_tls_security_level = may\n")),
    );
    let redactor = Redactor::default();
    let run = |c: &[Declared], retry| run_checks(&cx(&h, &redactor, retry), c, &mut |_| {});
    let contains = |t: &str| command(json!({"argv": ["postconf"], "stdout_contains": t}));
    assert_eq!(
        run(&contains("= may"), Retry::NONE)[0].status,
        CheckStatus::Pass
    );
    let r = run(&contains("= encrypt"), Retry::NONE);
    assert_eq!(r[0].status, CheckStatus::Fail);
    assert!(
        r[0].detail
            .contains("output does not contain \"= encrypt\""),
        "{}",
        r[0].detail
    );
    let equals = |t: &str| command(json!({"argv": ["postconf"], "stdout_equals": t}));
    let r = run(&equals("smtpd_tls_security_level = may"), Retry::NONE);
    assert_eq!(r[0].status, CheckStatus::Pass, "{}", r[0].detail);
    let r = run(&equals("smtpd_tls_security_level = none"), Retry::NONE);
    assert_eq!(r[0].status, CheckStatus::Fail);
    assert!(r[0]
        .detail
        .starts_with("output is \"smtpd_tls_security_level = may\""));

    // A check that never passes is tried once plus the retries, no more.
    fakes.exec.on("false", Box::new(|_, _| exit(1, "")));
    let before = fakes.exec.calls().len();
    let retry = Retry {
        retries: 2,
        delay: Duration::from_millis(1),
    };
    let r = run(&command(json!({"argv": ["false"]})), retry);
    assert_eq!(r[0].status, CheckStatus::Fail);
    assert_eq!(fakes.exec.calls().len() - before, 3);
}

#[test]
fn file_check_defaults_to_exists_and_compares_the_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let (h, _) = host(dir.path());
    std::fs::write(dir.path().join("k"), "x").unwrap();
    std::fs::set_permissions(dir.path().join("k"), std::fs::Permissions::from_mode(0o640)).unwrap();
    let redactor = Redactor::default();
    let file = |b: serde_json::Value| -> Vec<Declared> {
        vec![Declared::new(
            "file",
            serde_json::from_value(json!({ "file": b })).unwrap(),
        )]
    };
    let run = |c: &[Declared]| run_checks(&cx(&h, &redactor, Retry::NONE), c, &mut |_| {});
    let r = run(&file(json!({"path": "/absent"})));
    assert_eq!(
        (r[0].status, r[0].detail.as_str()),
        (CheckStatus::Fail, "does not exist")
    );
    assert_eq!(
        run(&file(json!({"path": "/k", "mode": "0640"})))[0].status,
        CheckStatus::Pass
    );
    let r = run(&file(json!({"path": "/k", "mode": "0600"})));
    assert_eq!(r[0].status, CheckStatus::Fail);
    assert_eq!(r[0].detail, "mode is 0640, expected 0600");
}

#[test]
fn a_listen_check_waits_for_a_daemon_still_binding_its_port() {
    let dir = tempfile::tempdir().unwrap();
    let (h, _fakes) = host(dir.path());
    let r = Redactor::default();
    // A free port, bound 300 ms after the check starts (a daemon just restarted).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let daemon = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        let l = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
        std::thread::sleep(Duration::from_secs(2));
        drop(l);
    });
    let check: CheckKind =
        serde_json::from_value(json!({"listen": {"name": "the daemon listens", "port": port}}))
            .unwrap();
    let retry = Retry {
        retries: 30,
        delay: Duration::from_millis(100),
    };
    let got = run_checks(
        &cx(&h, &r, retry),
        &[Declared::new("daemon.listening", check)],
        &mut |_| {},
    );
    assert_eq!(got[0].status, CheckStatus::Pass, "{}", got[0].detail);
    daemon.join().unwrap();
}

#[test]
fn a_live_hosts_checks_run_at_the_same_time() {
    // Each of two checks waits (at most 5 s) for the other to have started: run one after
    // another, the first would give up and fail; run together, both pass.
    let dir = tempfile::tempdir().unwrap();
    let (h, fakes) = host(dir.path());
    let r = Redactor::default();
    let started = Arc::new((Mutex::new(0u32), std::sync::Condvar::new()));
    fakes.exec.on(
        "rendezvous",
        Box::new(move |_, _| {
            let (count, cv) = &*started;
            let mut n = count.lock().unwrap();
            *n += 1;
            cv.notify_all();
            let (n, _) = cv
                .wait_timeout_while(n, Duration::from_secs(5), |n| *n < 2)
                .unwrap();
            exit(if *n >= 2 { 0 } else { 1 }, "")
        }),
    );
    let check = |id: &str| {
        Declared::new(
            id,
            serde_json::from_value(json!({"command": {"argv": ["rendezvous", id]}})).unwrap(),
        )
    };
    let got = run_checks(
        &cx(&h, &r, Retry::NONE),
        &[check("a"), check("b")],
        &mut |_| {},
    );
    assert_eq!(
        got.iter().map(|r| r.status).collect::<Vec<_>>(),
        [CheckStatus::Pass, CheckStatus::Pass],
        "{got:?}"
    );
}

/// Which kinds talk to a daemon as a client does (`probes`: a run that changed nothing
/// skips them, so it leaves no line in a daemon's log) and which may fail for a moment
/// after a service restart (`settles`: retried then), from minimal declarations.
#[test]
fn checks_that_talk_to_daemons_probe_and_those_that_wait_on_them_settle() {
    let kinds = [
        (json!({"file": {"path": "/etc/x"}}), false, false),
        (
            json!({"command": {"argv": ["postfix", "check"]}}),
            false,
            true,
        ),
        (json!({"listen": {"name": "n", "port": 25}}), false, true),
        (
            json!({"dane": {"host": "mail.example.test", "cert": "/c.pem", "enabled": "true"}}),
            true,
            true,
        ),
        (
            json!({"smtp": {"probe": "banner", "address": "192.0.2.10", "hostname": "mail.example.test"}}),
            true,
            true,
        ),
        (
            json!({"tls": {"name": "n", "port": 993, "host_name": "mail.example.test",
                "cert": "/c.pem", "service": "dovecot"}}),
            true,
            true,
        ),
        (
            json!({"mail_loopback": {"from": "a@example.test", "to": "b@example.test",
                "hold_file": "/etc/postfix/firstboot-hold", "hostname": "mail.example.test"}}),
            true,
            true,
        ),
    ];
    for (k, probes, settles) in kinds {
        let kind: CheckKind = serde_json::from_value(k.clone()).unwrap();
        let c = kind.check();
        assert_eq!((c.probes(), c.settles()), (probes, settles), "{k}");
    }
    // An SMTP check without a port asks port 25.
    let smtp: firstboot::checks::smtp::SmtpCheck = serde_json::from_value(
        json!({"probe": "open_relay", "address": "192.0.2.10", "hostname": "mail.example.test"}),
    )
    .unwrap();
    assert_eq!(smtp.port, 25);
}
