//! `firstboot mailbox add|passwd|remove|list`: edits the mailboxes of full mode kept in
//! Dovecot's users file and Postfix's mailbox map, below the blocks `firstboot run`
//! renders from config.yaml, with the same lock, journal and backup as a module's run
//! (so `firstboot rollback mail` undoes it and a kill mid-write is rolled back at the
//! next start).

use crate::backup::{self, Backup};
use crate::catalog::Catalog;
use crate::cli::{Cli, MailboxAction};
use crate::digest::sha256_hex;
use crate::error::{Error, Result};
use crate::host::{Host, Root, Runner};
use crate::logging::Logs;
use crate::mailbox::users::{Source, UsersFile};
use crate::mailbox::{hash, password, MAP_FILE, USERS_FILE};
use crate::redact::Redactor;
use crate::state::State;
use std::time::Duration;

/// Run one `firstboot mailbox` action.
pub fn mailbox(cli: &Cli, action: &MailboxAction, logs: &Logs) -> Result<()> {
    let root = Root::new(&cli.root);
    let (name, verb) = match action {
        MailboxAction::List => return list(&root),
        MailboxAction::Add { name, .. } => (name, "add"),
        MailboxAction::Passwd { name, .. } => (name, "passwd"),
        MailboxAction::Remove { name } => (name, "remove"),
    };
    crate::inputs::text::local_part(name).map_err(Error::Usage)?;
    let cat = Catalog::load(&cli.modules_dirs)?;
    let id = cat
        .module("mail")
        .map(|m| m.id.clone())
        .ok_or_else(|| crate::engine::unknown_module(&cat, "mail"))?;
    let _lock = crate::lock::acquire(&root)?;
    let host = Host::new(
        root.clone(),
        Runner::new(Duration::from_secs(60), Redactor::default()),
    );
    let mut state = State::load(&root)?;
    if let Some(f) = crate::engine::run::recover(&host, &mut state)? {
        println!("an interrupted run of {} was rolled back first", f.module);
    }
    let mut users = read(&root, USERS_FILE)?;
    let mut map = read(&root, MAP_FILE)?;
    let domain = virtual_domain(&root)?;
    // Refuse (duplicate, unknown, from config.yaml) before asking for a password.
    let mut trial = users.clone();
    match action {
        MailboxAction::Add { .. } => trial.add(name, String::new()),
        MailboxAction::Passwd { .. } => trial.replace(name, String::new()),
        _ => trial.remove(name),
    }
    .map_err(|e| Error::Usage(e.to_string()))?;
    let new_hash = match action {
        MailboxAction::Add { password_stdin, .. }
        | MailboxAction::Passwd { password_stdin, .. } => {
            let pw = if *password_stdin {
                password::from_stdin()
            } else {
                password::from_tty(name)
            }
            .map_err(Error::Usage)?;
            hash::argon2id(&pw).map_err(|e| Error::Module {
                module: id.clone(),
                reason: e,
            })?
        }
        _ => String::new(),
    };
    let line = format!("{name}:{new_hash}");
    let entry = format!("{name}@{domain} {name}");
    let usage = |e: crate::mailbox::users::EditError| Error::Usage(e.to_string());
    let mut files = vec![(USERS_FILE, String::new())];
    match action {
        MailboxAction::Add { .. } => {
            users.add(name, line).map_err(usage)?;
            map.add(name, entry).map_err(usage)?;
            files.push((MAP_FILE, String::new()));
        }
        MailboxAction::Passwd { .. } => users.replace(name, line).map_err(usage)?,
        _ => {
            users.remove(name).map_err(usage)?;
            // A map line already gone (edited by hand) is no reason to keep the login.
            let _ = map.remove(name);
            files.push((MAP_FILE, String::new()));
        }
    }
    files[0].1 = users.render();
    if let Some(f) = files.get_mut(1) {
        f.1 = map.render();
    }
    logs.open(&root, Redactor::new(vec![new_hash.clone()]), &[id.as_str()])?;
    let span = tracing::info_span!("module", id = %id);
    let _g = span.enter();
    write(&host, &id, &files).map_err(|reason| Error::Module {
        module: id.clone(),
        reason,
    })?;
    tracing::info!("mailbox {verb} {name}: {USERS_FILE} updated");
    let done = match verb {
        "add" => "added",
        "passwd" => "has a new password",
        _ => "removed (its mail stays under /var/vmail)",
    };
    println!("mailbox {name}@{domain} {done}");
    Ok(())
}

fn read(root: &Root, path: &str) -> Result<UsersFile> {
    let text = root.read(path)?.ok_or_else(|| {
        Error::Usage(format!(
            "{path} does not exist: mailboxes need mail.mode full; run `firstboot run` with it first"
        ))
    })?;
    Ok(UsersFile::parse(&String::from_utf8_lossy(&text)))
}

/// The mailbox domain, as full mode wrote it in main.cf (`virtual_mailbox_domains`).
fn virtual_domain(root: &Root) -> Result<String> {
    let text = root.read("/etc/postfix/main.cf")?.unwrap_or_default();
    String::from_utf8_lossy(&text)
        .lines()
        .filter_map(|l| l.split_once('='))
        .find(|(k, _)| k.trim() == "virtual_mailbox_domains")
        .map(|(_, v)| v.trim().to_string())
        .filter(|d| crate::inputs::kinds::dns_name(d).is_ok())
        .ok_or_else(|| {
            Error::Usage(
                "/etc/postfix/main.cf has no virtual_mailbox_domains: mailboxes need mail.mode full; run `firstboot run` with it first"
                    .into(),
            )
        })
}

/// Write the files as a module's run would: journal, backup, atomic writes keeping
/// their modes and owners, then Postfix reloaded when its map changed (it reads the map
/// at process start); anything failing after the backup puts every file back.
fn write(host: &Host, module: &str, files: &[(&str, String)]) -> std::result::Result<(), String> {
    let root = &host.root;
    let run_id = crate::timefmt::new_run_id();
    crate::journal::begin(root, &run_id, module).map_err(|e| e.to_string())?;
    let mut b = Backup::new(root.clone(), &run_id, module);
    let result = (|| {
        for (path, text) in files {
            let meta = root
                .meta(path)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("{path} vanished"))?;
            let owner = nix::unistd::geteuid()
                .is_root()
                .then_some((meta.uid, meta.gid));
            let before = root.mtime(path).ok().flatten();
            let size = root.read(path).ok().flatten().map(|d| d.len());
            b.record_file(path)
                .and_then(|()| root.write_atomic(path, text.as_bytes(), meta.mode, owner))
                .and_then(|()| b.note_written(path, &sha256_hex(text.as_bytes())))
                .and_then(|()| newer(root, path, before, size, text.len()))
                .map_err(|e| format!("{path} not changed: {e}"))?;
        }
        if host.is_live() && files.iter().any(|(p, _)| *p == MAP_FILE) {
            reload_postfix(host)?;
        }
        Ok::<(), String>(())
    })();
    if let Err(e) = result {
        let rep = backup::restore(host, b.manifest());
        let _ = crate::journal::end(root);
        let also = if rep.is_complete() {
            String::new()
        } else {
            format!("; could not restore: {}", rep.failures())
        };
        return Err(format!("{e} (every file put back){also}"));
    }
    crate::journal::end(root).map_err(|e| e.to_string())
}

/// Dovecot re-reads a passwd-file when its mtime (whole seconds) or size changed: a new
/// password of the same length written within the same second would go unnoticed, so
/// the file's mtime is moved on to the next second then.
fn newer(
    root: &Root,
    path: &str,
    before: Option<(i64, u32)>,
    old_len: Option<usize>,
    new_len: usize,
) -> std::result::Result<(), crate::host::HostError> {
    let (Some(old), Some(now)) = (before, root.mtime(path)?) else {
        return Ok(());
    };
    if old_len == Some(new_len) && now.0 <= old.0 {
        root.set_mtime(path, (old.0 + 1, 0))?;
    }
    Ok(())
}

/// `postfix reload` when Postfix runs (a stopped Postfix reads the map when it starts).
fn reload_postfix(host: &Host) -> std::result::Result<(), String> {
    let running = host
        .services()
        .is_running("postfix")
        .map_err(|e| e.to_string())?;
    if running {
        host.runner
            .run_ok(&["postfix".to_string(), "reload".to_string()], None, &[])
            .map_err(|e| format!("postfix reload failed: {e}"))?;
    }
    Ok(())
}

fn list(root: &Root) -> Result<()> {
    let users = read(root, USERS_FILE)?;
    for (name, source) in users.list() {
        let from = match source {
            Source::Config => "config.yaml (mail.users)",
            Source::Command => "firstboot mailbox add",
        };
        println!("{name:<24} {from}");
    }
    Ok(())
}
