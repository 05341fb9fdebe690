//! Every step kind against a host made of fakes (`firstboot::host::fake`): live for
//! packages, services, accounts, commands and the host name while its files go to a
//! temporary root. Each kind: plan shows a change, apply makes it, a second plan is
//! `none`; and a failure injected at apply rolls the module back to where it started.

mod common;
use common::rig::{rig, steps, Rig};
use firstboot::backup::{restore, BackupManifest};
use firstboot::host::fake::exit;
use firstboot::steps::Change;
use serde_json::{json, Value};
use std::path::Path;

/// plan → apply → plan: the first plan changes something, the second changes nothing.
fn idempotent(r: &mut Rig, bodies: &[Value]) {
    let s = steps(bodies);
    let first = r.plan(&s);
    assert!(
        first.iter().any(|p| p.change.is_change()),
        "nothing to do at first: {first:?}"
    );
    assert!(
        first.iter().all(|p| p.change != Change::Skipped),
        "{first:?}"
    );
    r.apply(&s).unwrap();
    let second = r.plan(&s);
    assert!(
        second.iter().all(|p| p.change == Change::None),
        "second plan is not none: {second:?}"
    );
}

/// A managed file, then `bodies`; applying fails (the caller injected it), the rollback
/// puts /etc/issue and /etc/hosts back and undoes the rest.
fn rolls_back(r: &mut Rig, bodies: &[Value], want_error: &str) -> BackupManifest {
    rolls_back_then(r, bodies, want_error, |_| {})
}

/// As [`rolls_back`], calling `between` after the failure, before the rollback.
fn rolls_back_then(
    r: &mut Rig,
    bodies: &[Value],
    want_error: &str,
    between: impl Fn(&Rig),
) -> BackupManifest {
    let mut all = vec![json!({"file": {"path": "/etc/issue", "content": "firstboot\n"}})];
    all.extend(bodies.iter().cloned());
    let s = steps(&all);
    let (e, m) = *r.apply(&s).expect_err("apply must fail");
    assert!(e.to_string().contains(want_error), "{e}");
    assert_eq!(r.read("/etc/issue").as_deref(), Some("firstboot\n"));
    between(r);
    let rep = restore(&r.host, &m);
    assert!(
        rep.failed.is_empty(),
        "{} restore failure(s)",
        rep.failed.len()
    );
    assert_eq!(r.read("/etc/issue").as_deref(), Some("Debian\n"));
    assert_eq!(
        r.read("/etc/hosts").as_deref(),
        Some("127.0.0.1\tlocalhost\n")
    );
    m
}

fn fail(slot: &std::sync::Mutex<Option<String>>) {
    *slot.lock().unwrap() = Some("injected failure".into());
}

#[test]
fn file_block_directory_plan_apply_plan_and_roll_back() {
    let mut r = rig();
    let bodies = [
        json!({"file": {"path": "/etc/mailname", "content": "example.test\n"}}),
        json!({"block": {"path": "/etc/hosts", "content": "192.0.2.10 mail.example.test mail", "marker": "firstboot"}}),
        json!({"directory": {"path": "/var/spool/fb", "mode": "0750"}}),
    ];
    idempotent(&mut r, &bodies);
    assert_eq!(r.read("/etc/mailname").as_deref(), Some("example.test\n"));
    assert!(r.read("/etc/hosts").unwrap().contains("mail.example.test"));

    let mut r = rig();
    fail(&r.fakes.packages.fail);
    let mut b = bodies.to_vec();
    b.push(json!({"package": {"names": ["postfix"]}}));
    rolls_back(&mut r, &b[1..], "injected failure");
    let mut r2 = rig();
    fail(&r2.fakes.packages.fail);
    rolls_back(&mut r2, &b, "injected failure");
    assert!(
        r2.read("/etc/mailname").is_none(),
        "a created file is removed"
    );
    assert!(
        !r2.path("/var/spool/fb").exists(),
        "a created directory is removed"
    );
}

#[test]
fn package_plan_apply_plan_and_failure() {
    let mut r = rig();
    idempotent(
        &mut r,
        &[json!({"package": {"names": ["postfix", "cron"]}})],
    );
    assert!(r.fakes.packages.installed.lock().unwrap().contains("cron"));
    let mut r = rig();
    fail(&r.fakes.packages.fail);
    rolls_back(
        &mut r,
        &[json!({"package": {"names": ["postfix"]}})],
        "injected failure",
    );
    assert!(r.fakes.packages.installed.lock().unwrap().is_empty());
}

#[test]
fn service_plan_apply_plan_and_a_failure_stops_what_was_started() {
    let mut r = rig();
    idempotent(&mut r, &[json!({"service": {"name": "postfix"}})]);
    assert_eq!(*r.fakes.services.actions.lock().unwrap(), ["start postfix"]);
    assert!(r.fakes.services.enabled.lock().unwrap().contains("postfix"));

    // Started by this module, then a later step fails: the rollback stops it again.
    let mut r = rig();
    r.fakes.exec.on("false", Box::new(|_, _| exit(1, "")));
    let m = rolls_back(
        &mut r,
        &[
            json!({"service": {"name": "postfix"}}),
            json!({"command": {"argv": ["false"], "always": true}}),
        ],
        "exited with 1",
    );
    assert!(m.started.contains("postfix"));
    assert!(r.fakes.services.running.lock().unwrap().is_empty());
    assert_eq!(
        *r.fakes.services.actions.lock().unwrap(),
        ["start postfix", "stop postfix"]
    );

    // A running service notified by a changed file is reloaded, restarted on rollback.
    let mut r = rig();
    r.fakes
        .services
        .running
        .lock()
        .unwrap()
        .insert("postfix".into());
    r.fakes
        .services
        .enabled
        .lock()
        .unwrap()
        .insert("postfix".into());
    fail(&r.fakes.packages.fail);
    rolls_back(
        &mut r,
        &[
            json!({"file": {"path": "/etc/postfix/main.cf", "content": "x\n", "notify": ["postfix"]}}),
            json!({"service": {"name": "postfix"}}),
            json!({"package": {"names": ["postfix"]}}),
        ],
        "injected failure",
    );
    assert_eq!(
        *r.fakes.services.actions.lock().unwrap(),
        ["reload postfix", "restart postfix"]
    );

    let mut r = rig();
    fail(&r.fakes.services.fail);
    rolls_back(
        &mut r,
        &[json!({"service": {"name": "postfix"}})],
        "injected failure",
    );
}

/// groupadd/useradd that write the tree's /etc/group and /etc/passwd, as on a live host.
fn accounts(r: &Rig) {
    let root = r.dir.path().to_path_buf();
    let append = |root: &Path, file: &str, line: String| {
        let p = root.join(file);
        let mut text = std::fs::read_to_string(&p).unwrap();
        text.push_str(&line);
        std::fs::write(p, text).unwrap();
    };
    let rt = root.clone();
    r.fakes.exec.on(
        "groupadd",
        Box::new(move |argv, _| {
            append(
                &rt,
                "etc/group",
                format!("{}:x:990:\n", argv[argv.len() - 1]),
            );
            exit(0, "")
        }),
    );
    r.fakes.exec.on(
        "useradd",
        Box::new(move |argv, _| {
            append(
                &root,
                "etc/passwd",
                format!(
                    "{}:x:990:990::/nonexistent:/usr/sbin/nologin\n",
                    argv[argv.len() - 1]
                ),
            );
            exit(0, "")
        }),
    );
}

#[test]
fn user_and_group_plan_apply_plan_and_failure() {
    let mut r = rig();
    accounts(&r);
    idempotent(
        &mut r,
        &[
            json!({"group": {"name": "opendkim"}}),
            json!({"user": {"name": "opendkim", "group": "opendkim"}}),
        ],
    );
    assert!(r.read("/etc/passwd").unwrap().contains("opendkim:x:990"));
    assert!(r
        .fakes
        .exec
        .calls()
        .iter()
        .any(|c| c.starts_with("useradd --system --gid opendkim")));

    let mut r = rig();
    r.fakes.exec.on("useradd", Box::new(|_, _| exit(9, "")));
    rolls_back(
        &mut r,
        &[json!({"user": {"name": "opendkim", "group": "root"}})],
        "useradd --system",
    );
}

#[test]
fn command_plan_apply_plan_and_its_writes_are_rolled_back() {
    let mut r = rig();
    let root = r.dir.path().to_path_buf();
    r.fakes.exec.on(
        "newaliases",
        Box::new(move |_, _| {
            std::fs::write(root.join("etc/aliases.db"), "db").unwrap();
            exit(0, "")
        }),
    );
    let body = json!({"command": {"argv": ["newaliases"], "creates": "/etc/aliases.db", "writes": ["/etc/aliases.db"]}});
    idempotent(&mut r, std::slice::from_ref(&body));
    assert_eq!(r.read("/etc/aliases.db").as_deref(), Some("db"));

    // The command ran and wrote its file, then a later step failed: both are undone.
    let mut r = rig();
    let root = r.dir.path().to_path_buf();
    r.fakes.exec.on(
        "newaliases",
        Box::new(move |_, _| {
            std::fs::write(root.join("etc/aliases.db"), "db").unwrap();
            exit(0, "")
        }),
    );
    fail(&r.fakes.packages.fail);
    rolls_back(
        &mut r,
        &[body, json!({"package": {"names": ["postfix"]}})],
        "injected failure",
    );
    assert!(r.read("/etc/aliases.db").is_none());

    let mut r = rig();
    rolls_back(
        &mut r,
        &[json!({"command": {"argv": ["postmap", "/etc/x"], "always": true}})],
        "exited with 127",
    );
}

#[test]
fn set_hostname_action_plan_apply_plan_and_rollback_sets_the_old_name() {
    let mut r = rig();
    let body = json!({"action": {"set_hostname": {"name": "mail.example.test"}}});
    idempotent(&mut r, std::slice::from_ref(&body));
    assert_eq!(
        *r.fakes.kernel.hostname.lock().unwrap(),
        "mail.example.test"
    );

    let mut r = rig();
    fail(&r.fakes.packages.fail);
    rolls_back(
        &mut r,
        &[body.clone(), json!({"package": {"names": ["postfix"]}})],
        "injected failure",
    );
    assert_eq!(*r.fakes.kernel.hostname.lock().unwrap(), "debian");

    let mut r = rig();
    fail(&r.fakes.kernel.fail);
    // The kernel still refuses during the rollback: the name never changed, so the
    // rollback does not ask it again and restores everything else.
    rolls_back_then(&mut r, &[body], "cannot set the host name", |_| {});
    assert_eq!(*r.fakes.kernel.hostname.lock().unwrap(), "debian");
}

#[test]
fn key_actions_plan_apply_plan_and_rollback_removes_the_keys() {
    let mut r = rig();
    let bodies = [
        json!({"action": {"dkim_key": {"path": "/etc/opendkim/keys/default.private", "bits": "1024", "owner": "root"}}}),
        json!({"action": {"self_signed_cert": {"cert": "/etc/ssl/fb/cert.pem", "key": "/etc/ssl/fb/key.pem", "names": ["mail.example.test"]}}}),
        json!({"action": {"hold_rule": {"path": "/etc/postfix/firstboot-hold"}}}),
    ];
    idempotent(&mut r, &bodies);
    let rule = r.read("/etc/postfix/firstboot-hold").unwrap();
    assert!(firstboot::hold_rule::secret(&rule).is_some(), "{rule}");
    assert!(r
        .read("/etc/ssl/fb/cert.pem")
        .unwrap()
        .contains("BEGIN CERTIFICATE"));
    assert!(r
        .read("/etc/opendkim/keys/default.private")
        .unwrap()
        .contains("PRIVATE KEY"));

    let mut r = rig();
    fail(&r.fakes.packages.fail);
    let mut b = bodies.to_vec();
    b.push(json!({"package": {"names": ["opendkim"]}}));
    rolls_back(&mut r, &b, "injected failure");
    assert!(r.read("/etc/ssl/fb/key.pem").is_none());
    assert!(r.read("/etc/opendkim/keys/default.private").is_none());
    assert!(r.read("/etc/postfix/firstboot-hold").is_none());
}

#[test]
fn absent_plan_apply_plan_and_rollback_puts_the_file_back() {
    let mut r = rig();
    std::fs::create_dir_all(r.path("/etc/cron.d")).unwrap();
    std::fs::write(r.path("/etc/cron.d/job"), "*/5 * * * * root true\n").unwrap();
    let bodies = [json!({"absent": {"path": "/etc/cron.d/job"}})];
    let p = r.plan(&steps(&bodies));
    assert_eq!(p[0].change, Change::Remove);
    assert_eq!(p[0].target, "absent /etc/cron.d/job");
    idempotent(&mut r, &bodies);
    assert!(r.read("/etc/cron.d/job").is_none());
    assert_eq!(r.plan(&steps(&bodies))[0].summary, "not there");

    let mut r = rig();
    std::fs::create_dir_all(r.path("/etc/cron.d")).unwrap();
    std::fs::write(r.path("/etc/cron.d/job"), "*/5 * * * * root true\n").unwrap();
    fail(&r.fakes.packages.fail);
    let mut b = bodies.to_vec();
    b.push(json!({"package": {"names": ["cron"]}}));
    rolls_back_then(&mut r, &b, "injected failure", |r| {
        assert!(
            r.read("/etc/cron.d/job").is_none(),
            "removed before the failure"
        );
    });
    assert_eq!(
        r.read("/etc/cron.d/job").as_deref(),
        Some("*/5 * * * * root true\n")
    );

    // A directory is not a file to remove; a relative path is refused when built.
    let r = rig();
    std::fs::create_dir_all(r.path("/etc/cron.d")).unwrap();
    let s = steps(&[json!({"absent": {"path": "/etc/cron.d"}})]);
    let mut run = firstboot::steps::RunState::default();
    let e = s[0].step().plan(&r.cx(), &mut run).unwrap_err();
    assert!(e.to_string().contains("/etc/cron.d is a directory"), "{e}");
    let e = firstboot::steps::StepKind::from_body(&json!({"absent": {"path": "cron.d/job"}}));
    assert!(e
        .unwrap_err()
        .to_string()
        .contains("must be an absolute file path"));
}
