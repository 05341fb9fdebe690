//! The `sasl_passwd` action on a host made of fakes: the table is written 0600 and
//! postmap'd into a 0600 map, a second plan is `none`, a changed password is an update
//! whose contents are never shown, nothing of it reaches the drift state, and a failure
//! later in the module rolls both files back.

mod common;
use common::rig::{rig, steps, Rig};
use firstboot::backup::restore;
use firstboot::host::fake::exit;
use firstboot::steps::Change;
use serde_json::{json, Value};
use std::os::unix::fs::PermissionsExt;

const PASSWORD: &str = "correct-horse-battery";

fn body() -> Value {
    json!({"action": {"sasl_passwd": {
        "path": "/etc/postfix/sasl_passwd",
        "next_hop": "[smtp.example.net]:465",
        "username": "me@example.test",
        "password_file": "/etc/firstboot/relay.password",
        "input": "mail.relay.password_file",
        "notify": ["postfix"],
    }}})
}

/// A rig with the password file and a postmap that fills the map it is given (as the
/// real one does: into the existing file, keeping its mode).
fn relay_rig(password: &str) -> Rig {
    let r = rig();
    std::fs::create_dir_all(r.path("/etc/firstboot")).unwrap();
    std::fs::create_dir_all(r.path("/etc/postfix")).unwrap();
    std::fs::write(
        r.path("/etc/firstboot/relay.password"),
        format!("{password}\n"),
    )
    .unwrap();
    r.fakes.exec.on(
        "postmap",
        Box::new(|argv, _| {
            let table = argv[1].strip_prefix("hash:").unwrap();
            let src = std::fs::read(table).unwrap();
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(format!("{table}.db"))
                .unwrap();
            std::io::Write::write_all(&mut f, &src).unwrap();
            exit(0, "")
        }),
    );
    r
}

fn mode(r: &Rig, p: &str) -> u32 {
    std::fs::metadata(r.path(p)).unwrap().permissions().mode() & 0o7777
}

#[test]
fn written_private_postmapped_then_unchanged() {
    let mut r = relay_rig(PASSWORD);
    let s = steps(&[body()]);
    let first = r.plan(&s);
    assert!(
        matches!(first[0].change, Change::Create { diff: None }),
        "{first:?}"
    );
    assert!(first[0].hidden, "the contents are withheld");
    let shown = serde_json::to_string(&first).unwrap() + &first[0].summary;
    assert!(!shown.contains(PASSWORD), "{shown}");

    r.apply(&s).unwrap();
    assert_eq!(
        r.read("/etc/postfix/sasl_passwd").unwrap().lines().last(),
        Some(format!("[smtp.example.net]:465 me@example.test:{PASSWORD}").as_str())
    );
    assert_eq!(mode(&r, "/etc/postfix/sasl_passwd"), 0o600);
    assert_eq!(mode(&r, "/etc/postfix/sasl_passwd.db"), 0o600);
    let table = r.path("/etc/postfix/sasl_passwd").display().to_string();
    assert_eq!(r.fakes.exec.calls(), vec![format!("postmap hash:{table}")]);
    assert!(
        r.last.keys().all(|k| !k.contains("sasl_passwd")),
        "nothing of the table in the drift state: {:?}",
        r.last
    );

    let second = r.plan(&s);
    assert_eq!(second[0].change, Change::None, "{second:?}");

    // A map someone made readable is put back to 0600.
    std::fs::set_permissions(
        r.path("/etc/postfix/sasl_passwd.db"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let p = r.plan(&s);
    assert!(p[0].summary.contains("map mode not 0600"), "{p:?}");
    r.apply(&s).unwrap();
    assert_eq!(mode(&r, "/etc/postfix/sasl_passwd.db"), 0o600);
}

#[test]
fn a_new_password_is_a_hidden_update() {
    let mut r = relay_rig(PASSWORD);
    let s = steps(&[body()]);
    r.apply(&s).unwrap();
    std::fs::write(r.path("/etc/firstboot/relay.password"), "another-pass-42\n").unwrap();
    let p = r.plan(&s);
    assert!(
        matches!(p[0].change, Change::Update { diff: None }),
        "{p:?}"
    );
    assert!(p[0].summary.contains("credentials changed"), "{p:?}");
    assert!(!p[0].summary.contains("another-pass-42"));
    r.apply(&s).unwrap();
    assert!(r
        .read("/etc/postfix/sasl_passwd")
        .unwrap()
        .contains("me@example.test:another-pass-42"));
}

#[test]
fn a_later_failure_rolls_the_credentials_back() {
    let mut r = relay_rig(PASSWORD);
    *r.fakes.packages.fail.lock().unwrap() = Some("injected failure".into());
    let s = steps(&[body(), json!({"package": {"names": ["postfix"]}})]);
    let (e, m) = *r.apply(&s).expect_err("apply must fail");
    assert!(e.to_string().contains("injected failure"), "{e}");
    assert!(r.read("/etc/postfix/sasl_passwd").is_some());
    let rep = restore(&r.host, &m);
    assert!(rep.failed.is_empty());
    assert!(r.read("/etc/postfix/sasl_passwd").is_none());
    assert!(!r.path("/etc/postfix/sasl_passwd.db").exists());
}

#[test]
fn a_failing_postmap_fails_the_step() {
    let mut r = relay_rig(PASSWORD);
    r.fakes.exec.on("postmap", Box::new(|_, _| exit(1, "")));
    let s = steps(&[body()]);
    let (e, _) = *r.apply(&s).expect_err("postmap failed");
    assert!(e.to_string().contains("postmap"), "{e}");
    assert!(!e.to_string().contains(PASSWORD));
}

/// Set a file's mtime, `secs` after the epoch.
fn set_mtime(r: &Rig, p: &str, secs: u64) {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
    std::fs::File::options()
        .write(true)
        .open(r.path(p))
        .unwrap()
        .set_modified(t)
        .unwrap();
}

/// What the plan says is out of date, word for word: a map older than its table is
/// postmapped again; one as old as its table (the same clock tick) is up to date.
#[test]
fn the_plan_names_what_is_out_of_date() {
    let mut r = relay_rig(PASSWORD);
    let s = steps(&[body()]);
    r.apply(&s).unwrap();
    let (table, map) = ("/etc/postfix/sasl_passwd", "/etc/postfix/sasl_passwd.db");
    set_mtime(&r, table, 1_700_000_000);
    set_mtime(&r, map, 1_700_000_000);
    let p = r.plan(&s);
    assert_eq!(p[0].target, format!("action sasl_passwd {table}"));
    assert_eq!(p[0].change, Change::None, "{p:?}");
    assert_eq!(p[0].summary, "unchanged");

    set_mtime(&r, map, 1_699_999_999);
    let p = r.plan(&s);
    assert!(
        matches!(p[0].change, Change::Update { diff: None }),
        "{p:?}"
    );
    assert_eq!(
        p[0].summary,
        format!("map older than the table: write (0600 root:root) and postmap {map}")
    );

    std::fs::set_permissions(r.path(table), std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::set_permissions(r.path(map), std::fs::Permissions::from_mode(0o640)).unwrap();
    set_mtime(&r, map, 1_700_000_000);
    let p = r.plan(&s);
    assert_eq!(
        p[0].summary,
        format!("table mode not 0600, map mode not 0600: write (0600 root:root) and postmap {map}")
    );
    r.apply(&s).unwrap();
    assert_eq!((mode(&r, table), mode(&r, map)), (0o600, 0o600));

    std::fs::remove_file(r.path(map)).unwrap();
    let p = r.plan(&s);
    assert_eq!(
        p[0].summary,
        format!("map missing: write (0600 root:root) and postmap {map}")
    );
}
