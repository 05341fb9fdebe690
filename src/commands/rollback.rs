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
        .ok_or_else(|| Error::Usage(format!("unknown module `{module}`")))?;
    let run_id = match run_id {
        Some(r) => r.to_string(),
        None => backup::runs_of(&root, &id)?.pop().ok_or_else(|| {
            Error::Usage(format!(
                "no backup of {id} found under {}",
                backup::BACKUP_ROOT
            ))
        })?,
    };
    let manifest = backup::load(&root, &run_id, &id)?
        .ok_or_else(|| Error::Usage(format!("run {run_id} has no backup of {id}")))?;
    let _lock = crate::lock::acquire(&root)?;
    let host = Host::new(
        root.clone(),
        Runner::new(Duration::from_secs(600), Redactor::default()),
    );
    let mut state = State::load(&root)?;
    crate::engine::run::recover(&host, &mut state)?;
    let edited = backup::edited_since(&root, &manifest)?;
    if !edited.is_empty() && !force {
        return Err(Error::Usage(format!(
            "not rolling back {id}: these files changed since run {run_id} wrote them and the changes would be lost: {}; \
             use --force to roll back anyway",
            edited.join(", ")
        )));
    }
    logs.open(&root, Redactor::default(), &[id.as_str()])?;
    let span = tracing::info_span!("module", id = %id);
    let _g = span.enter();
    tracing::info!("rolling back {id} to before run {run_id}");
    for what in backup::restore(&host, &manifest)? {
        tracing::info!("  {what}");
        println!("{what}");
    }
    if let Some(s) = state.modules.get_mut(&id) {
        s.result = Outcome::Reverted;
        s.managed.clear();
        s.finished_at = crate::timefmt::rfc3339_now();
    }
    state.save(&root)?;
    println!("{id}: rolled back to before run {run_id}");
    Ok(())
}
