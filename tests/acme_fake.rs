//! Provider acme on a host made of fakes: a scripted DNS (does the name resolve here?)
//! and a scripted certbot that signs, with a test CA, a certificate for the key it is
//! given a CSR for. The name resolves → certbot gets the CSR and the CA's certificate
//! is installed; it does not → a self-signed stand-in with the same key and a retry
//! scheduled; `renew` then replaces the stand-in (key unchanged, services reloaded);
//! failures back off 5 minutes, doubling.

mod common;
use common::dns_zone::{serve, Zone};
use common::rig::{rig, steps, Rig};
use firstboot::acme::State;
use firstboot::dns::RType;
use firstboot::host::fake::exit;
use firstboot::host::CommandOutput;
use firstboot::steps::action::ActionStep;
use firstboot::steps::actions::acme_cert::{AcmeCert, Renewal};
use firstboot::steps::StepKind;
use rcgen::{CertificateParams, IsCa, Issuer, KeyPair};
use serde_json::json;
use std::sync::{Arc, Mutex};

const CRT: &str = "/etc/firstboot/ssl/mail.example.test.crt";
const KEY: &str = "/etc/firstboot/ssl/mail.example.test.key";
const CHAIN: &str = "/etc/firstboot/ssl/mail.example.test.chain.pem";
const NAME: &str = "mail.example.test";

fn body() -> serde_json::Value {
    json!({"action": {"acme_cert": {
        "cert": CRT, "key": KEY, "chain": CHAIN, "names": [NAME],
        "directory": "https://acme.test/dir", "email": "admin@example.test",
        "addresses": ["192.0.2.10", ""], "reload": ["postfix", "dovecot"]
    }}})
}

fn action(s: &[StepKind]) -> &AcmeCert {
    match &s[0] {
        StepKind::Action(ActionStep::AcmeCert(a)) => a,
        _ => panic!("not acme_cert"),
    }
}

/// The value after `flag` in a command line.
fn arg<'a>(argv: &'a [String], flag: &str) -> &'a str {
    let i = argv.iter().position(|a| a == flag).unwrap();
    &argv[i + 1]
}

/// A certbot that signs, with a fresh test CA, a certificate for the key in the tree
/// (the CSR's key) and writes it where it is told; `fail` makes it exit 1 instead.
fn certbot(r: &Rig, fail: Arc<Mutex<bool>>) {
    certbot_for(r, fail, Arc::new(Mutex::new(vec![NAME.to_string()])));
}

/// A scripted certbot issuing for the names in `names` (what the test asks for).
fn certbot_for(r: &Rig, fail: Arc<Mutex<bool>>, names: Arc<Mutex<Vec<String>>>) {
    let key_path = r.path(KEY);
    r.fakes.exec.on(
        "certbot",
        Box::new(move |argv: &[String], _| -> CommandOutput {
            if *fail.lock().unwrap() {
                return exit(1, "");
            }
            assert!(std::fs::read_to_string(arg(argv, "--csr"))
                .unwrap()
                .contains("BEGIN CERTIFICATE REQUEST"));
            let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
            ca.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
            ca.distinguished_name
                .push(rcgen::DnType::CommonName, "Test CA");
            let ca_key = KeyPair::generate().unwrap();
            let ca_pem = ca.self_signed(&ca_key).unwrap().pem();
            let key = KeyPair::from_pem(&std::fs::read_to_string(&key_path).unwrap()).unwrap();
            let mut leaf = CertificateParams::new(names.lock().unwrap().clone()).unwrap();
            leaf.distinguished_name
                .push(rcgen::DnType::CommonName, NAME);
            let leaf = leaf
                .signed_by(&key, &Issuer::new(ca, ca_key))
                .unwrap()
                .pem();
            std::fs::write(arg(argv, "--cert-path"), &leaf).unwrap();
            std::fs::write(arg(argv, "--chain-path"), &ca_pem).unwrap();
            std::fs::write(arg(argv, "--fullchain-path"), format!("{leaf}{ca_pem}")).unwrap();
            exit(0, "")
        }),
    );
}

/// A rig whose resolver answers from `zone`.
fn acme_rig(zone: &Zone) -> Rig {
    let r = rig();
    std::fs::write(r.path("/etc/resolv.conf"), "nameserver 192.0.2.53\n").unwrap();
    *r.fakes.net.handler.lock().unwrap() = Some(Arc::new(serve(
        zone.clone(),
        Arc::new(Mutex::new(Vec::new())),
    )));
    r
}

fn self_signed(r: &Rig) -> bool {
    let pem = std::fs::read(r.path(CRT)).unwrap();
    let der = firstboot::tls::parse_chain(&pem).unwrap();
    firstboot::acme::self_signed(der[0].as_ref())
}

fn certbot_calls(r: &Rig) -> Vec<String> {
    let calls = r.fakes.exec.calls();
    calls
        .into_iter()
        .filter(|c| c.starts_with("certbot"))
        .collect()
}

#[test]
fn a_name_that_resolves_here_gets_the_cas_certificate_for_the_kept_key() {
    let zone: Zone = Arc::new(Mutex::new(vec![(NAME, RType::A, "192.0.2.10")]));
    let mut r = acme_rig(&zone);
    certbot(&r, Arc::new(Mutex::new(false)));
    let s = steps(&[body()]);
    let plan = r.plan(&s);
    assert!(
        plan[0]
            .summary
            .starts_with("make a key (ECDSA P-256), then ask https://acme.test/dir"),
        "{plan:?}"
    );
    assert!(certbot_calls(&r).is_empty(), "a plan asked the CA");
    r.apply(&s).unwrap();
    let calls = certbot_calls(&r);
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert!(
        calls[0].contains("certbot certonly --non-interactive --standalone"),
        "{calls:?}"
    );
    assert!(
        calls[0].contains("--csr ") && !calls[0].contains("BEGIN"),
        "{calls:?}"
    );
    assert!(!self_signed(&r));
    assert!(r.read(CHAIN).unwrap().contains("BEGIN CERTIFICATE"));
    assert_eq!(State::load(&r.host.root).failures, 0);
    // A second run leaves the CA alone.
    let p = r.plan(&s);
    assert!(
        p[0].summary
            .starts_with("certificate from the CA valid until"),
        "{p:?}"
    );
    r.apply(&s).unwrap();
    assert_eq!(certbot_calls(&r).len(), 1);
}

#[test]
fn an_unresolved_name_gets_a_stand_in_with_the_key_and_a_retry() {
    let zone: Zone = Arc::new(Mutex::new(vec![(NAME, RType::Aaaa, "2001:db8::99")]));
    let mut r = acme_rig(&zone);
    certbot(&r, Arc::new(Mutex::new(false)));
    let s = steps(&[body()]);
    r.apply(&s).unwrap();
    assert!(
        certbot_calls(&r).is_empty(),
        "the CA was asked for a name that is not here"
    );
    assert!(self_signed(&r));
    assert_eq!(r.read(CRT), r.read(CHAIN));
    let key = r.read(KEY).unwrap();
    assert!(!key.is_empty());
    let st = State::load(&r.host.root);
    assert_eq!(st.failures, 1);
    let wait = st.next_try.unwrap() - st.last_try.unwrap();
    assert_eq!(wait, 300);
    assert!(
        st.last_error.as_deref().unwrap().contains(
            "mail.example.test does not resolve to this host yet (2001:db8::99, not 192.0.2.10)"
        ),
        "{st:?}"
    );
    // What the run prints: a warning, never the key.
    let p = {
        let cx = r.cx();
        let mut run = firstboot::steps::RunState::default();
        let mut b =
            firstboot::backup::Backup::new(r.host.root.clone(), "20260101T000000Z-2", "1-test");
        firstboot::steps::Step::apply(action(&s), &cx, &mut run, &mut b).unwrap()
    };
    assert!(
        p.summary
            .starts_with("WARNING: no certificate from the CA yet"),
        "{p:?}"
    );
    assert!(
        p.summary
            .contains("a self-signed stand-in made with the kept key"),
        "{p:?}"
    );
    assert!(!p.summary.contains("PRIVATE KEY"));
    assert_eq!(r.read(KEY).unwrap(), key, "the key changed");
}

#[test]
fn renew_replaces_the_stand_in_keeps_the_key_and_reloads_what_runs() {
    let zone: Zone = Arc::new(Mutex::new(Vec::new()));
    let mut r = acme_rig(&zone);
    certbot(&r, Arc::new(Mutex::new(false)));
    let s = steps(&[body()]);
    r.apply(&s).unwrap();
    let key = r.read(KEY).unwrap();
    let a = action(&s);
    // 8-dns_config publishes the address.
    zone.lock().unwrap().push((NAME, RType::A, "192.0.2.10"));
    // Within the backoff: nothing asked.
    assert!(matches!(
        a.renew(&r.host, false, false).unwrap(),
        Renewal::Waiting { .. }
    ));
    assert!(certbot_calls(&r).is_empty());
    r.fakes
        .services
        .running
        .lock()
        .unwrap()
        .insert("postfix".into());
    match a.renew(&r.host, false, true).unwrap() {
        Renewal::Installed { reloaded, .. } => assert_eq!(reloaded, ["postfix"]),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        r.fakes.services.actions.lock().unwrap().clone(),
        ["reload postfix"]
    );
    assert!(!self_signed(&r));
    assert_eq!(r.read(KEY).unwrap(), key, "the key changed");
    let st = State::load(&r.host.root);
    assert_eq!((st.failures, st.next_try), (0, None));
    // Done: the next cron run asks nothing.
    assert!(matches!(
        a.renew(&r.host, false, false).unwrap(),
        Renewal::NotDue { .. }
    ));
    assert_eq!(certbot_calls(&r).len(), 1);
    // A run keeps the certificate the retry installed (no drift, no second request).
    let p = r.plan(&s);
    assert!(
        p.iter()
            .all(|x| !matches!(x.change, firstboot::steps::Change::Drift { .. })),
        "renew's certificate taken for a hand edit: {p:?}"
    );
    r.apply(&s).unwrap();
    assert_eq!(certbot_calls(&r).len(), 1);
    assert!(!self_signed(&r));
}

#[test]
fn failures_back_off_five_minutes_doubling() {
    let zone: Zone = Arc::new(Mutex::new(vec![(NAME, RType::A, "192.0.2.10")]));
    let mut r = acme_rig(&zone);
    let fail = Arc::new(Mutex::new(true));
    certbot(&r, fail.clone());
    let s = steps(&[body()]);
    r.apply(&s).unwrap();
    assert!(self_signed(&r), "certbot failed: the stand-in is served");
    let a = action(&s);
    let waits = |r: &Rig| {
        let st = State::load(&r.host.root);
        (st.failures, st.next_try.unwrap() - st.last_try.unwrap())
    };
    assert_eq!(waits(&r), (1, 300));
    assert!(matches!(
        a.renew(&r.host, false, false).unwrap(),
        Renewal::Waiting { .. }
    ));
    assert_eq!(certbot_calls(&r).len(), 1, "asked within the backoff");
    // The wait is over (as cron would find it later).
    for (n, wait) in [(2, 600), (3, 1200)] {
        let mut st = State::load(&r.host.root);
        st.next_try = Some(0);
        st.save(&r.host.root).unwrap();
        assert!(matches!(
            a.renew(&r.host, false, false).unwrap(),
            Renewal::Failed { .. }
        ));
        assert_eq!(waits(&r), (n, wait));
    }
    assert_eq!(certbot_calls(&r).len(), 3);
    *fail.lock().unwrap() = false;
    assert!(matches!(
        a.renew(&r.host, false, true).unwrap(),
        Renewal::Installed { .. }
    ));
    assert!(!self_signed(&r));
}

/// The `acme_certificate` check on the rig's host, as validate runs it.
fn acme_check(r: &Rig) -> firstboot::checks::CheckResult {
    use firstboot::checks::{run_checks, CheckKind, Declared};
    let cx = common::check_cx(&r.host, &r.redactor, std::time::Duration::from_secs(1));
    let k: CheckKind = serde_json::from_value(
        json!({"acme_certificate": {"cert": CRT, "key": KEY, "names": [NAME]}}),
    )
    .unwrap();
    run_checks(&cx, &[Declared::new("ssl.acme", k)], &mut |_| {})[0].clone()
}

#[test]
fn the_check_warns_while_the_stand_in_is_served_and_says_when_the_next_try_is() {
    use firstboot::checks::CheckStatus;
    let zone: Zone = Arc::new(Mutex::new(vec![(NAME, RType::Aaaa, "2001:db8::99")]));
    let mut r = acme_rig(&zone);
    certbot(&r, Arc::new(Mutex::new(false)));
    r.apply(&steps(&[body()])).unwrap();
    let mut st = State::load(&r.host.root);
    let next = st.next_try.unwrap();
    let c = acme_check(&r);
    assert_eq!(c.status, CheckStatus::Warn, "{}", c.detail);
    let want = format!(
        "ACME has not succeeded yet (next try from {}): a self-signed stand-in with the kept key is served (",
        firstboot::tls::fmt_time(next)
    );
    assert!(c.detail.starts_with(&want), "{}", c.detail);
    assert!(
        c.detail
            .contains("days left); 1 failed tries, last: mail.example.test does not resolve"),
        "{}",
        c.detail
    );
    assert!(c.hint.unwrap().contains("firstboot acme renew --now"));
    // The time of the next try has passed: the next cron run tries.
    st.next_try = Some(firstboot::tls::now() - 60);
    st.last_error = None;
    st.save(&r.host.root).unwrap();
    let c = acme_check(&r);
    assert!(
        c.detail.starts_with(
            "ACME has not succeeded yet (next try at the next cron run (every 5 minutes))"
        ),
        "{}",
        c.detail
    );
    assert!(c.detail.ends_with("days left)"), "{}", c.detail);
}

#[test]
fn defaults_name_target_and_next_try_line() {
    let s = steps(&[body()]);
    let a = action(&s);
    assert_eq!((a.group.as_str(), a.renew_days), ("root", 30));
    assert_eq!(
        firstboot::steps::Step::target(a),
        format!("action acme_cert {CRT}")
    );
    // The stand-in's warning says when cron tries again.
    let zone: Zone = Arc::new(Mutex::new(Vec::new()));
    let r = acme_rig(&zone);
    let p = r.plan(&s);
    assert_eq!(p[0].target, format!("action acme_cert {CRT}"));
    let mut r = r;
    r.apply(&s).unwrap();
    let cx = r.cx();
    let mut run = firstboot::steps::RunState::default();
    let mut b = firstboot::backup::Backup::new(r.host.root.clone(), "20260101T000000Z-2", "1-test");
    let p = firstboot::steps::Step::apply(a, &cx, &mut run, &mut b).unwrap();
    let next = State::load(&r.host.root).next_try.unwrap();
    let want = format!(
        "`firstboot acme renew` (cron, /etc/cron.d/firstboot-acme) tries again from {}",
        firstboot::tls::fmt_time(next)
    );
    assert!(p.summary.contains(&want), "{want}: {}", p.summary);
}

#[test]
fn a_run_after_a_renewal_still_replaces_the_certificate_when_the_names_change() {
    let zone: Zone = Arc::new(Mutex::new(Vec::new()));
    let mut r = acme_rig(&zone);
    let names = Arc::new(Mutex::new(vec![NAME.to_string()]));
    certbot_for(&r, Arc::new(Mutex::new(false)), names.clone());
    let s = steps(&[body()]);
    r.apply(&s).unwrap();
    zone.lock().unwrap().push((NAME, RType::A, "192.0.2.10"));
    zone.lock()
        .unwrap()
        .push(("smtp.example.test", RType::A, "192.0.2.10"));
    let renewed = match action(&s).renew(&r.host, true, true).unwrap() {
        Renewal::Installed { .. } => r.read(CRT).unwrap(),
        other => panic!("{other:?}"),
    };
    // renew replaced the certificate between runs: not a hand edit. A run wanting
    // another name asks the CA again and installs what it issues.
    let mut b = body();
    b["action"]["acme_cert"]["names"] = json!([NAME, "smtp.example.test"]);
    *names.lock().unwrap() = vec![NAME.to_string(), "smtp.example.test".to_string()];
    let s2 = steps(&[b]);
    r.apply(&s2).unwrap();
    assert_eq!(certbot_calls(&r).len(), 2);
    let now = r.read(CRT).unwrap();
    assert_ne!(
        now, renewed,
        "the new certificate was left out as a hand edit"
    );
}
