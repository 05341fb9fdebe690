//! Rollback: undo a module's recorded changes in reverse order. Every entry is tried,
//! whatever happened to the ones before it; an entry already as it was is left alone; a
//! backup copy that is missing or does not match its recorded hash stops the restore of
//! that one file (never an empty file in its place); each file that could not be
//! restored is reported with the reason.

use super::{backup_dir, BackupManifest, Entry};
use crate::digest::sha256_hex;
use crate::host::{Host, HostError, Meta};
use std::collections::BTreeMap;

/// Something a rollback could not put back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreFailure {
    /// The file, host name or service concerned.
    pub what: String,
    /// Why, and what is left there.
    pub reason: String,
}

impl std::fmt::Display for RestoreFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.what, self.reason)
    }
}

/// What a rollback did and what it could not do.
#[derive(Debug, Clone, Default)]
pub struct RestoreReport {
    /// One line per action taken (`restored /etc/hosts`, `removed /etc/x`...).
    pub done: Vec<String>,
    /// What could not be restored (the rest was).
    pub failed: Vec<RestoreFailure>,
}

impl RestoreReport {
    /// Whether everything was put back.
    pub fn is_complete(&self) -> bool {
        self.failed.is_empty()
    }

    /// The failures as one sentence, for an error message.
    pub fn failures(&self) -> String {
        self.failed
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Undo a module's recorded changes in reverse order: contents and metadata back
/// byte-identical, created files and directories removed, commands with an undo undone
/// (see [`super::Undo`]), services restarted. Our own
/// temp files left by a killed write are removed first.
pub fn restore(host: &Host, m: &BackupManifest) -> RestoreReport {
    let mut rep = RestoreReport::default();
    for leftover in super::remove_temp_files(&host.root, m) {
        rep.done
            .push(format!("removed leftover temp file {leftover}"));
    }
    for e in m.entries.iter().rev() {
        let what = match e {
            Entry::File { path, .. } | Entry::DirCreated { path } => path.clone(),
            Entry::Hostname { .. } => "host name".to_string(),
        };
        match restore_entry(host, m, e) {
            Ok(Some(line)) => rep.done.push(line),
            Ok(None) => {}
            Err(reason) => rep.failed.push(RestoreFailure { what, reason }),
        }
    }
    if host.is_live() {
        for u in m.undo.iter().rev() {
            undo_command(host, u, &mut rep);
        }
        let sm = host.services();
        use crate::host::services::ServiceVerb;
        for s in &m.started {
            // A start that failed leaves nothing running: already as before.
            if matches!(sm.is_running(s), Ok(false)) {
                continue;
            }
            match sm.act(s, ServiceVerb::Stop) {
                Ok(()) => rep
                    .done
                    .push(format!("stopped {s} (it was not running before)")),
                Err(e) => rep.failed.push(RestoreFailure {
                    what: format!("service {s}"),
                    reason: format!("could not be stopped: {e}"),
                }),
            }
        }
        for s in m.services.iter().filter(|s| !m.started.contains(*s)) {
            match sm.act(s, ServiceVerb::Restart) {
                Ok(()) => rep.done.push(format!("restarted {s}")),
                Err(e) => rep.failed.push(RestoreFailure {
                    what: format!("service {s}"),
                    reason: format!("could not be restarted: {e}"),
                }),
            }
        }
    }
    rep
}

/// Put back what a command changed outside the tree: run it again on the files the
/// rollback restored, or its `undo` when those files are gone.
fn undo_command(host: &Host, u: &super::Undo, rep: &mut RestoreReport) {
    let present = |p: &String| matches!(host.root.meta(p), Ok(Some(_)));
    let again = !u.reapply_if_present.is_empty() && u.reapply_if_present.iter().all(present);
    let argv = if again { &u.argv } else { &u.undo };
    let shown = host.runner.show(argv);
    match host.runner.run_ok(argv, None, &[]) {
        Ok(_) if again => rep
            .done
            .push(format!("ran {shown} again (its files are back)")),
        Ok(_) => rep.done.push(format!("ran {shown}")),
        Err(e) => rep.failed.push(RestoreFailure {
            what: format!("command {shown}"),
            reason: e.to_string(),
        }),
    }
}

fn io(e: HostError) -> String {
    e.to_string()
}

/// Restore one entry; `Ok(None)` when it already was as recorded.
fn restore_entry(host: &Host, m: &BackupManifest, e: &Entry) -> Result<Option<String>, String> {
    let root = &host.root;
    match e {
        Entry::File {
            path,
            existed: false,
            ..
        } => match root.meta(path).map_err(io)? {
            None => Ok(None),
            Some(meta) if meta.is_dir => match root.remove_empty_dir(path).map_err(io)? {
                true => Ok(Some(format!("removed {path}/"))),
                false => Ok(Some(format!("kept {path}/: it is not empty"))),
            },
            Some(_) => {
                root.remove_file(path).map_err(io)?;
                Ok(Some(format!("removed {path}")))
            }
        },
        Entry::File {
            path,
            link: Some(target),
            ..
        } => {
            let now = root.meta(path).map_err(io)?;
            if now.is_some_and(|n| n.is_symlink)
                && root.read_link(path).map_err(io)? == std::path::Path::new(target)
            {
                return Ok(None);
            }
            root.make_symlink(path, std::path::Path::new(target))
                .map_err(io)?;
            Ok(Some(format!("restored link {path} -> {target}")))
        }
        Entry::File {
            path,
            is_dir: true,
            mode,
            uid,
            gid,
            ..
        } => {
            let now = root
                .meta(path)
                .map_err(io)?
                .ok_or("the directory is gone; nothing to restore its mode and owner on")?;
            if !meta_differs(host, &now, *mode, *uid, *gid) {
                return Ok(None);
            }
            restore_meta(host, path, *mode, *uid, *gid).map_err(io)?;
            Ok(Some(format!("restored {path}/ (mode and owner)")))
        }
        Entry::File {
            path,
            copy,
            sha256,
            mode,
            uid,
            gid,
            mtime,
            ..
        } => {
            let copy = copy
                .as_deref()
                .ok_or("no backup copy was recorded; left as it is")?;
            let copy_path = format!("{}/files/{copy}", backup_dir(&m.run_id, &m.module));
            let data = match root.read(&copy_path) {
                Ok(Some(d)) => d,
                Ok(None) => {
                    return Err(format!(
                        "its backup copy {copy_path} is missing; left as it is"
                    ))
                }
                Err(e) => {
                    return Err(format!(
                        "its backup copy cannot be read ({e}); left as it is"
                    ))
                }
            };
            if sha256.as_deref().is_some_and(|h| h != sha256_hex(&data)) {
                return Err(format!(
                    "its backup copy {copy_path} does not match the hash recorded for it; left as it is"
                ));
            }
            let now = root.meta(path).map_err(io)?;
            let same_data = now.is_some_and(|n| !n.is_dir && !n.is_symlink)
                && root.read(path).map_err(io)?.as_deref() == Some(&data[..]);
            if same_data && !now.is_some_and(|n| meta_differs(host, &n, *mode, *uid, *gid)) {
                return Ok(None);
            }
            let owner = match (uid, gid) {
                (Some(u), Some(g)) if host.privileged => Some((*u, *g)),
                _ => None,
            };
            let mode = mode.unwrap_or(0o644);
            if let Err(first) = root.write_atomic(path, &data, mode, owner) {
                // A full file system cannot take a temp copy beside the file: rewrite the
                // existing file where it is, which needs no more room than it has.
                if !now.is_some_and(|n| !n.is_dir && !n.is_symlink) {
                    return Err(first.to_string());
                }
                root.write_in_place(path, &data, mode, owner)
                    .map_err(|e| format!("{first}; rewriting it in place failed too: {e}"))?;
            }
            if let Some(t) = mtime {
                root.set_mtime(path, *t).map_err(io)?;
            }
            Ok(Some(format!("restored {path}")))
        }
        Entry::DirCreated { path } => match root.meta(path).map_err(io)? {
            None => Ok(None),
            Some(_) => match root.remove_empty_dir(path).map_err(io)? {
                true => Ok(Some(format!("removed {path}/"))),
                false => Ok(Some(format!("kept {path}/: it is not empty"))),
            },
        },
        Entry::Hostname { old } => {
            if !host.is_live() {
                return Ok(None);
            }
            // A name that never changed (the set itself failed) is left alone: asking the
            // kernel again could only fail the rollback for nothing.
            if host.kernel.hostname().is_ok_and(|now| now == *old) {
                return Ok(None);
            }
            host.kernel
                .set_hostname(old)
                .map_err(|e| format!("could not be set back to {old}: {e}"))?;
            Ok(Some(format!("host name {old}")))
        }
    }
}

fn meta_differs(
    host: &Host,
    now: &Meta,
    mode: Option<u32>,
    uid: Option<u32>,
    gid: Option<u32>,
) -> bool {
    let mode_differs = mode.is_some_and(|m| m != now.mode);
    let owner_differs =
        host.privileged && matches!((uid, gid), (Some(u), Some(g)) if (u, g) != (now.uid, now.gid));
    mode_differs || owner_differs
}

fn restore_meta(
    host: &Host,
    path: &str,
    mode: Option<u32>,
    uid: Option<u32>,
    gid: Option<u32>,
) -> Result<(), HostError> {
    if let Some(m) = mode {
        host.root.set_mode(path, m)?;
    }
    if let (Some(u), Some(g), true) = (uid, gid, host.privileged) {
        host.root.set_owner(path, u, g)?;
    }
    Ok(())
}

/// The module's managed hashes after its backup was restored: each key the run wrote goes
/// back to what firstboot considered its own before the run, so a hand edit made after
/// the rollback is still noticed (a file firstboot wrote once stays protected). Keys whose
/// file could not be restored keep the hash the run recorded.
pub fn managed_after_restore(
    current: &BTreeMap<String, String>,
    m: &BackupManifest,
    rep: &RestoreReport,
) -> BTreeMap<String, String> {
    let mut out = current.clone();
    for (key, before) in &m.managed_before {
        let path = key.split('#').next().unwrap_or(key);
        if rep.failed.iter().any(|f| f.what == path) {
            continue;
        }
        out.insert(key.clone(), before.clone());
    }
    out
}
