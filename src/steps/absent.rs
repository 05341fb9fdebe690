//! `absent`: a file that must not be there, removed (backed up first, so a rollback puts
//! it back). What a module made while a condition held and no longer wants once it does
//! not (the ACME cron job after `ssl.provider` leaves acme) is declared `absent` under
//! the opposite `when:`. Files only: a directory or a symbolic link there is an error.

use super::{Change, Planned, RunState, Step, StepCx, StepError};
use crate::backup::Backup;
use serde::Deserialize;

/// A file to remove.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AbsentStep {
    /// Absolute in-tree path.
    pub path: String,
}

impl AbsentStep {
    /// An absolute path.
    pub fn validate(&self) -> Result<(), StepError> {
        match self.path.starts_with('/') && !self.path.trim_end_matches('/').is_empty() {
            true => Ok(()),
            false => Err(StepError::Invalid(format!(
                "absent {}: path must be an absolute file path",
                self.path
            ))),
        }
    }
}

impl Step for AbsentStep {
    fn target(&self) -> String {
        format!("absent {}", self.path)
    }

    fn plan(&self, cx: &StepCx, _run: &mut RunState) -> Result<Planned, StepError> {
        let t = self.target();
        match cx.host.root.meta(&self.path)? {
            None => Ok(Planned::new(t, Change::None, "not there")),
            Some(m) if m.is_dir || m.is_symlink => Err(StepError::Invalid(format!(
                "{} is a {}: an absent step removes files only",
                self.path,
                if m.is_dir {
                    "directory"
                } else {
                    "symbolic link"
                }
            ))),
            Some(_) => Ok(Planned::new(
                t,
                Change::Remove,
                "remove (backed up: a rollback puts it back)",
            )),
        }
    }

    fn apply(
        &self,
        cx: &StepCx,
        run: &mut RunState,
        backup: &mut Backup,
    ) -> Result<Planned, StepError> {
        super::apply_planned(self, cx, run, |run| {
            backup.record_file(&self.path)?;
            cx.host.root.remove_file(&self.path)?;
            run.changed.insert(self.path.clone());
            Ok(())
        })
    }
}
