//! `firstboot run`: for each selected module, in order: skip it if done on this instance,
//! stop if a managed file drifted, mark it in flight, apply its steps with backups, run
//! its checks, and roll it back (exit 1) when a step or check fails.

use super::inputs_digest::inputs_digest;
use super::module::Built;
use super::plan::{plan_built, step_cx};
use super::Prepared;
use crate::backup::{self, Backup, RestoreReport};
use crate::error::{Error, Result};
use crate::host::{Host, Root};
use crate::journal;
use crate::manifest::Module;
use crate::report::Reporter;
use crate::state::{Done, ModuleState, Outcome, State};
use crate::steps::{Change, Planned, RunState, StepKind};
use std::collections::BTreeMap;

/// Run-time switches.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunOpts {
    /// Re-run modules already done on this instance.
    pub force: bool,
    /// Replace hand-edited managed files (the edited copy is kept in the backup).
    pub overwrite: bool,
}

/// Test hook (`FIRSTBOOT_FAILPOINT=POINT:N`): abort the process, as a power loss or
/// kill -9 would, at the N-th time the run passes POINT: `abort-after-changes` (right
/// after a change), `abort-after-state-save` (after a module's state is saved, before its
/// journal ends).
struct Failpoint {
    point: String,
    left: Option<u32>,
}

impl Failpoint {
    fn from_env() -> Self {
        let v = std::env::var("FIRSTBOOT_FAILPOINT").unwrap_or_default();
        let (point, n) = v.rsplit_once(':').unwrap_or_default();
        Failpoint {
            point: point.to_string(),
            left: n.parse().ok(),
        }
    }
    fn pass(&mut self, point: &str) {
        if self.point != point {
            return;
        }
        if let Some(n) = self.left.as_mut() {
            *n = n.saturating_sub(1);
            if *n == 0 {
                std::process::abort();
            }
        }
    }
    fn change(&mut self) {
        self.pass("abort-after-changes");
    }
}

/// How one module's run ended.
pub enum ModuleOutcome {
    /// Done on this instance earlier: not run.
    Skipped,
    /// Its steps ran and its checks passed.
    Applied {
        /// Whether anything was changed (else nothing is written for it).
        changed: bool,
        /// Managed hashes after it.
        managed: BTreeMap<String, String>,
        /// Digest of the inputs it ran with.
        inputs: String,
    },
    /// A managed file was edited by hand: stopped before changing anything.
    Stopped {
        /// Why.
        reason: String,
    },
    /// A step or check failed and the module was rolled back.
    Failed {
        /// The failure.
        reason: String,
        /// What the rollback did and could not do.
        rollback: RestoreReport,
        /// Managed hashes after the rollback.
        managed: BTreeMap<String, String>,
    },
}

/// Where a module's outcome is recorded: the state file and the journal are written
/// here and nowhere else in a run. Returns the error the run stops with, if any.
struct Recorder<'a> {
    root: &'a Root,
    state: &'a mut State,
    run_id: &'a str,
    instance: &'a str,
    dirty: bool,
    failpoint: Failpoint,
}

impl Recorder<'_> {
    fn set(
        &mut self,
        m: &Module,
        result: Outcome,
        error: Option<String>,
        managed: BTreeMap<String, String>,
        inputs: Option<String>,
    ) {
        self.state.modules.insert(
            m.id.clone(),
            ModuleState {
                last_run: self.run_id.to_string(),
                result,
                instance_id: self.instance.to_string(),
                finished_at: crate::timefmt::rfc3339_now(),
                error,
                inputs,
                managed,
            },
        );
    }

    /// Record `outcome`; `journal_open` says whether the module's in-flight marker is set.
    fn record(
        &mut self,
        m: &Module,
        outcome: ModuleOutcome,
        journal_open: bool,
    ) -> Result<Option<Error>> {
        let fail = |reason: String| Error::Module {
            module: m.id.clone(),
            reason,
        };
        let stop = match outcome {
            ModuleOutcome::Skipped => None,
            ModuleOutcome::Applied {
                changed,
                managed,
                inputs,
            } => {
                // A module that changed nothing and was already recorded done on this
                // instance with the same managed files keeps its record: a no-op run
                // writes no state (and pays no fsync).
                let same = self.state.modules.get(&m.id).is_some_and(|s| {
                    s.result == Outcome::Ok
                        && s.instance_id == self.instance
                        && s.managed == managed
                        && s.inputs.as_deref() == Some(inputs.as_str())
                });
                if changed || !same {
                    self.set(m, Outcome::Ok, None, managed, Some(inputs));
                    self.dirty = true;
                }
                None
            }
            ModuleOutcome::Stopped { reason } => {
                let last = self.state.managed(&m.id);
                self.set(m, Outcome::Stopped, Some(reason.clone()), last, None);
                Some(fail(reason))
            }
            ModuleOutcome::Failed {
                reason,
                rollback,
                managed,
            } => {
                let msg = if rollback.is_complete() {
                    format!("failed and was rolled back: {reason}")
                } else {
                    format!(
                        "failed: {reason}; the rollback restored everything else but not: {} \
                         (the backup is kept under {}; the next run continues from the files as they are)",
                        rollback.failures(),
                        crate::backup::backup_dir(self.run_id, &m.id)
                    )
                };
                self.set(m, Outcome::RolledBack, Some(msg.clone()), managed, None);
                Some(fail(msg))
            }
        };
        // A failure to record is said together with the failure being recorded, never
        // instead of it.
        let also = |stop: Option<Error>, what: &str, e: crate::host::HostError| match stop {
            Some(Error::Module { module, reason }) => Error::Module {
                module,
                reason: format!("{reason}; and {what} failed too: {e}"),
            },
            _ => Error::Host(e),
        };
        if journal_open || stop.is_some() {
            if let Err(e) = self.state.save(self.root) {
                return Err(also(stop, "saving the state", e));
            }
            self.dirty = false;
            self.failpoint.pass("abort-after-state-save");
        }
        if journal_open {
            if let Err(e) = journal::end(self.root) {
                return Err(also(stop, "ending the journal", e));
            }
        }
        Ok(stop)
    }
}

/// Roll back a module a killed run left in flight; returns which run and module it was. A rollback that cannot
/// restore everything still ends the journal (the next run continues from the files as
/// they are) and is returned as the error, naming each file it could not restore.
pub fn recover(host: &Host, state: &mut State) -> Result<Option<journal::Inflight>> {
    // We hold the lock: a temp file of ours in the state directory is a killed write's.
    for t in backup::remove_temp_files_in(&host.root, crate::state::STATE_DIR) {
        tracing::info!("removed leftover temp file {t}");
    }
    let Some(f) = journal::pending(&host.root)? else {
        return Ok(None);
    };
    tracing::warn!(
        "run {} was interrupted in module {}; rolling that module back",
        f.run_id,
        f.module
    );
    // Our temp files in the module's backup directory (a kill during its very first
    // backup write leaves one there before any manifest exists).
    let dir = backup::backup_dir(&f.run_id, &f.module);
    for d in [dir.clone(), format!("{dir}/files")] {
        for t in backup::remove_temp_files_in(&host.root, &d) {
            tracing::info!("removed leftover temp file {t}");
        }
    }
    let mut incomplete = None;
    let entry = state
        .modules
        .entry(f.module.clone())
        .or_insert_with(|| ModuleState {
            last_run: String::new(),
            result: Outcome::Interrupted,
            instance_id: String::new(),
            finished_at: String::new(),
            error: None,
            inputs: None,
            managed: BTreeMap::new(),
        });
    // Without a backup manifest the run was killed before its first change.
    if let Some(mut m) = backup::load(&host.root, &f.run_id, &f.module)? {
        let rep = backup::restore(host, &m);
        for what in &rep.done {
            tracing::info!("  {what}");
        }
        // The module's files are back as they were before that run (a kill after the
        // state save left that run's hashes there): its drift basis goes back too.
        entry.managed = backup::managed_after_restore(&entry.managed, &m, &rep);
        if rep.is_complete() {
            backup::mark_rolled_back(&host.root, &mut m)?;
        } else {
            incomplete = Some(rep.failures());
        }
    }
    entry.result = Outcome::Interrupted;
    entry.last_run = f.run_id.clone();
    entry.finished_at = crate::timefmt::rfc3339_now();
    entry.error = Some(match &incomplete {
        None => "killed mid-module; rolled back at the next start".into(),
        Some(what) => {
            format!("killed mid-module; the rollback at the next start could not restore: {what}")
        }
    });
    state.save(&host.root)?;
    journal::end(&host.root)?;
    match incomplete {
        None => Ok(Some(f)),
        Some(what) => Err(Error::Module {
            module: f.module,
            reason: format!(
                "was interrupted by a kill; rolling it back could not restore: {what} \
                 (everything else was restored; the next run continues from the files as they are)"
            ),
        }),
    }
}

/// Run the selected modules.
pub fn run(p: &Prepared, opts: RunOpts, rep: &mut dyn Reporter) -> Result<String> {
    let root = &p.host.root;
    let run_id = crate::timefmt::new_run_id();
    let instance = &p.facts.instance_id;
    let mut state = State::load(root)?;
    let recovered = match recover(&p.host, &mut state)? {
        Some(f) => {
            rep.note(&format!(
                "an interrupted run of {} was rolled back first",
                f.module
            ));
            true
        }
        None => false,
    };
    let dirty = recovered || state.profile.as_deref() != Some(p.profile.as_str());
    state.profile = Some(p.profile.clone());
    tracing::info!(
        "run {run_id}: profile {}, {} module(s), instance {instance}",
        p.profile,
        p.built.len()
    );
    let mut rec = Recorder {
        root,
        state: &mut state,
        run_id: &run_id,
        instance,
        dirty,
        failpoint: Failpoint::from_env(),
    };
    // A recovery already changed files: from here an input problem is no longer
    // "nothing changed" (exit 2).
    let mut changed_any = recovered;
    // Every module was rendered and typed by `prepare`, before anything changed.
    for (m, b) in p.modules() {
        let (ctx, built) = (&b.ctx, &b.built);
        let span = tracing::info_span!("module", id = %m.id);
        let _g = span.enter();
        let inputs = inputs_digest(m, ctx);
        let last = rec.state.managed(&m.id);
        match rec.state.done_on(&m.id, instance, &inputs) {
            Done::Yes if !opts.force => {
                tracing::info!("already done on this instance; skipped");
                // Not re-run, but a hand edit of what it manages is still said.
                let drifted = drifted_files(p, m, built, ctx, &last);
                if !drifted.is_empty() {
                    let msg = format!(
                        "{}: {} edited by hand since firstboot wrote it (the module is done and was not run; `firstboot plan --force` shows the difference)",
                        m.id,
                        drifted.join(", ")
                    );
                    tracing::warn!("{msg}");
                    rep.note(&msg);
                }
                rep.skipped(&m.id);
                rec.record(m, ModuleOutcome::Skipped, false)?;
                continue;
            }
            Done::InputsChanged if !opts.force => {
                let msg = format!(
                    "{}: its inputs changed since its last run on this instance; running it again",
                    m.id
                );
                tracing::info!("{msg}");
                rep.note(&msg);
            }
            _ => {}
        }
        // A bad input found while planning is an input error (exit 2: nothing changed)
        // only if nothing was changed before it in this run.
        let (plans, planned_managed) = plan_built(p, m, built, ctx, &last, opts.overwrite)
            .map_err(|e| match changed_any {
                false => e.into_error(p, &m.id),
                true => Error::Module {
                    module: m.id.clone(),
                    reason: format!("cannot be planned: {e}"),
                },
            })?;
        let drifted: Vec<&str> = plans
            .iter()
            .filter(|s| matches!(s.change, Change::Drift { .. }))
            .map(|s| s.target.as_str())
            .collect();
        if !drifted.is_empty() {
            let reason = format!(
                "stopped before changing anything: {} edited by hand since firstboot wrote it; \
                 `firstboot plan` shows the difference, `--overwrite` replaces it (the edited copy is kept in the backup)",
                drifted.join(", ")
            );
            tracing::warn!("{reason}");
            rep.module_end(&m.id, false, "stopped (drift)");
            if let Some(e) = rec.record(m, ModuleOutcome::Stopped { reason }, false)? {
                return Err(e);
            }
            continue;
        }
        rep.module_start(&m.id, plans.len());
        // Only a module with something to change needs the journal and a state save of
        // its own; a no-op module is recorded with the final save.
        let changes = plans.iter().any(|s| s.change.is_change());
        if changes {
            journal::begin(root, &run_id, &m.id)?;
            changed_any = true;
        }
        let mut backup = Backup::new(root.clone(), &run_id, &m.id);
        let outcome = match apply_module(
            p,
            m,
            built,
            (&plans, planned_managed),
            ctx,
            &last,
            opts.overwrite,
            &mut backup,
            rep,
            &mut rec.failpoint,
        ) {
            Ok(managed) => {
                rep.module_end(&m.id, true, "ok");
                ModuleOutcome::Applied {
                    changed: changes,
                    managed,
                    inputs,
                }
            }
            Err(reason) => {
                tracing::error!("{reason}; rolling back");
                let rollback = backup::restore(&p.host, backup.manifest());
                for what in &rollback.done {
                    tracing::info!("  rollback: {what}");
                }
                for what in &rollback.failed {
                    tracing::error!("  rollback could not restore {what}");
                }
                if rollback.is_complete() && !backup.manifest().entries.is_empty() {
                    let mut done = backup.manifest().clone();
                    backup::mark_rolled_back(root, &mut done)?;
                }
                let managed = backup::managed_after_restore(&last, backup.manifest(), &rollback);
                rep.module_end(&m.id, false, "failed, rolled back");
                ModuleOutcome::Failed {
                    reason,
                    rollback,
                    managed,
                }
            }
        };
        if let Some(e) = rec.record(m, outcome, changes)? {
            return Err(e);
        }
    }
    if rec.dirty {
        rec.state.save(root)?;
    }
    // Every module of the whole profile is done on this instance: stamp it (what
    // `run --once-per-instance` reads) unless nothing names the instance or the stamp
    // already does (a no-op run pays no write).
    let whole = p.selected.len() == p.profile_modules.len();
    let stamped = crate::stamp::Stamp::load(root)?.is_some_and(|s| s.covers(instance));
    if whole && instance != crate::stamp::UNKNOWN_INSTANCE && !stamped {
        crate::stamp::Stamp {
            instance_id: instance.clone(),
            run: run_id.clone(),
            profile: p.profile.clone(),
            finished_at: crate::timefmt::rfc3339_now(),
        }
        .save(root)?;
    }
    Ok(run_id)
}

#[allow(clippy::too_many_arguments)]
fn apply_module(
    p: &Prepared,
    m: &Module,
    built: &Built,
    (plans, planned_managed): (&[Planned], BTreeMap<String, String>),
    ctx: &serde_json::Value,
    last: &BTreeMap<String, String>,
    overwrite: bool,
    backup: &mut Backup,
    rep: &mut dyn Reporter,
    failpoint: &mut Failpoint,
) -> std::result::Result<BTreeMap<String, String>, String> {
    let cx = step_cx(p, m, ctx, last, overwrite);
    // Until a step of this module changes something, the steps the plan found with
    // nothing to do are not re-planned by `apply` (the plan was made a moment ago, from
    // the same files); their managed hashes come from it. After a change, every step is
    // planned again: its input may be what an earlier step just made (the DKIM record
    // the publish step sends is computed from the key the step before it generated).
    let mut run = RunState {
        managed: planned_managed,
        ..RunState::default()
    };
    let mut changed = false;
    for (s, planned) in built.steps.iter().zip(plans) {
        let step = s.step();
        if !changed && matches!(planned.change, Change::None | Change::Skipped) {
            log_step(planned);
            rep.step(planned);
            continue;
        }
        let done = step.apply(&cx, &mut run, backup).map_err(|e| {
            format!(
                "step `{}` failed: {}",
                step.target(),
                p.redactor.mask(&e.to_string())
            )
        })?;
        log_step(&done);
        rep.step(&done);
        if done.change.is_change() {
            changed = true;
            failpoint.change();
        }
    }
    let cx = p.check_cx(backup.manifest());
    // A run that changed nothing leaves no trace in the daemons' logs: the checks that
    // speak to them as a client does wait for `validate` (or a run that changes something).
    let checks: Vec<_> = built
        .checks
        .iter()
        .filter(|d| changed || !d.kind.check().probes())
        .cloned()
        .collect();
    let results = crate::checks::run_checks(&cx, &checks, &mut |r| rep.check(r));
    let mut blocking = Vec::with_capacity(results.len());
    for (r, d) in results.into_iter().zip(&checks) {
        if d.advisory && r.status == crate::checks::CheckStatus::Fail {
            tracing::warn!(
                "check {} failed: advisory (only the provider can fix it), the module is kept; `firstboot validate` reports it until it is fixed",
                r.id
            );
            continue;
        }
        blocking.push(r);
    }
    crate::checks::first_failure(&blocking)?;
    Ok(run.managed)
}

/// The managed files and blocks of a done module that were edited by hand since
/// firstboot wrote them (only file and block steps are planned: nothing else drifts).
fn drifted_files(
    p: &Prepared,
    m: &Module,
    built: &Built,
    ctx: &serde_json::Value,
    last: &BTreeMap<String, String>,
) -> Vec<String> {
    let files = Built {
        steps: built
            .steps
            .iter()
            .filter(|s| matches!(s, StepKind::File(_) | StepKind::Block(_)))
            .cloned()
            .collect(),
        checks: Vec::new(),
        records: Vec::new(),
    };
    match plan_built(p, m, &files, ctx, last, false) {
        Ok((plans, _)) => plans
            .into_iter()
            .filter(|s| matches!(s.change, Change::Drift { .. }))
            .map(|s| s.target)
            .collect(),
        Err(e) => {
            tracing::warn!("could not look for hand edits: {e}");
            Vec::new()
        }
    }
}

/// Log a step's outcome. A step that changed something is on stdout already (a progress
/// line): its log event goes to the log files only; an unchanged step, which the progress
/// lines leave out, is also said on stderr with `-v`.
fn log_step(s: &Planned) {
    if s.change == Change::None {
        tracing::info!("{}: {}", s.target, s.summary);
    } else {
        tracing::info!(target: "progress", "{}: {}", s.target, s.summary);
    }
}
