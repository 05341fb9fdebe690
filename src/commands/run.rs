//! `firstboot run`.

use crate::cli::{Cli, Selection};
use crate::engine::{prepare, run::RunOpts};
use crate::error::Result;
use crate::logging::Logs;

/// Check everything, then take the lock, open the logs and run.
pub fn run(cli: &Cli, sel: &Selection, force: bool, overwrite: bool, logs: &Logs) -> Result<()> {
    let last = super::last_profile(cli)?;
    let p = prepare(&super::options(cli, Some(sel)), last.as_deref())?;
    crate::engine::files::managed_are_regular(&p)?;
    let _lock = crate::lock::acquire(&p.host.root)?;
    let ids: Vec<&str> = p.selected.iter().map(|m| m.id.as_str()).collect();
    logs.open(&p.host.root, p.redactor.clone(), &ids)?;
    let mut rep = crate::report::for_stdout(cli.quiet);
    let run_id = crate::engine::run::run(&p, RunOpts { force, overwrite }, rep.as_mut())?;
    rep.note(&format!("run {run_id} finished"));
    if !cli.quiet {
        if let Some(dns) = super::dns_summary::after_run(&p) {
            print!("{dns}");
        }
    }
    // The process ends now: freeing the catalog, templates and inputs piece by piece
    // is a measurable share of a no-op run and releases nothing the OS would not.
    std::mem::forget(p);
    Ok(())
}
