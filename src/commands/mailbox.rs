//! `firstboot mailbox add|passwd|remove|list`: edits the mailboxes of full mode kept in
//! Dovecot's users file, below the block `firstboot run` renders from config.yaml, with
//! the same lock, journal and backup as a module's run (so `firstboot rollback mail`
//! undoes it and a kill mid-write is rolled back at the next start).

use crate::backup::{self, Backup};
use crate::catalog::Catalog;
use crate::cli::{Cli, MailboxAction};
use crate::digest::sha256_hex;
use crate::error::{Error, Result};
use crate::host::{Host, Root, Runner};
use crate::logging::Logs;
use crate::mailbox::users::{Source, UsersFile};
use crate::mailbox::{hash, password, USERS_FILE};
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
    let mut users = read(&root)?;
    // Refuse (duplicate, unknown, from config.yaml) before asking for a password.
    let mut trial = users.clone();
    let edit = |u: &mut UsersFile, h: &str| match action {
        MailboxAction::Add { .. } => u.add(name, h),
        MailboxAction::Passwd { .. } => u.passwd(name, h),
        _ => u.remove(name),
    };
    edit(&mut trial, "{ARGON2ID}$x").map_err(|e| Error::Usage(e.to_string()))?;
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
    edit(&mut users, &new_hash).map_err(|e| Error::Usage(e.to_string()))?;
    logs.open(&root, Redactor::new(vec![new_hash.clone()]), &[id.as_str()])?;
    let span = tracing::info_span!("module", id = %id);
    let _g = span.enter();
    write(&host, &id, &users.render()).map_err(|reason| Error::Module {
        module: id.clone(),
        reason,
    })?;
    tracing::info!("mailbox {verb} {name}: {USERS_FILE} updated");
    let done = match verb {
        "add" => "added",
        "passwd" => "has a new password",
        _ => "removed (its mail stays under /var/vmail)",
    };
    println!("mailbox {name} {done}");
    Ok(())
}

fn read(root: &Root) -> Result<UsersFile> {
    let text = root.read(USERS_FILE)?.ok_or_else(|| {
        Error::Usage(format!(
            "{USERS_FILE} does not exist: mailboxes need mail.mode full; run `firstboot run` with it first"
        ))
    })?;
    Ok(UsersFile::parse(&String::from_utf8_lossy(&text)))
}

/// Write the users file as a module's run would: journal, backup, atomic write keeping
/// its mode and owner; anything failing after the backup puts the file back.
fn write(host: &Host, module: &str, text: &str) -> std::result::Result<(), String> {
    let root = &host.root;
    let meta = root
        .meta(USERS_FILE)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("{USERS_FILE} vanished"))?;
    let run_id = crate::timefmt::new_run_id();
    crate::journal::begin(root, &run_id, module).map_err(|e| e.to_string())?;
    let mut b = Backup::new(root.clone(), &run_id, module);
    let owner = nix::unistd::geteuid()
        .is_root()
        .then_some((meta.uid, meta.gid));
    let result = b
        .record_file(USERS_FILE)
        .and_then(|()| root.write_atomic(USERS_FILE, text.as_bytes(), meta.mode, owner))
        .and_then(|()| b.note_written(USERS_FILE, &sha256_hex(text.as_bytes())));
    if let Err(e) = result {
        let rep = backup::restore(host, b.manifest());
        let _ = crate::journal::end(root);
        let also = if rep.is_complete() {
            String::new()
        } else {
            format!("; could not restore: {}", rep.failures())
        };
        return Err(format!("{USERS_FILE} not changed: {e}{also}"));
    }
    crate::journal::end(root).map_err(|e| e.to_string())
}

fn list(root: &Root) -> Result<()> {
    let users = read(root)?;
    for (name, source) in users.list() {
        let from = match source {
            Source::Config => "config.yaml (mail.users)",
            Source::Command => "firstboot mailbox add",
        };
        println!("{name:<24} {from}");
    }
    Ok(())
}
