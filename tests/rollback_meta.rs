//! A rollback puts metadata back, not only contents: the mode and owner of a directory
//! and of a file whose contents did not change, and the mode, owner and mtime of a file
//! that was rewritten. Owners are checked when the tests run as root (only then does
//! firstboot enforce them).

mod common;
use common::*;
use std::os::unix::fs::MetadataExt;
use std::time::{Duration, SystemTime};

const OTHER: u32 = 1234;

fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

/// (mode, uid, gid, mtime in ns) of an in-tree path.
fn meta(t: &Tree, p: &str) -> (u32, u32, u32, i128) {
    let m = std::fs::symlink_metadata(t.path(p)).unwrap();
    (
        m.mode() & 0o7777,
        m.uid(),
        m.gid(),
        m.mtime() as i128 * 1_000_000_000 + m.mtime_nsec() as i128,
    )
}

fn set_old_mtime(t: &Tree, p: &str) {
    let f = std::fs::File::options()
        .write(true)
        .open(t.path(p))
        .unwrap();
    f.set_modified(SystemTime::UNIX_EPOCH + Duration::new(1_600_000_000, 123_456_789))
        .unwrap();
}

fn set_mode(t: &Tree, p: &str, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(t.path(p), std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn a_rollback_restores_modes_owners_and_mtimes() {
    let t = Tree::new(CONFIG);
    // Accounts of the tree, so that the steps' root:root owner is enforced.
    t.write("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
    t.write("/etc/group", "root:x:0:\n");
    std::fs::create_dir_all(t.path("/etc/meta/dir")).unwrap();
    set_mode(&t, "/etc/meta/dir", 0o755);
    t.write("/etc/meta/same.conf", "unchanged contents\n");
    set_mode(&t, "/etc/meta/same.conf", 0o644);
    t.write("/etc/meta/changed.conf", "old contents\n");
    set_mode(&t, "/etc/meta/changed.conf", 0o640);
    let root = is_root();
    for p in [
        "/etc/meta/dir",
        "/etc/meta/same.conf",
        "/etc/meta/changed.conf",
    ] {
        if root {
            std::os::unix::fs::chown(t.path(p), Some(OTHER), Some(OTHER)).unwrap();
        }
        if p.ends_with(".conf") {
            set_old_mtime(&t, p);
        }
    }
    let before: Vec<_> = [
        "/etc/meta/dir",
        "/etc/meta/same.conf",
        "/etc/meta/changed.conf",
    ]
    .iter()
    .map(|p| meta(&t, p))
    .collect();

    let fx = fixture_modules("meta-rollback");
    let plan = t.fb(&["--modules-dir", &fx, "plan", "--profile", "advanced"]);
    ok(&plan);
    let p = stdout(&plan);
    assert!(
        p.contains("mode 0755 -> 0700") && p.contains("mode 0644 -> 0600"),
        "the fixture changes the metadata it should:\n{p}"
    );
    let o = t.fb(&[
        "--modules-dir",
        &fx,
        "run",
        "--profile",
        "advanced",
        "--only",
        "monitoring",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // Every step applied; the check failed and the module was rolled back.
    assert!(
        stderr(&o)
            .contains("failed and was rolled back: check `file /etc/meta/changed.conf` failed"),
        "{}",
        stderr(&o)
    );

    assert_eq!(t.read("/etc/meta/same.conf"), "unchanged contents\n");
    assert_eq!(t.read("/etc/meta/changed.conf"), "old contents\n");
    let after: Vec<_> = [
        "/etc/meta/dir",
        "/etc/meta/same.conf",
        "/etc/meta/changed.conf",
    ]
    .iter()
    .map(|p| meta(&t, p))
    .collect();
    let names = [
        "/etc/meta/dir",
        "/etc/meta/same.conf",
        "/etc/meta/changed.conf",
    ];
    for ((name, b), a) in names.iter().zip(&before).zip(&after) {
        assert_eq!(a.0, b.0, "mode of {name}: {:o} restored to {:o}", a.0, b.0);
        if root {
            assert_eq!((a.1, a.2), (OTHER, OTHER), "owner of {name} restored");
        }
        if name.ends_with(".conf") {
            assert_eq!(a.3, b.3, "mtime of {name} restored");
        }
    }
}
