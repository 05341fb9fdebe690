//! `service`: a service running, reloaded (or restarted) only when one of the files that
//! notify it changed in this run.

use super::{offline, Change, Planned, RunState, Step, StepCx, StepError};
use crate::backup::Backup;
use crate::host::services::ServiceVerb;
use serde::Deserialize;

fn yes() -> bool {
    true
}

/// A managed service.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceStep {
    /// Service name.
    pub name: String,
    /// Enable at boot (systemd).
    #[serde(default = "yes")]
    pub enable: bool,
    /// Restart instead of reload when notified.
    #[serde(default)]
    pub restart: bool,
    /// Command telling whether it runs (exit 0), when the init script's `status` cannot
    /// be trusted (Debian's postfix script exits 0 when there is no main.cf).
    #[serde(default)]
    pub status: Vec<String>,
}

impl ServiceStep {
    fn running(&self, cx: &StepCx) -> Result<bool, StepError> {
        if self.status.is_empty() {
            return Ok(cx.host.services().is_running(&self.name)?);
        }
        Ok(cx.host.runner.run(&self.status, None, &[])?.success())
    }

    fn verb(&self, cx: &StepCx, run: &RunState) -> Result<Option<ServiceVerb>, StepError> {
        let notified = run.notified.contains(&self.name);
        let running = self.running(cx)?;
        Ok(match (running, notified) {
            (false, _) => Some(ServiceVerb::Start),
            (true, true) if self.restart => Some(ServiceVerb::Restart),
            (true, true) => Some(ServiceVerb::Reload),
            (true, false) => None,
        })
    }
}

impl Step for ServiceStep {
    fn target(&self) -> String {
        format!("service {}", self.name)
    }

    fn plan(&self, cx: &StepCx, run: &mut RunState) -> Result<Planned, StepError> {
        if !cx.host.is_live() {
            let what = if run.notified.contains(&self.name) {
                if self.restart {
                    "restart (its files changed)"
                } else {
                    "reload (its files changed)"
                }
            } else {
                "start if not running"
            };
            return Ok(offline(self.target(), what));
        }
        let sm = cx.host.services();
        let enable = self.enable && !sm.is_enabled(&self.name)?;
        let mut what: Vec<String> = self
            .verb(cx, run)?
            .map(|v| format!("{v:?}").to_lowercase())
            .into_iter()
            .collect();
        if enable {
            what.push("enable at boot".into());
        }
        Ok(if what.is_empty() {
            Planned::new(self.target(), Change::None, "running")
        } else {
            Planned::new(self.target(), Change::Act, what.join(", "))
        })
    }

    fn apply(
        &self,
        cx: &StepCx,
        run: &mut RunState,
        backup: &mut Backup,
    ) -> Result<Planned, StepError> {
        let p = self.plan(cx, run)?;
        if cx.host.is_live() {
            let sm = cx.host.services();
            if self.enable && !sm.is_enabled(&self.name)? {
                sm.enable(&self.name)?;
            }
            if let Some(v) = self.verb(cx, run)? {
                if v == ServiceVerb::Start {
                    backup.note_started(&self.name)?;
                } else {
                    backup.note_services(std::slice::from_ref(&self.name))?;
                }
                sm.act(&self.name, v)?;
            }
        }
        Ok(p)
    }
}
