//! A command step with an `undo` (an effect outside the files, such as an nftables table
//! loaded into the kernel), on a host made of fakes: applied once, not again while its
//! file is unchanged; a rollback runs the undo when the file it applied is gone, and
//! the command again when an earlier version of that file is restored.

mod common;
use common::rig::{rig, steps, Rig};
use firstboot::backup::restore;
use firstboot::host::fake::exit;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

const UNDO: &str = "add table inet firstboot; delete table inet firstboot";

/// The file and the command applying it.
fn module(text: &str) -> Vec<Value> {
    vec![
        json!({"file": {"path": "/etc/nftables.d/firstboot.nft", "content": text}}),
        json!({"command": {"argv": ["nft", "-f", "/etc/nftables.d/firstboot.nft"],
            "on_change": ["/etc/nftables.d/firstboot.nft"], "undo": ["nft", UNDO]}}),
    ]
}

/// The module, then a step that fails (an unscripted program exits 127).
fn failing(text: &str) -> Vec<Value> {
    let mut all = module(text);
    all.push(json!({"command": {"argv": ["fail2ban-client", "-t"], "always": true}}));
    all
}

/// Scripts `nft`: each call is kept with the file's contents at that moment.
fn nft(r: &Rig) -> Arc<Mutex<Vec<String>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (log, file) = (seen.clone(), r.path("/etc/nftables.d/firstboot.nft"));
    r.fakes.exec.on(
        "nft",
        Box::new(move |argv, _| {
            let now = std::fs::read_to_string(&file).unwrap_or_else(|_| "(no file)".into());
            log.lock()
                .unwrap()
                .push(format!("{} <{}>", argv[1..].join(" "), now.trim()));
            exit(0, "")
        }),
    );
    seen
}

#[test]
fn an_unchanged_file_is_not_applied_again() {
    let mut r = rig();
    let seen = nft(&r);
    let s = steps(&module("v1\n"));
    r.apply(&s).unwrap();
    let again = r.plan(&s);
    assert!(again.iter().all(|p| !p.change.is_change()), "{again:?}");
    r.apply(&s).unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        ["-f /etc/nftables.d/firstboot.nft <v1>"]
    );
}

#[test]
fn rollback_of_a_first_apply_runs_the_undo_after_the_file_is_removed() {
    let mut r = rig();
    let seen = nft(&r);
    let (_, m) = *r
        .apply(&steps(&failing("v1\n")))
        .expect_err("the last step fails");
    let rep = restore(&r.host, &m);
    assert!(rep.is_complete(), "{}", rep.failures());
    assert!(r.read("/etc/nftables.d/firstboot.nft").is_none());
    assert_eq!(
        *seen.lock().unwrap(),
        [
            "-f /etc/nftables.d/firstboot.nft <v1>".to_string(),
            format!("{UNDO} <(no file)>")
        ]
    );
    assert!(
        rep.done.iter().any(|l| l == &format!("ran nft {UNDO}")),
        "{:?}",
        rep.done
    );
}

#[test]
fn rollback_of_a_change_loads_the_restored_file_again() {
    let mut r = rig();
    let seen = nft(&r);
    r.apply(&steps(&module("v1\n"))).unwrap();
    let (_, m) = *r
        .apply(&steps(&failing("v2\n")))
        .expect_err("the last step fails");
    let rep = restore(&r.host, &m);
    assert!(rep.is_complete(), "{}", rep.failures());
    assert_eq!(
        r.read("/etc/nftables.d/firstboot.nft").as_deref(),
        Some("v1\n")
    );
    assert_eq!(
        *seen.lock().unwrap(),
        [
            "-f /etc/nftables.d/firstboot.nft <v1>",
            "-f /etc/nftables.d/firstboot.nft <v2>",
            "-f /etc/nftables.d/firstboot.nft <v1>"
        ]
    );
}

#[test]
fn an_undo_that_fails_is_reported_and_the_files_are_still_restored() {
    let mut r = rig();
    r.fakes.exec.on(
        "nft",
        Box::new(|argv, _| exit(if argv[1] == "-f" { 0 } else { 1 }, "")),
    );
    let (_, m) = *r
        .apply(&steps(&failing("v1\n")))
        .expect_err("the last step fails");
    let rep = restore(&r.host, &m);
    assert!(r.read("/etc/nftables.d/firstboot.nft").is_none());
    assert_eq!(rep.failed.len(), 1, "{:?}", rep.failed);
    assert_eq!(rep.failed[0].what, format!("command nft {UNDO}"));
}
