//! Our own temp files left behind by a write that a kill interrupted. `Root::write_atomic`
//! writes `.<name>.firstboot-<pid>` beside the file before renaming it into place; a kill
//! between the two leaves it there (possibly holding a private key). Recovery removes
//! exactly those, found from the journal: beside each path the module recorded, inside
//! each directory it created, and in firstboot's own state and backup directories.
//! Anyone else's files are never touched.

use super::{backup_dir, BackupManifest, Entry};
use crate::host::Root;
use std::collections::BTreeSet;
use std::path::Path;

/// Whether `file_name` is the temp name `write_atomic` uses for `target` (any pid);
/// with `target` `None`, for any file.
pub fn is_temp_name(file_name: &str, target: Option<&str>) -> bool {
    let Some(rest) = file_name.strip_prefix('.') else {
        return false;
    };
    let Some((name, pid)) = rest.rsplit_once(".firstboot-") else {
        return false;
    };
    !name.is_empty()
        && !pid.is_empty()
        && pid.bytes().all(|b| b.is_ascii_digit())
        && target.is_none_or(|t| t == name)
}

/// Remove the temp files of the writes `m` journals; returns their in-tree paths.
pub fn remove_temp_files(root: &Root, m: &BackupManifest) -> Vec<String> {
    // (directory, the file whose temp copies to look for; None: any of ours)
    let mut places: BTreeSet<(String, Option<String>)> = BTreeSet::new();
    for e in &m.entries {
        match e {
            Entry::File { path, .. } => {
                let p = Path::new(path);
                if let (Some(dir), Some(name)) = (p.parent(), p.file_name()) {
                    places.insert((
                        dir.to_string_lossy().into_owned(),
                        Some(name.to_string_lossy().into_owned()),
                    ));
                }
            }
            Entry::DirCreated { path } => {
                places.insert((path.clone(), None));
            }
            Entry::Hostname { .. } => {}
        }
    }
    let dir = backup_dir(&m.run_id, &m.module);
    places.insert((dir.clone(), None));
    places.insert((format!("{dir}/files"), None));
    let mut removed = Vec::new();
    for (dir, target) in places {
        removed.extend(remove_in(root, &dir, target.as_deref()));
    }
    removed
}

/// Remove every temp file of ours directly inside in-tree `dir` (firstboot's own
/// directories, while holding the lock).
pub fn remove_temp_files_in(root: &Root, dir: &str) -> Vec<String> {
    remove_in(root, dir, None)
}

/// Remove temp files for `target` (or any of ours) directly inside in-tree `dir`.
fn remove_in(root: &Root, dir: &str, target: Option<&str>) -> Vec<String> {
    let Ok(host_dir) = root.path(dir) else {
        return Vec::new();
    };
    let Ok(rd) = std::fs::read_dir(&host_dir) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for e in rd.filter_map(Result::ok) {
        let name = e.file_name().to_string_lossy().into_owned();
        if !is_temp_name(&name, target) || e.file_type().map_or(true, |t| t.is_dir()) {
            continue;
        }
        let in_tree = format!("{}/{name}", dir.trim_end_matches('/'));
        match root.remove_file(&in_tree) {
            Ok(()) => removed.push(in_tree),
            Err(err) => tracing::warn!("leftover temp file {in_tree} could not be removed: {err}"),
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_are_ours_only() {
        assert!(is_temp_name(".hosts.firstboot-123", Some("hosts")));
        assert!(is_temp_name(".mail.example.test.key.firstboot-9", None));
        assert!(!is_temp_name(".hosts.firstboot-123", Some("hostname")));
        assert!(!is_temp_name("hosts.firstboot-123", None));
        assert!(!is_temp_name(".hosts.firstboot-", None));
        assert!(!is_temp_name(".hosts.firstboot-12a", None));
        assert!(!is_temp_name("..firstboot-1", None));
        assert!(!is_temp_name(".hosts.swp", None));
    }

    #[test]
    fn removes_leftovers_beside_journaled_files_and_nothing_else() {
        let t = tempfile::tempdir().unwrap();
        let r = Root::new(t.path());
        std::fs::create_dir_all(t.path().join("etc/new")).unwrap();
        for f in [
            "etc/.hosts.firstboot-77",
            "etc/.other.firstboot-77",
            "etc/new/.x.firstboot-5",
            "etc/hosts",
        ] {
            std::fs::write(t.path().join(f), "x").unwrap();
        }
        let m = BackupManifest {
            run_id: "r".into(),
            module: "m".into(),
            entries: vec![
                Entry::DirCreated {
                    path: "/etc/new".into(),
                },
                Entry::File {
                    path: "/etc/hosts".into(),
                    existed: true,
                    is_dir: false,
                    sha256: None,
                    mode: None,
                    uid: None,
                    gid: None,
                    copy: None,
                    written_sha256: None,
                    mtime: None,
                    link: None,
                },
            ],
            ..Default::default()
        };
        let mut got = remove_temp_files(&r, &m);
        got.sort();
        assert_eq!(got, ["/etc/.hosts.firstboot-77", "/etc/new/.x.firstboot-5"]);
        assert!(t.path().join("etc/.other.firstboot-77").exists());
        assert!(t.path().join("etc/hosts").exists());
    }
}
