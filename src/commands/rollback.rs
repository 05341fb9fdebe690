//! `firstboot rollback MODULE [--run RUN_ID]`.

use crate::backup;
use crate::catalog::Catalog;
use crate::cli::Cli;
use crate::error::{Error, Result};
use crate::host::{Host, Root, Runner};
use crate::logging::Logs;
use crate::redact::Redactor;
use crate::state::{Outcome, State};
use std::time::Duration;

/// Restore what the module's run changed.
pub fn rollback(
    cli: &Cli,
    module: &str,
    run_id: Option<&str>,
    force: bool,
    logs: &Logs,
) -> Result<()> {
    let root = Root::new(&cli.root);
    let cat = Catalog::load(&cli.modules_dirs)?;
    let id = cat
        .module(module)
        .map(|m| m.id.clone())
        .ok_or_else(|| crate::engine::unknown_module(&cat, module))?;
    let _lock = crate::lock::acquire(&root)?;
    let host = Host::new(
        root.clone(),
        Runner::new(Duration::from_secs(600), Redactor::default()),
    );
    let mut state = State::load(&root)?;
    // An interrupted run is rolled back first, whatever was asked; if it was this
    // module's (the run asked for, or the latest), that is the whole job.
    let recovered = crate::engine::run::recover(&host, &mut state)?;
    if let Some(f) = recovered.as_ref().filter(|f| f.module == id) {
        if run_id.is_none_or(|r| r == f.run_id) {
            println!(
                "{id}: run {} had been interrupted and is now rolled back",
                f.run_id
            );
            return Ok(());
        }
    }
    // Exit 2 promises nothing changed: not so once a recovery rolled something back.
    let refuse = |reason: String| match &recovered {
        None => Error::Usage(reason),
        Some(f) => Error::Module {
            module: id.clone(),
            reason: format!(
                "{reason} (an interrupted run of {} was rolled back first)",
                f.module
            ),
        },
    };
    let run_id = match run_id {
        Some(r) => r.to_string(),
        None => backup::runs_of(&root, &id)?.pop().ok_or_else(|| {
            refuse(format!(
                "no backup of {id} found under {}",
                backup::BACKUP_ROOT
            ))
        })?,
    };
    let mut manifest = backup::load(&root, &run_id, &id)?
        .ok_or_else(|| refuse(format!("run {run_id} has no backup of {id}")))?;
    if let Some(at) = &manifest.rolled_back {
        println!("{id}: run {run_id} was already rolled back ({at}); nothing to do");
        return Ok(());
    }
    let edited = backup::edited_since(&root, &manifest)?;
    if !edited.is_empty() && !force {
        return Err(refuse(format!(
            "not rolling back {id}: these files changed since run {run_id} wrote them and the changes would be lost: {}; \
             use --force to roll back anyway",
            edited.join(", ")
        )));
    }
    logs.open(&root, Redactor::default(), &[id.as_str()])?;
    let span = tracing::info_span!("module", id = %id);
    let _g = span.enter();
    tracing::info!("rolling back {id} to before run {run_id}");
    let rep = backup::restore(&host, &manifest);
    for what in &rep.done {
        tracing::info!("  {what}");
        println!("{what}");
    }
    for f in &rep.failed {
        tracing::error!("  could not restore {f}");
        println!("could not restore {f}");
    }
    if let Some(s) = state.modules.get_mut(&id) {
        s.result = Outcome::Reverted;
        // Back to what firstboot called its own before that run: hand edits made from
        // now on are still noticed.
        s.managed = backup::managed_after_restore(&s.managed, &manifest, &rep);
        s.finished_at = crate::timefmt::rfc3339_now();
    }
    let saved = state.save(&root);
    if !rep.is_complete() {
        let also = match &saved {
            Err(e) => format!("; and saving the state failed too: {e}"),
            Ok(()) => String::new(),
        };
        return Err(Error::Module {
            module: id,
            reason: format!(
                "rollback of run {run_id} could not restore: {} (everything else was restored){also}",
                rep.failures()
            ),
        });
    }
    saved?;
    backup::mark_rolled_back(&root, &mut manifest)?;
    println!("{id}: rolled back to before run {run_id}");
    Ok(())
}
