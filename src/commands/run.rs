//! `firstboot run`.

use crate::cli::{Cli, Selection};
use crate::engine::{prepare, run::RunOpts};
use crate::error::Result;
use crate::host::Root;
use crate::instance_data::{instance_id, InstanceData};
use crate::logging::Logs;
use crate::stamp::Stamp;

/// The switches of `firstboot run`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Flags {
    /// Re-run modules done on this instance; ignore the stamp.
    pub force: bool,
    /// Replace hand-edited managed files.
    pub overwrite: bool,
    /// Do nothing when the stamp names this instance.
    pub once_per_instance: bool,
}

/// Check everything, then take the lock, open the logs and run.
pub fn run(cli: &Cli, sel: &Selection, flags: Flags, logs: &Logs) -> Result<()> {
    if flags.once_per_instance && !flags.force {
        if let Some(said) = provisioned_here(cli)? {
            if !cli.quiet {
                println!("{said}");
            }
            return Ok(());
        }
    }
    let last = super::last_profile(cli)?;
    let p = prepare(&super::options(cli, Some(sel)), last.as_deref())?;
    crate::engine::files::managed_are_regular(&p)?;
    let _lock = crate::lock::acquire(&p.host.root)?;
    let ids: Vec<&str> = p.selected.iter().map(|m| m.id.as_str()).collect();
    logs.open(&p.host.root, p.redactor.clone(), &ids)?;
    let mut rep = crate::report::for_stdout(cli.quiet);
    // Preflight first: what no module can fix is said before anything is installed; it
    // never stops the run.
    for r in super::preflight::before_run(&p) {
        if r.status == crate::checks::CheckStatus::Warn {
            rep.note(&format!("preflight WARN {} {}: {}", r.id, r.name, r.detail));
        }
    }
    if let Some(w) = super::ssh_ports::warning(&p.inputs.values, &p.facts.sshd_ports) {
        rep.note(&format!("warning: {w}"));
    }
    let opts = RunOpts {
        force: flags.force,
        overwrite: flags.overwrite,
    };
    let run_id = crate::engine::run::run(&p, opts, rep.as_mut())?;
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

/// What to say when the stamp names this instance (so `--once-per-instance` stops here,
/// before the config is read); `None` when this instance is not provisioned yet.
fn provisioned_here(cli: &Cli) -> Result<Option<String>> {
    let root = Root::new(&cli.root);
    let data = InstanceData::load(&root)?;
    let (Some(id), Some(s)) = (instance_id(&root, data.as_ref())?, Stamp::load(&root)?) else {
        return Ok(None);
    };
    Ok(s.covers(&id).then(|| {
        format!(
            "instance {id} was provisioned by run {} (profile {}) at {}; nothing to do \
             (--once-per-instance; `firstboot run` alone re-runs what changed)",
            s.run, s.profile, s.finished_at
        )
    }))
}
