//! `firstboot run`: for each selected module, in order: skip it if done on this instance,
//! stop if a managed file drifted, mark it in flight, apply its steps with backups, run
//! its checks, and roll it back (exit 1) when a step or check fails.

use super::module::Built;
use super::plan::{plan_built, step_cx};
use super::Prepared;
use crate::backup::{self, Backup};
use crate::error::{Error, Result};
use crate::host::Host;
use crate::journal;
use crate::manifest::Module;
use crate::report::Reporter;
use crate::state::{ModuleState, Outcome, State};
use crate::steps::{Change, Planned, RunState};
use std::collections::BTreeMap;

/// Run-time switches.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunOpts {
    /// Re-run modules already done on this instance.
    pub force: bool,
    /// Replace hand-edited managed files (the edited copy is kept in the backup).
    pub overwrite: bool,
}

/// Test hook (`FIRSTBOOT_FAILPOINT=abort-after-changes:N`): abort the process, as a
/// power loss or kill -9 would, right after the N-th change of the run.
struct Failpoint(Option<u32>);

impl Failpoint {
    fn from_env() -> Self {
        let n = std::env::var("FIRSTBOOT_FAILPOINT").ok().and_then(|v| {
            v.strip_prefix("abort-after-changes:")
                .and_then(|n| n.parse().ok())
        });
        Failpoint(n)
    }
    fn change(&mut self) {
        if let Some(n) = self.0.as_mut() {
            *n = n.saturating_sub(1);
            if *n == 0 {
                std::process::abort();
            }
        }
    }
}

fn record(
    state: &mut State,
    m: &Module,
    run_id: &str,
    instance: &str,
    result: Outcome,
    error: Option<String>,
    managed: BTreeMap<String, String>,
) {
    state.modules.insert(
        m.id.clone(),
        ModuleState {
            last_run: run_id.to_string(),
            result,
            instance_id: instance.to_string(),
            finished_at: crate::timefmt::rfc3339_now(),
            error,
            managed,
        },
    );
}

/// Roll back a module a killed run left in flight; returns its id.
pub fn recover(host: &Host, state: &mut State) -> Result<Option<String>> {
    let Some(f) = journal::pending(&host.root)? else {
        return Ok(None);
    };
    tracing::warn!(
        "run {} was interrupted in module {}; rolling that module back",
        f.run_id,
        f.module
    );
    if let Some(m) = backup::load(&host.root, &f.run_id, &f.module)? {
        for what in backup::restore(host, &m)? {
            tracing::info!("  {what}");
        }
    }
    // The module's files are back as they were before that run, so its managed hashes
    // from the last good run still describe them.
    let entry = state
        .modules
        .entry(f.module.clone())
        .or_insert_with(|| ModuleState {
            last_run: String::new(),
            result: Outcome::Interrupted,
            instance_id: String::new(),
            finished_at: String::new(),
            error: None,
            managed: BTreeMap::new(),
        });
    entry.result = Outcome::Interrupted;
    entry.last_run = f.run_id.clone();
    entry.finished_at = crate::timefmt::rfc3339_now();
    entry.error = Some("killed mid-module; rolled back at the next start".into());
    state.save(&host.root)?;
    journal::end(&host.root)?;
    Ok(Some(f.module))
}

/// Run the selected modules.
pub fn run(p: &Prepared, opts: RunOpts, rep: &mut dyn Reporter) -> Result<String> {
    let root = &p.host.root;
    let run_id = crate::timefmt::new_run_id();
    let instance = &p.facts.instance_id;
    let mut state = State::load(root)?;
    let recovered = match recover(&p.host, &mut state)? {
        Some(m) => {
            rep.note(&format!("an interrupted run of {m} was rolled back first"));
            true
        }
        None => false,
    };
    let mut dirty = recovered || state.profile.as_deref() != Some(p.profile.as_str());
    state.profile = Some(p.profile.clone());
    let mut failpoint = Failpoint::from_env();
    tracing::info!(
        "run {run_id}: profile {}, {} module(s), instance {instance}",
        p.profile,
        p.built.len()
    );
    let mut changed_any = false;
    // Every module was rendered and typed by `prepare`, before anything changed.
    for (m, b) in p.modules() {
        let (ctx, built) = (&b.ctx, &b.built);
        let span = tracing::info_span!("module", id = %m.id);
        let _g = span.enter();
        if !opts.force && state.done_on(&m.id, instance) {
            tracing::info!("already done on this instance; skipped");
            rep.skipped(&m.id);
            continue;
        }
        let last = state.managed(&m.id);
        let fail = |reason: String| Error::Module {
            module: m.id.clone(),
            reason,
        };
        // A bad input found while planning is an input error (exit 2: nothing changed)
        // only if no earlier module of this run changed anything.
        let (plans, planned_managed) = plan_built(p, m, built, ctx, &last, opts.overwrite)
            .map_err(|e| match changed_any {
                false => e.into_error(p, &m.id),
                true => fail(format!("cannot be planned: {e}")),
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
            record(
                &mut state,
                m,
                &run_id,
                instance,
                Outcome::Stopped,
                Some(reason.clone()),
                last,
            );
            state.save(root)?;
            rep.module_end(&m.id, false, "stopped (drift)");
            return Err(fail(reason));
        }
        rep.module_start(&m.id, plans.len());
        // Only a module with something to change needs the journal and a state save of
        // its own; a no-op module is recorded with the final save.
        let changes = plans.iter().any(|s| s.change.is_change());
        if changes {
            journal::begin(root, &run_id, &m.id)?;
        }
        let mut backup = Backup::new(root.clone(), &run_id, &m.id);
        match apply_module(
            p,
            m,
            built,
            (&plans, planned_managed),
            ctx,
            &last,
            opts.overwrite,
            &mut backup,
            rep,
            &mut failpoint,
        ) {
            Ok(managed) => {
                // A module that changed nothing and was already recorded done on this
                // instance with the same managed files keeps its record: a no-op run
                // writes no state (and pays no fsync).
                let same = state.modules.get(&m.id).is_some_and(|s| {
                    s.result == Outcome::Ok && s.instance_id == *instance && s.managed == managed
                });
                if changes || !same {
                    record(&mut state, m, &run_id, instance, Outcome::Ok, None, managed);
                    dirty = true;
                }
                if changes {
                    state.save(root)?;
                    journal::end(root)?;
                    changed_any = true;
                }
                rep.module_end(&m.id, true, "ok");
            }
            Err(reason) => {
                tracing::error!("{reason}; rolling back");
                for what in backup::restore(&p.host, backup.manifest())? {
                    tracing::info!("  rollback: {what}");
                }
                record(
                    &mut state,
                    m,
                    &run_id,
                    instance,
                    Outcome::RolledBack,
                    Some(reason.clone()),
                    last,
                );
                state.save(root)?;
                journal::end(root)?;
                rep.module_end(&m.id, false, "failed, rolled back");
                return Err(fail(format!("failed and was rolled back: {reason}")));
            }
        }
    }
    if dirty {
        state.save(root)?;
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
    // Steps the plan found with nothing to do are not re-planned by `apply` (the plan
    // was made a moment ago, with the same inputs); their managed hashes come from it.
    let mut run = RunState {
        managed: planned_managed,
        ..RunState::default()
    };
    for (s, planned) in built.steps.iter().zip(plans) {
        let step = s.step();
        if matches!(planned.change, Change::None | Change::Skipped) {
            tracing::info!("{}: {}", planned.target, planned.summary);
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
        tracing::info!("{}: {}", done.target, done.summary);
        rep.step(&done);
        if done.change.is_change() {
            failpoint.change();
        }
    }
    for c in &built.checks {
        let r = c.run(&p.host);
        tracing::info!("check {}: {:?} {}", r.name, r.status, r.detail);
        rep.check(&r);
        if r.status == super::checks::CheckStatus::Fail {
            return Err(format!(
                "check `{}` failed: {}",
                r.name,
                p.redactor.mask(&r.detail)
            ));
        }
    }
    Ok(run.managed)
}
