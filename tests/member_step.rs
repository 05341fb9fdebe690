//! The `member` step kind: plan → apply → plan is `none` the second time, on a host of
//! fakes (through `usermod -a -G`) and on an offline root (the tree's /etc/group edited,
//! and put back by a rollback).

use firstboot::backup::{restore, Backup};
use firstboot::host::fake::{exit, host};
use firstboot::host::{Host, Root, Runner};
use firstboot::redact::Redactor;
use firstboot::render::Templates;
use firstboot::steps::{Change, RunState, StepCx, StepKind};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;

const GROUP: &str = "root:x:0:\nopendkim:x:990:\npostfix:x:991:\n";

fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("etc")).unwrap();
    std::fs::write(dir.path().join("etc/group"), GROUP).unwrap();
    dir
}

fn group_file(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("etc/group")).unwrap()
}

fn step() -> StepKind {
    StepKind::from_body(&json!({"member": {"user": "postfix", "group": "opendkim"}})).unwrap()
}

/// Plan, apply, plan again; the two plans' changes and the backup.
fn cycle(h: &Host) -> (Change, Change, firstboot::backup::BackupManifest) {
    let (t, r, c, l) = (
        Templates::new(&[]).unwrap(),
        Redactor::default(),
        json!({}),
        BTreeMap::new(),
    );
    let cx = StepCx {
        host: h,
        templates: &t,
        module_id: "9-mail_config",
        ctx: &c,
        redactor: &r,
        last_managed: &l,
        overwrite: false,
    };
    let s = step();
    let first = s.step().plan(&cx, &mut RunState::default()).unwrap().change;
    let mut b = Backup::new(h.root.clone(), "20260101T000000Z-1", "9-mail_config");
    s.step()
        .apply(&cx, &mut RunState::default(), &mut b)
        .unwrap();
    let second = s.step().plan(&cx, &mut RunState::default()).unwrap().change;
    (first, second, b.manifest().clone())
}

#[test]
fn on_a_live_host_usermod_adds_the_member_once() {
    let dir = tree();
    let (h, fakes) = host(dir.path());
    let root = dir.path().to_path_buf();
    fakes.exec.on(
        "usermod",
        Box::new(move |argv, _| {
            let text = group_file(&root)
                .replace("opendkim:x:990:", &format!("opendkim:x:990:{}", argv[4]));
            std::fs::write(root.join("etc/group"), text).unwrap();
            exit(0, "")
        }),
    );
    let (first, second, _) = cycle(&h);
    assert_eq!(first, Change::Act);
    assert_eq!(second, Change::None);
    assert_eq!(fakes.exec.calls(), ["usermod -a -G opendkim postfix"]);
}

#[test]
fn on_an_offline_root_the_trees_group_file_is_edited_and_rolled_back() {
    let dir = tree();
    let h = Host::new(
        Root::new(dir.path()),
        Runner::new(std::time::Duration::from_secs(5), Redactor::default()),
    );
    let (first, second, backup) = cycle(&h);
    assert!(
        matches!(first, Change::Update { diff: Some(ref d) } if d.contains("+opendkim:x:990:postfix")),
        "{first:?}"
    );
    assert_eq!(second, Change::None);
    assert!(group_file(dir.path()).contains("opendkim:x:990:postfix\n"));
    let rep = restore(&h, &backup);
    assert!(rep.failed.is_empty());
    assert_eq!(
        group_file(dir.path()),
        GROUP,
        "the rollback puts /etc/group back"
    );
}
