//! `firstboot plan`: what a run would do, per module and step, with unified diffs.
//! Reads only: nothing is written, not even a log.

use super::module::Built;
use super::Prepared;
use crate::state::{Done, State};
use crate::steps::{Change, Planned, RunState, StepCx, StepError};
use serde::Serialize;
use std::collections::BTreeMap;

/// One module's plan.
#[derive(Debug, Serialize)]
pub struct ModulePlan {
    /// Module id.
    pub id: String,
    /// Short name.
    pub name: String,
    /// `run`, `skip` (done on this instance) or `error`.
    pub status: String,
    /// Why it runs although it completed here before (its inputs changed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Steps and their changes.
    pub steps: Vec<Planned>,
    /// Why planning failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Why planning failed, typed (not in the JSON: `error` says it).
    #[serde(skip)]
    pub failure: Option<PlanError>,
}

/// The whole plan.
#[derive(Debug, Serialize)]
pub struct PlanReport {
    /// Profile.
    pub profile: String,
    /// Instance id.
    pub instance_id: String,
    /// Modules in order.
    pub modules: Vec<ModulePlan>,
}

/// The context a module's steps are planned and applied with.
pub fn step_cx<'a>(
    p: &'a Prepared,
    m: &'a crate::manifest::Module,
    ctx: &'a serde_json::Value,
    last: &'a BTreeMap<String, String>,
    overwrite: bool,
) -> StepCx<'a> {
    StepCx {
        host: &p.host,
        templates: &m.templates,
        module_id: &m.id,
        ctx,
        redactor: &p.redactor,
        last_managed: last,
        overwrite,
    }
}

/// Plan a module's built steps in order (each sees what earlier ones would change);
/// also returns the managed hashes the plan recorded.
pub fn plan_built(
    p: &Prepared,
    m: &crate::manifest::Module,
    built: &Built,
    ctx: &serde_json::Value,
    last: &BTreeMap<String, String>,
    overwrite: bool,
) -> Result<(Vec<Planned>, BTreeMap<String, String>), PlanError> {
    let cx = step_cx(p, m, ctx, last, overwrite);
    let mut run = RunState::default();
    let steps = built
        .steps
        .iter()
        .map(|s| {
            s.step().plan(&cx, &mut run).map_err(|e| match e {
                StepError::Input { key, reason } => PlanError::Input {
                    key,
                    reason: p.redactor.mask(&reason),
                },
                e => PlanError::Other(format!(
                    "{}: {}",
                    s.step().target(),
                    p.redactor.mask(&e.to_string())
                )),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((steps, run.managed))
}

/// Why a module could not be planned.
#[derive(Debug, Clone)]
pub enum PlanError {
    /// A config input is unusable (exit 2: nothing changed).
    Input {
        /// Config key.
        key: String,
        /// Why.
        reason: String,
    },
    /// Anything else (a broken template, an unreachable host...).
    Other(String),
}

impl std::fmt::Display for PlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PlanError::Input { key, reason } => write!(f, "{key}: {reason}"),
            PlanError::Other(m) => f.write_str(m),
        }
    }
}

impl PlanError {
    /// The engine error: an input error for bad inputs, a module failure otherwise.
    pub fn into_error(self, p: &Prepared, module: &str) -> crate::error::Error {
        match self {
            PlanError::Input { key, reason } => p.input_error(&key, &reason),
            PlanError::Other(m) => crate::error::Error::Module {
                module: module.to_string(),
                reason: format!("cannot be planned: {m}"),
            },
        }
    }
}

/// Plan every selected module.
pub fn plan(p: &Prepared, state: &State, force: bool, overwrite: bool) -> PlanReport {
    let mut modules = Vec::new();
    for (m, b) in p.modules() {
        let done = state.done_on(
            &m.id,
            &p.facts.instance_id,
            &super::inputs_digest::inputs_digest(m, &b.ctx),
        );
        let skip = !force && done == Done::Yes;
        let reason = (!force && done == Done::InputsChanged)
            .then(|| "its inputs changed since its last run on this instance".to_string());
        let last = state.managed(&m.id);
        let (status, steps, error) = match plan_built(p, m, &b.built, &b.ctx, &last, overwrite) {
            Ok((s, _)) => (if skip { "skip" } else { "run" }, s, None),
            Err(e) => ("error", Vec::new(), Some(e)),
        };
        let (error, failure) = (error.as_ref().map(ToString::to_string), error);
        modules.push(ModulePlan {
            id: m.id.clone(),
            name: m.name().to_string(),
            status: status.into(),
            reason,
            steps,
            error,
            failure,
        });
    }
    PlanReport {
        profile: p.profile.clone(),
        instance_id: p.facts.instance_id.clone(),
        modules,
    }
}

/// The plan as text: one block per module, diffs indented.
pub fn render_text(r: &PlanReport) -> String {
    let mut out = format!(
        "profile {} (instance {})\n\
         legend: + create  ~ update  x remove  ! edited by hand, left alone  > act on the running system  - not run here (offline root)\n",
        r.profile, r.instance_id
    );
    for m in &r.modules {
        let head = match m.status.as_str() {
            "skip" => "already done on this instance, skipped (--force re-runs it)",
            "error" => "cannot be planned",
            _ => "will run",
        };
        let why = m
            .reason
            .as_deref()
            .map(|r| format!(" again: {r}"))
            .unwrap_or_default();
        out.push_str(&format!("\n== {} ({}): {head}{why}\n", m.id, m.name));
        if let Some(e) = &m.error {
            out.push_str(&format!("   error: {e}\n"));
        }
        for s in &m.steps {
            let tag = match &s.change {
                Change::None => "  ",
                Change::Create { .. } => "+ ",
                Change::Update { .. } => "~ ",
                Change::Drift { .. } => "! ",
                Change::Act => "> ",
                Change::Remove => "x ",
                Change::Skipped => "- ",
            };
            out.push_str(&format!(" {tag}{}: {}\n", s.target, s.summary));
            match &s.change {
                Change::Create { diff: Some(d) }
                | Change::Update { diff: Some(d) }
                | Change::Drift { diff: Some(d) } => d
                    .lines()
                    .for_each(|l| out.push_str(&format!("      {l}\n"))),
                _ if s.hidden => out.push_str("      (contents hidden: they hold a secret)\n"),
                _ => {}
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_note_follows_the_typed_flag_not_the_summary() {
        let step = |p: Planned| ModulePlan {
            id: "9-mail_config".into(),
            name: "mail".into(),
            status: "run".into(),
            reason: None,
            steps: vec![p],
            error: None,
            failure: None,
        };
        let report = |p| PlanReport {
            profile: "standard".into(),
            instance_id: "i".into(),
            modules: vec![step(p)],
        };
        let t = "file /etc/x".to_string();
        let secret =
            Planned::contents(t.clone(), Change::Update { diff: None }, "owner 0:0 -> a:b");
        assert!(render_text(&report(secret)).contains("(contents hidden"));
        let meta = Planned::new(t.clone(), Change::Update { diff: None }, "update contents");
        assert!(!render_text(&report(meta)).contains("(contents hidden"));
        let shown = Planned::contents(
            t,
            Change::Create {
                diff: Some("+x\n".into()),
            },
            "create",
        );
        let text = render_text(&report(shown));
        assert!(
            text.contains("      +x") && !text.contains("hidden"),
            "{text}"
        );
    }
}
