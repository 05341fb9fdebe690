//! `backup::restore` on its own, against a host made of fakes: what a rollback does when
//! the file system gets in its way (no room for a temp copy beside the file, a path that
//! cannot even be looked at) and what it reports.

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
