//! Backups and rollback. Before a module changes anything, the original (or its absence)
//! is recorded under `/var/log/firstboot/backups/<run-id>/<module>/`, and the manifest is
//! rewritten (fsynced) before every change: it doubles as the journal a killed run is
//! rolled back from. Directories are 0700 and copies 0600: backups can hold secrets.

mod restore;
mod temp;

pub use restore::{managed_after_restore, restore, RestoreFailure, RestoreReport};
pub use temp::{remove_temp_files, remove_temp_files_in};

use crate::digest::sha256_hex;
use crate::host::{HostError, Root};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The drift basis recorded for a managed file that did not exist before firstboot
/// wrote it: a file created there later by hand is an edit, never ours.
pub const ABSENT: &str = "absent";

/// Where backups live, in the tree.
pub const BACKUP_ROOT: &str = "/var/log/firstboot/backups";

/// One recorded change.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Entry {
    /// A file (or directory's metadata) as it was before the change.
    File {
        /// In-tree path.
        path: String,
        /// Whether it existed.
        existed: bool,
        /// Whether it was a directory (metadata only is restored).
        #[serde(default)]
        is_dir: bool,
        /// SHA-256 of the original contents.
        sha256: Option<String>,
        /// Original mode, uid, gid.
        mode: Option<u32>,
        /// Original owner.
        uid: Option<u32>,
        /// Original group.
        gid: Option<u32>,
        /// Name of the copy under `files/`.
        copy: Option<String>,
        /// SHA-256 of what firstboot wrote (to notice later edits before a rollback).
        written_sha256: Option<String>,
        /// Original modification time (seconds, nanoseconds since the epoch).
        #[serde(default)]
        mtime: Option<(i64, u32)>,
        /// It was a symbolic link to this target (restored as the link, not a copy).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        link: Option<String>,
    },
    /// A directory firstboot created (removed on rollback if empty).
    DirCreated {
        /// In-tree path.
        path: String,
    },
    /// The running host name before `set_hostname`.
    Hostname {
        /// The old name.
        old: String,
    },
}

/// How a rollback undoes a command step that ran (see `steps::command`): once the files
/// are back, when every file in `reapply_if_present` exists again (an earlier version
/// was restored) the command runs again on them, else `undo` runs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Undo {
    /// The command as it ran.
    pub argv: Vec<String>,
    /// The files it applies (its `on_change` files).
    #[serde(default)]
    pub reapply_if_present: Vec<String>,
    /// What takes its effect away when those files are gone.
    pub undo: Vec<String>,
}

/// The manifest of one module's backup in one run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BackupManifest {
    /// Run id.
    pub run_id: String,
    /// Module id.
    pub module: String,
    /// Changes, in the order they were made.
    pub entries: Vec<Entry>,
    /// Services to restart after a rollback.
    pub services: BTreeSet<String>,
    /// Services firstboot started (they were not running): stopped by a rollback.
    #[serde(default)]
    pub started: BTreeSet<String>,
    /// For each managed key this run wrote, the hash firstboot considered its own before
    /// the run (the last run's, else what was on disk, else [`ABSENT`]): after a rollback
    /// the state goes back to it, so hand edits stay protected.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub managed_before: BTreeMap<String, String>,
    /// Commands that changed something outside the tree (a firewall loaded into the
    /// kernel), in the order they ran: a rollback puts that back after the files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub undo: Vec<Undo>,
    /// When this backup was restored (a second rollback of the same run does nothing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rolled_back: Option<String>,
}

impl BackupManifest {
    /// The in-tree paths this backup recorded (files and directories).
    pub fn paths(&self) -> std::collections::BTreeSet<String> {
        self.entries
            .iter()
            .filter_map(|e| match e {
                Entry::File { path, .. } | Entry::DirCreated { path } => Some(path.clone()),
                Entry::Hostname { .. } => None,
            })
            .collect()
    }
}

/// The backup being written while a module applies.
pub struct Backup {
    root: Root,
    dir: String,
    manifest: BackupManifest,
    made: bool,
}

/// In-tree directory of a module's backup for a run.
pub fn backup_dir(run_id: &str, module: &str) -> String {
    format!("{BACKUP_ROOT}/{run_id}/{module}")
}

impl Backup {
    /// A backup for `module` in `run_id`; nothing is written until the first record.
    pub fn new(root: Root, run_id: &str, module: &str) -> Self {
        Backup {
            root,
            dir: backup_dir(run_id, module),
            manifest: BackupManifest {
                run_id: run_id.to_string(),
                module: module.to_string(),
                ..Default::default()
            },
            made: false,
        }
    }

    /// The manifest so far.
    pub fn manifest(&self) -> &BackupManifest {
        &self.manifest
    }

    /// In-tree directory of this backup.
    pub fn dir(&self) -> &str {
        &self.dir
    }

    fn ensure_dir(&mut self) -> Result<(), HostError> {
        if self.made {
            return Ok(());
        }
        let mut cur = String::new();
        for (i, part) in self.dir.trim_start_matches('/').split('/').enumerate() {
            cur.push('/');
            cur.push_str(part);
            if self.root.meta(&cur)?.is_none() {
                // /var and /var/log are ordinary; ours are private.
                let mode = if i < 2 { 0o755 } else { 0o700 };
                self.root.create_dir(&cur, mode)?;
            }
        }
        self.root
            .create_dir(format!("{}/files", self.dir), 0o700)
            .or_else(|e| match self.root.meta(format!("{}/files", self.dir)) {
                Ok(Some(_)) => Ok(()),
                _ => Err(e),
            })?;
        self.made = true;
        Ok(())
    }

    fn save(&mut self) -> Result<(), HostError> {
        self.ensure_dir()?;
        let json = serde_json::to_vec_pretty(&self.manifest).unwrap_or_default();
        self.root
            .write_atomic(format!("{}/manifest.json", self.dir), &json, 0o600, None)
    }

    fn has_file(&self, path: &str) -> bool {
        self.manifest.entries.iter().any(|e| match e {
            Entry::File { path: p, .. } | Entry::DirCreated { path: p } => p == path,
            Entry::Hostname { .. } => false,
        })
    }

    /// Record `path` as it is now (copy or absence), once per module run, before a change.
    pub fn record_file(&mut self, path: &str) -> Result<(), HostError> {
        if self.has_file(path) {
            return Ok(());
        }
        self.ensure_dir()?;
        let meta = self.root.meta(path)?;
        let is_dir = meta.is_some_and(|m| m.is_dir);
        let link = match meta {
            Some(m) if m.is_symlink => {
                Some(self.root.read_link(path)?.to_string_lossy().into_owned())
            }
            _ => None,
        };
        let data = if is_dir || link.is_some() {
            None
        } else {
            self.root.read(path)?
        };
        let copy = match &data {
            Some(d) => {
                let name = format!("{:04}", self.manifest.entries.len());
                self.root
                    .write_atomic(format!("{}/files/{name}", self.dir), d, 0o600, None)?;
                Some(name)
            }
            None => None,
        };
        self.manifest.entries.push(Entry::File {
            path: path.to_string(),
            existed: meta.is_some(),
            is_dir,
            sha256: data.as_deref().map(sha256_hex),
            mode: meta.map(|m| m.mode),
            uid: meta.map(|m| m.uid),
            gid: meta.map(|m| m.gid),
            copy,
            written_sha256: None,
            mtime: if is_dir || link.is_some() {
                None
            } else {
                self.root.mtime(path)?
            },
            link,
        });
        self.save()
    }

    /// Create the missing directories above `path` (outermost first), each recorded
    /// before it is made, so a rollback removes them after what was put inside.
    pub fn create_parents(
        &mut self,
        path: &str,
        mode: u32,
        owner: Option<(u32, u32)>,
    ) -> Result<(), HostError> {
        let root = self.root.clone();
        for dir in root.missing_parents(path)? {
            self.record_dir_created(&dir.to_string_lossy())?;
            root.create_dir(&dir, mode)?;
            if let Some((u, g)) = owner {
                root.set_owner(&dir, u, g)?;
            }
        }
        Ok(())
    }

    /// Record that firstboot is about to create directory `path`.
    pub fn record_dir_created(&mut self, path: &str) -> Result<(), HostError> {
        self.manifest.entries.push(Entry::DirCreated {
            path: path.to_string(),
        });
        self.save()
    }

    /// Record the hash of what was written to `path`.
    pub fn note_written(&mut self, path: &str, sha: &str) -> Result<(), HostError> {
        for e in self.manifest.entries.iter_mut() {
            if let Entry::File {
                path: p,
                written_sha256,
                ..
            } = e
            {
                if p == path {
                    *written_sha256 = Some(sha.to_string());
                }
            }
        }
        self.save()
    }

    /// Services touched by this module (restarted after a rollback).
    pub fn note_services(&mut self, names: &[String]) -> Result<(), HostError> {
        if names.iter().all(|n| self.manifest.services.contains(n)) {
            return Ok(());
        }
        self.manifest.services.extend(names.iter().cloned());
        self.save()
    }

    /// A command with an undo, recorded before it runs (a kill right after it must still
    /// be undone; undoing one that did not run changes nothing).
    pub fn note_undo(&mut self, u: Undo) -> Result<(), HostError> {
        if !self.manifest.undo.contains(&u) {
            self.manifest.undo.push(u);
            self.save()?;
        }
        Ok(())
    }

    /// A service that was not running and is about to be started.
    pub fn note_started(&mut self, name: &str) -> Result<(), HostError> {
        if self.manifest.started.insert(name.to_string()) {
            self.save()?;
        }
        Ok(())
    }

    /// Record, once per key, the managed hash that was firstboot's own before this run.
    pub fn note_managed_before(&mut self, key: &str, ours: Option<&str>) -> Result<(), HostError> {
        if self.manifest.managed_before.contains_key(key) {
            return Ok(());
        }
        self.manifest
            .managed_before
            .insert(key.to_string(), ours.unwrap_or(ABSENT).to_string());
        self.save()
    }

    /// Record the running host name before it is changed.
    pub fn record_hostname(&mut self, old: &str) -> Result<(), HostError> {
        self.manifest.entries.push(Entry::Hostname {
            old: old.to_string(),
        });
        self.save()
    }
}

/// Read a module's backup manifest for a run, if there is one.
pub fn load(root: &Root, run_id: &str, module: &str) -> Result<Option<BackupManifest>, HostError> {
    let path = format!("{}/manifest.json", backup_dir(run_id, module));
    let Some(data) = root.read(&path)? else {
        return Ok(None);
    };
    serde_json::from_slice(&data).map(Some).map_err(|e| {
        HostError::io(
            "parse",
            &root.path(&path).unwrap_or_default(),
            std::io::Error::other(e),
        )
    })
}

/// Mark a restored backup as rolled back (saved with its manifest).
pub fn mark_rolled_back(root: &Root, m: &mut BackupManifest) -> Result<(), HostError> {
    m.rolled_back = Some(crate::timefmt::rfc3339_now());
    let json = serde_json::to_vec_pretty(&m).unwrap_or_default();
    root.write_atomic(
        format!("{}/manifest.json", backup_dir(&m.run_id, &m.module)),
        &json,
        0o600,
        None,
    )
}

/// Files whose contents changed since firstboot wrote them (a rollback would lose those edits).
pub fn edited_since(root: &Root, m: &BackupManifest) -> Result<Vec<String>, HostError> {
    let mut out = Vec::new();
    for e in &m.entries {
        if let Entry::File {
            path,
            written_sha256: Some(w),
            sha256: before,
            ..
        } = e
        {
            let now = root.read(path)?.map(|d| sha256_hex(&d));
            // Already back as it was before the run: a rollback loses nothing there.
            if now.as_deref() != Some(w.as_str()) && now != *before {
                out.push(path.clone());
            }
        }
    }
    Ok(out)
}

/// Run ids that hold a backup of `module`, oldest first.
pub fn runs_of(root: &Root, module: &str) -> Result<Vec<String>, HostError> {
    let base = root.path(BACKUP_ROOT)?;
    let Ok(rd) = std::fs::read_dir(&base) else {
        return Ok(Vec::new());
    };
    let mut runs: Vec<String> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|r| base.join(r).join(module).join("manifest.json").exists())
        .collect();
    runs.sort();
    Ok(runs)
}
