//! `backup` on its own, against a host made of fakes: backups are private, and what a
//! rollback does when the file system gets in its way (no room for a temp copy beside
//! the file, a path that cannot even be looked at), what it leaves alone and what it
//! reports.

use firstboot::backup::{restore, Backup, BackupManifest};
use firstboot::host::fake::host;
use firstboot::host::Host;
use std::path::Path;

fn tree() -> (tempfile::TempDir, Host) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("etc")).unwrap();
    std::fs::write(dir.path().join("etc/hosts"), "127.0.0.1\tlocalhost\n").unwrap();
    let (h, _fakes) = host(dir.path());
    (dir, h)
}

/// Record `paths` as they are now, as a module does before changing them.
fn recorded(h: &Host, paths: &[&str]) -> BackupManifest {
    let mut b = Backup::new(h.root.clone(), "20260101T000000Z-1", "1-test");
    for p in paths {
        b.record_file(p).unwrap();
    }
    b.manifest().clone()
}

#[test]
fn a_file_is_rewritten_in_place_when_no_temp_copy_can_be_made_beside_it() {
    let (dir, h) = tree();
    let hosts = dir.path().join("etc/hosts");
    let m = recorded(&h, &["/etc/hosts"]);
    std::fs::write(&hosts, "192.0.2.1 written.example.test\n").unwrap();
    // What stands where the temp copy would go (as on a full file system) cannot be
    // replaced by a file: the atomic write fails, the in-place rewrite must not.
    let blocker = dir
        .path()
        .join(format!("etc/.hosts.firstboot-{}", std::process::id()));
    std::fs::create_dir(&blocker).unwrap();
    std::fs::write(blocker.join("keep"), "x").unwrap();
    let rep = restore(&h, &m);
    assert!(rep.is_complete(), "{}", rep.failures());
    assert_eq!(
        std::fs::read_to_string(&hosts).unwrap(),
        "127.0.0.1\tlocalhost\n"
    );
    assert!(
        rep.done.contains(&"restored /etc/hosts".to_string()),
        "{:?}",
        rep.done
    );
}

#[test]
fn a_path_that_cannot_be_looked_at_is_reported_with_the_reason() {
    let (dir, h) = tree();
    let m = recorded(&h, &["/etc/new/x.conf", "/etc/hosts"]);
    std::fs::write(dir.path().join("etc/hosts"), "changed\n").unwrap();
    // Something put a plain file where the directory of the created file would be.
    std::fs::write(dir.path().join("etc/new"), "not a directory\n").unwrap();
    let rep = restore(&h, &m);
    assert_eq!(rep.failed.len(), 1, "{:?}", rep.failed);
    let f = &rep.failed[0];
    assert_eq!(f.what, "/etc/new/x.conf");
    assert!(
        f.reason.contains("cannot stat") && f.reason.contains(&*dir.path().to_string_lossy()),
        "the reason says what failed where: {}",
        f.reason
    );
    assert!(
        rep.failures().starts_with("/etc/new/x.conf: cannot stat"),
        "{}",
        rep.failures()
    );
    // The rest was restored all the same.
    assert_eq!(
        std::fs::read_to_string(dir.path().join("etc/hosts")).unwrap(),
        "127.0.0.1\tlocalhost\n"
    );
    assert!(
        Path::new(&dir.path().join("etc/new")).is_file(),
        "left as it is"
    );
}

#[test]
fn a_file_already_as_it_was_is_left_alone() {
    use std::os::unix::fs::MetadataExt;
    // Whether owners are enforced or not: they are as recorded.
    for privileged in [false, true] {
        let (dir, mut h) = tree();
        h.privileged = privileged;
        let hosts = dir.path().join("etc/hosts");
        let m = recorded(&h, &["/etc/hosts"]);
        let before = std::fs::metadata(&hosts).unwrap();
        let rep = restore(&h, &m);
        assert!(rep.is_complete(), "{}", rep.failures());
        assert!(rep.done.is_empty(), "nothing to do: {:?}", rep.done);
        let after = std::fs::metadata(&hosts).unwrap();
        assert_eq!(
            after.ino(),
            before.ino(),
            "not rewritten (privileged: {privileged})"
        );
    }
}

#[test]
fn a_path_created_as_a_directory_is_removed_when_empty_and_kept_otherwise() {
    // A command step that `writes` a path it creates as a directory.
    let (dir, h) = tree();
    let m = recorded(&h, &["/etc/empty.d", "/etc/full.d"]);
    std::fs::create_dir(dir.path().join("etc/empty.d")).unwrap();
    std::fs::create_dir(dir.path().join("etc/full.d")).unwrap();
    std::fs::write(dir.path().join("etc/full.d/keep"), "x").unwrap();
    let rep = restore(&h, &m);
    assert!(rep.is_complete(), "{}", rep.failures());
    assert!(!dir.path().join("etc/empty.d").exists());
    assert!(dir.path().join("etc/full.d/keep").exists());
    assert_eq!(
        rep.done,
        [
            "kept /etc/full.d/: it is not empty",
            "removed /etc/empty.d/"
        ]
    );
}

#[test]
fn a_symlink_is_restored_to_its_own_target_and_left_alone_when_it_still_has_it() {
    let (dir, h) = tree();
    let link = dir.path().join("etc/resolv.conf");
    std::os::unix::fs::symlink("/run/resolv.conf", &link).unwrap();
    let m = recorded(&h, &["/etc/resolv.conf"]);
    let rep = restore(&h, &m);
    assert!(rep.done.is_empty() && rep.is_complete(), "{:?}", rep);
    std::fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink("/elsewhere", &link).unwrap();
    let rep = restore(&h, &m);
    assert!(rep.is_complete(), "{}", rep.failures());
    assert_eq!(
        std::fs::read_link(&link).unwrap(),
        Path::new("/run/resolv.conf")
    );
    assert_eq!(
        rep.done,
        ["restored link /etc/resolv.conf -> /run/resolv.conf"]
    );
}

#[test]
fn the_drift_basis_goes_back_only_for_files_that_were_restored() {
    use firstboot::backup::{managed_after_restore, RestoreFailure, RestoreReport};
    use std::collections::BTreeMap;
    let mut m = BackupManifest::default();
    m.managed_before.insert("/etc/a".into(), "before-a".into());
    m.managed_before
        .insert("/etc/b#marker".into(), "before-b".into());
    let current: BTreeMap<String, String> = [
        ("/etc/a".to_string(), "run-a".to_string()),
        ("/etc/b#marker".to_string(), "run-b".to_string()),
        ("/etc/c".to_string(), "other".to_string()),
    ]
    .into();
    let rep = RestoreReport {
        done: vec!["restored /etc/b".into()],
        failed: vec![RestoreFailure {
            what: "/etc/a".into(),
            reason: "its backup copy is missing; left as it is".into(),
        }],
    };
    let got = managed_after_restore(&current, &m, &rep);
    assert_eq!(got["/etc/a"], "run-a", "not restored: keeps the run's hash");
    assert_eq!(got["/etc/b#marker"], "before-b", "restored: back to before");
    assert_eq!(got["/etc/c"], "other", "other keys untouched");
}

#[test]
fn a_file_replaced_by_a_link_to_the_same_contents_is_a_file_again() {
    let (dir, h) = tree();
    let hosts = dir.path().join("etc/hosts");
    let m = recorded(&h, &["/etc/hosts"]);
    std::fs::write(dir.path().join("etc/hosts.copy"), "127.0.0.1\tlocalhost\n").unwrap();
    std::fs::remove_file(&hosts).unwrap();
    std::os::unix::fs::symlink("hosts.copy", &hosts).unwrap();
    let rep = restore(&h, &m);
    assert!(rep.is_complete(), "{}", rep.failures());
    let meta = std::fs::symlink_metadata(&hosts).unwrap();
    assert!(meta.is_file(), "a regular file again, not a link");
    assert_eq!(
        std::fs::read_to_string(&hosts).unwrap(),
        "127.0.0.1\tlocalhost\n"
    );
}

#[test]
fn backups_are_private_and_the_directories_above_them_are_not() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("etc")).unwrap();
    std::fs::write(dir.path().join("etc/hosts"), "127.0.0.1\tlocalhost\n").unwrap();
    // A bare tree: no /var yet.
    let (h, _fakes) = host(dir.path());
    recorded(&h, &["/etc/hosts"]);
    let mode = |p: &str| {
        std::fs::metadata(dir.path().join(p.trim_start_matches('/')))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    };
    assert_eq!(mode("/var"), 0o755);
    assert_eq!(mode("/var/log"), 0o755);
    let run = "/var/log/firstboot/backups/20260101T000000Z-1";
    for p in [
        "/var/log/firstboot".to_string(),
        "/var/log/firstboot/backups".to_string(),
        run.to_string(),
        format!("{run}/1-test"),
        format!("{run}/1-test/files"),
    ] {
        assert_eq!(mode(&p), 0o700, "{p}");
    }
    assert_eq!(mode(&format!("{run}/1-test/manifest.json")), 0o600);
    assert_eq!(mode(&format!("{run}/1-test/files/0000")), 0o600);
}
