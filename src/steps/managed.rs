//! What `file` and `block` steps share: comparing a wanted file with the one on disk by
//! SHA-256, noticing hand edits since our last write (drift), diffs with secrets hidden,
//! and the backed-up atomic write.

use super::ownership;
use super::{Change, Planned, RunState, StepCx, StepError};
use crate::backup::Backup;
use crate::digest::sha256_hex;

/// A file as a step wants it.
pub struct Wanted<'a> {
    /// What the step reports acting on (`file /etc/x`, `block /etc/hosts (firstboot)`).
    pub target: String,
    /// In-tree path.
    pub path: &'a str,
    /// Full desired contents.
    pub content: Vec<u8>,
    /// Permission bits.
    pub mode: u32,
    /// Owner and group names.
    pub owner: (&'a str, &'a str),
    /// Services to reload when the contents change.
    pub notify: &'a [String],
    /// Never show the contents.
    pub secret: bool,
    /// Key under which the managed part's hash is recorded (`path` or `path#marker`).
    pub key: String,
    /// Hash of the managed part in the desired contents.
    pub managed_hash: String,
    /// Hash of the managed part currently on disk (`None` when absent).
    pub current_managed_hash: Option<String>,
    /// The whole file as it is now (`None` when absent), read once by the step.
    pub current: Option<Vec<u8>>,
}

/// Unified diff of `old` → `new`, or `None` when secret.
pub fn diff(
    cx: &StepCx,
    path: &str,
    old: Option<&[u8]>,
    new: &[u8],
    secret: bool,
) -> Option<String> {
    if secret || cx.redactor.touches(new) || old.is_some_and(|o| cx.redactor.touches(o)) {
        return None;
    }
    let old_text = old.map(String::from_utf8_lossy).unwrap_or_default();
    let new_text = String::from_utf8_lossy(new);
    let from = if old.is_some() {
        format!("a{path}")
    } else {
        "/dev/null".into()
    };
    Some(
        similar::TextDiff::from_lines(old_text.as_ref(), new_text.as_ref())
            .unified_diff()
            .context_radius(3)
            .header(&from, &format!("b{path}"))
            .to_string(),
    )
}

/// Plan a wanted file: what would change, and record it in `run`.
pub fn plan(cx: &StepCx, run: &mut RunState, w: &Wanted) -> Result<Planned, StepError> {
    let root = &cx.host.root;
    let target = w.target.clone();
    let current = w.current.as_ref();
    let meta = root.meta(w.path)?;
    run.managed.insert(w.key.clone(), w.managed_hash.clone());
    let ids = cx.host.owner_ids(w.owner.0, w.owner.1)?;
    run.managed
        .insert(ownership::key(&w.key), ownership::text(w.mode, ids));
    let owner_s = format!("{:04o} {}:{}", w.mode, w.owner.0, w.owner.1);
    let Some(cur) = current else {
        mark_changed(run, w);
        let d = diff(cx, w.path, None, &w.content, w.secret);
        return Ok(Planned::contents(
            target,
            Change::Create { diff: d },
            format!("create ({owner_s})"),
        ));
    };
    if *cur != w.content {
        mark_changed(run, w);
        let d = diff(cx, w.path, Some(cur), &w.content, w.secret);
        let edited = match (&w.current_managed_hash, cx.last_managed.get(&w.key)) {
            (Some(now), Some(ours)) => now != ours && *now != w.managed_hash,
            _ => false,
        };
        if edited && !cx.overwrite {
            return Ok(Planned::contents(
                target,
                Change::Drift { diff: d },
                "edited by hand since firstboot wrote it; left alone (--overwrite replaces it, keeping the edited copy in the backup)",
            ));
        }
        let why = if edited {
            "replace hand-edited contents (--overwrite)"
        } else {
            "update contents"
        };
        return Ok(Planned::contents(target, Change::Update { diff: d }, why));
    }
    let mut meta_changes = Vec::new();
    let mut edited = false;
    if let Some(m) = meta {
        if m.mode != w.mode {
            meta_changes.push(format!("mode {:04o} -> {:04o}", m.mode, w.mode));
        }
        if let Some((uid, gid)) = ids {
            if (m.uid, m.gid) != (uid, gid) {
                meta_changes.push(format!(
                    "owner {}:{} -> {}:{}",
                    m.uid, m.gid, w.owner.0, w.owner.1
                ));
            }
        }
        let now = (m.mode, ids.map(|_| (m.uid, m.gid)));
        edited = cx
            .last_managed
            .get(&ownership::key(&w.key))
            .is_some_and(|ours| ownership::edited(ours, now, (w.mode, ids)));
    }
    if meta_changes.is_empty() {
        Ok(Planned::new(target, Change::None, "unchanged"))
    } else if edited && !cx.overwrite {
        Ok(Planned::new(
            target,
            Change::Drift { diff: None },
            format!(
                "{} changed by hand since firstboot set it; left alone (--overwrite resets it)",
                meta_changes.join(", ")
            ),
        ))
    } else {
        Ok(Planned::new(
            target,
            Change::Update { diff: None },
            meta_changes.join(", "),
        ))
    }
}

fn mark_changed(run: &mut RunState, w: &Wanted) {
    run.changed.insert(w.path.to_string());
    run.notified.extend(w.notify.iter().cloned());
}

/// Apply a wanted file: back up, create missing parents, write atomically or fix metadata.
pub fn apply(
    cx: &StepCx,
    run: &mut RunState,
    backup: &mut Backup,
    w: &Wanted,
) -> Result<Planned, StepError> {
    let planned = plan(cx, run, w)?;
    let root = &cx.host.root;
    match &planned.change {
        Change::None | Change::Skipped | Change::Act | Change::Remove => return Ok(planned),
        Change::Drift { .. } => {
            return Err(StepError::Invalid(format!(
            "{} was edited by hand since firstboot wrote it; rerun with --overwrite to replace it",
            w.path
        )))
        }
        Change::Create { .. } | Change::Update { .. } => {}
    }
    // Parents first: rollback works in reverse, removing the file before its directories.
    backup.create_parents(w.path, 0o755, None)?;
    backup.record_file(w.path)?;
    let ours_before = cx
        .last_managed
        .get(&w.key)
        .cloned()
        .or_else(|| w.current_managed_hash.clone());
    backup.note_managed_before(&w.key, ours_before.as_deref())?;
    let meta_key = ownership::key(&w.key);
    let meta_before = cx.last_managed.get(&meta_key).cloned().or_else(|| {
        root.meta(w.path).ok().flatten().map(|m| {
            let ids = cx.host.privileged.then_some((m.uid, m.gid));
            ownership::text(m.mode, ids)
        })
    });
    backup.note_managed_before(&meta_key, meta_before.as_deref())?;
    let ids = cx.host.owner_ids(w.owner.0, w.owner.1)?;
    if w.current.as_deref() != Some(&w.content[..]) {
        root.write_atomic(w.path, &w.content, w.mode, ids)?;
    } else {
        root.set_mode(w.path, w.mode)?;
        if let Some((u, g)) = ids {
            root.set_owner(w.path, u, g)?;
        }
    }
    backup.note_written(w.path, &sha256_hex(&w.content))?;
    backup.note_services(w.notify)?;
    Ok(planned)
}
