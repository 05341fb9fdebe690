//! `set_hostname`: make the running kernel's host name match the configured one (the
//! file /etc/hostname is a plain `file` step; this is the live half). Rollback puts the
//! old name back.

use crate::backup::Backup;
use crate::steps::{offline, Change, Planned, RunState, Step, StepCx, StepError};
use serde::Deserialize;

/// Set the running host name.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetHostname {
    /// The name (usually the FQDN).
    pub name: String,
}

fn current(cx: &StepCx) -> Result<String, StepError> {
    cx.host
        .kernel
        .hostname()
        .map_err(|e| StepError::Invalid(format!("cannot read the host name: {e}")))
}

impl Step for SetHostname {
    fn target(&self) -> String {
        "action set_hostname".to_string()
    }

    fn plan(&self, cx: &StepCx, _run: &mut RunState) -> Result<Planned, StepError> {
        if !cx.host.is_live() {
            return Ok(offline(
                self.target(),
                &format!("set running host name to {}", self.name),
            ));
        }
        let now = current(cx)?;
        Ok(if now == self.name {
            Planned::new(self.target(), Change::None, format!("host name is {now}"))
        } else {
            Planned::new(
                self.target(),
                Change::Act,
                format!("{now} -> {}", self.name),
            )
        })
    }

    fn apply(
        &self,
        cx: &StepCx,
        run: &mut RunState,
        backup: &mut Backup,
    ) -> Result<Planned, StepError> {
        let p = self.plan(cx, run)?;
        if p.change == Change::Act {
            backup.record_hostname(&current(cx)?)?;
            cx.host.kernel.set_hostname(&self.name).map_err(|e| {
                StepError::Invalid(format!("cannot set the host name to {}: {e}", self.name))
            })?;
        }
        Ok(p)
    }
}
