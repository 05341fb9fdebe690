//! `user` and `group`: system accounts services run as.

use super::{offline, Change, Planned, RunState, Step, StepCx, StepError};
use crate::backup::Backup;
use serde::Deserialize;

/// A system group.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupStep {
    /// Group name.
    pub name: String,
}

/// A system user (no login shell, no home created).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserStep {
    /// User name.
    pub name: String,
    /// Primary group (must exist; declare a `group` step before).
    pub group: String,
    /// Home directory.
    #[serde(default = "default_home")]
    pub home: String,
}

fn default_home() -> String {
    "/nonexistent".to_string()
}

impl Step for GroupStep {
    fn target(&self) -> String {
        format!("group {}", self.name)
    }

    fn plan(&self, cx: &StepCx, _run: &mut RunState) -> Result<Planned, StepError> {
        if !cx.host.is_live() {
            return Ok(offline(self.target(), "create if missing"));
        }
        Ok(match cx.host.accounts.gid(&self.name)? {
            Some(_) => Planned::new(self.target(), Change::None, "exists"),
            None => Planned::new(self.target(), Change::Act, "create"),
        })
    }

    fn apply(
        &self,
        cx: &StepCx,
        run: &mut RunState,
        _b: &mut Backup,
    ) -> Result<Planned, StepError> {
        let p = self.plan(cx, run)?;
        if p.change == Change::Act {
            cx.host.accounts.create_group(&cx.host.runner, &self.name)?;
        }
        Ok(p)
    }
}

impl Step for UserStep {
    fn target(&self) -> String {
        format!("user {}", self.name)
    }

    fn plan(&self, cx: &StepCx, _run: &mut RunState) -> Result<Planned, StepError> {
        if !cx.host.is_live() {
            return Ok(offline(self.target(), "create if missing"));
        }
        Ok(match cx.host.accounts.uid(&self.name)? {
            Some(_) => Planned::new(self.target(), Change::None, "exists"),
            None => Planned::new(
                self.target(),
                Change::Act,
                format!("create (group {})", self.group),
            ),
        })
    }

    fn apply(
        &self,
        cx: &StepCx,
        run: &mut RunState,
        _b: &mut Backup,
    ) -> Result<Planned, StepError> {
        let p = self.plan(cx, run)?;
        if p.change == Change::Act {
            cx.host
                .accounts
                .create_user(&cx.host.runner, &self.name, &self.group, &self.home)?;
        }
        Ok(p)
    }
}
