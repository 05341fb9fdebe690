//! `command`: an external command, always guarded so re-runs do nothing: it runs when a
//! file it `creates` is missing, when one of the files in `on_change` changed in this
//! run, or on every run only when the manifest says `always: true`. One whose effect
//! lies outside the files (rules loaded into the kernel) names its `undo` for rollback.

use super::{offline, Change, Planned, RunState, Step, StepCx, StepError};
use crate::backup::Backup;
use serde::Deserialize;

/// A guarded command.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandStep {
    /// Program and arguments (no shell).
    pub argv: Vec<String>,
    /// Run only while this file does not exist.
    #[serde(default)]
    pub creates: Option<String>,
    /// Run only when one of these files changed earlier in this module.
    #[serde(default)]
    pub on_change: Vec<String>,
    /// Run on every apply (must be said explicitly).
    #[serde(default)]
    pub always: bool,
    /// Files the command writes, backed up before it runs.
    #[serde(default)]
    pub writes: Vec<String>,
    /// What takes the command's effect away on rollback when it changes something
    /// outside the files (`nft delete table ...`). A rollback that restores an earlier
    /// version of the `on_change` files runs the command again on them instead.
    #[serde(default)]
    pub undo: Vec<String>,
    /// Extra environment variables.
    #[serde(default)]
    pub env: std::collections::BTreeMap<String, String>,
}

impl CommandStep {
    /// A command needs a program and a guard.
    pub fn validate(&self) -> Result<(), StepError> {
        if self.argv.is_empty() {
            return Err(StepError::Invalid("command: argv is empty".into()));
        }
        if self.creates.is_none() && self.on_change.is_empty() && !self.always {
            return Err(StepError::Invalid(format!(
                "command `{}` has no guard: give `creates`, `on_change` or `always: true`",
                self.argv.join(" ")
            )));
        }
        Ok(())
    }

    fn needed(&self, cx: &StepCx, run: &RunState) -> Result<Option<String>, StepError> {
        if let Some(c) = &self.creates {
            if cx.host.root.meta(c)?.is_none() {
                return Ok(Some(format!("run ({c} missing)")));
            }
        }
        if let Some(p) = self.on_change.iter().find(|p| run.changed.contains(*p)) {
            return Ok(Some(format!("run ({p} changed)")));
        }
        Ok(self.always.then(|| "run (always)".to_string()))
    }
}

impl Step for CommandStep {
    fn target(&self) -> String {
        format!("command {}", self.argv.join(" "))
    }

    fn plan(&self, cx: &StepCx, run: &mut RunState) -> Result<Planned, StepError> {
        let t = cx.redactor.mask(&self.target());
        match self.needed(cx, run)? {
            None => Ok(Planned::new(t, Change::None, "not needed")),
            Some(_) if !cx.host.is_live() => Ok(offline(t, "run")),
            Some(why) => Ok(Planned::new(t, Change::Act, why)),
        }
    }

    fn apply(
        &self,
        cx: &StepCx,
        run: &mut RunState,
        backup: &mut Backup,
    ) -> Result<Planned, StepError> {
        let p = self.plan(cx, run)?;
        if p.change == Change::Act {
            for w in &self.writes {
                backup.record_file(w)?;
            }
            if !self.undo.is_empty() {
                backup.note_undo(crate::backup::Undo {
                    argv: self.argv.clone(),
                    reapply_if_present: self.on_change.clone(),
                    undo: self.undo.clone(),
                })?;
            }
            let env: Vec<(&str, &str)> = self
                .env
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            cx.host.runner.run_ok(&self.argv, None, &env)?;
            run.changed.extend(self.writes.iter().cloned());
        }
        Ok(p)
    }
}
