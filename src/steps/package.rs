//! `package`: packages installed (apt-get with debconf preseeding, or dnf).

use super::{offline, Change, Planned, RunState, Step, StepCx, StepError};
use crate::backup::Backup;
use serde::Deserialize;

/// Packages that must be installed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageStep {
    /// Package names.
    pub names: Vec<String>,
    /// debconf selections preseeded before installing (`postfix postfix/main_mailer_type select No configuration`).
    #[serde(default)]
    pub debconf: Vec<String>,
}

impl PackageStep {
    fn missing(&self, cx: &StepCx) -> Result<Vec<String>, StepError> {
        let pm = cx.host.packages();
        let mut out = Vec::new();
        for n in &self.names {
            if !pm.installed(n)? {
                out.push(n.clone());
            }
        }
        Ok(out)
    }
}

impl Step for PackageStep {
    fn target(&self) -> String {
        format!("package {}", self.names.join(" "))
    }

    fn plan(&self, cx: &StepCx, _run: &mut RunState) -> Result<Planned, StepError> {
        if !cx.host.is_live() {
            return Ok(offline(self.target(), "install if missing"));
        }
        let missing = self.missing(cx)?;
        if missing.is_empty() {
            Ok(Planned::new(self.target(), Change::None, "installed"))
        } else {
            Ok(Planned::new(
                self.target(),
                Change::Act,
                format!("install {}", missing.join(" ")),
            ))
        }
    }

    fn apply(
        &self,
        cx: &StepCx,
        run: &mut RunState,
        _backup: &mut Backup,
    ) -> Result<Planned, StepError> {
        let planned = self.plan(cx, run)?;
        if planned.change == Change::Act {
            let missing = self.missing(cx)?;
            cx.host.packages().install(&missing, &self.debconf)?;
        }
        Ok(planned)
    }
}
