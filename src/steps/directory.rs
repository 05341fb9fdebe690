//! `directory`: a directory with mode and owner (parents created too).

use super::file::root_name;
use super::mode::Mode;
use super::{Change, Planned, RunState, Step, StepCx, StepError};
use crate::backup::Backup;
use serde::Deserialize;

fn default_dir_mode() -> Mode {
    Mode(0o755)
}

/// A managed directory.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectoryStep {
    /// Absolute in-tree path.
    pub path: String,
    /// Permission bits.
    #[serde(default = "default_dir_mode")]
    pub mode: Mode,
    /// Owner name.
    #[serde(default = "root_name")]
    pub owner: String,
    /// Group name.
    #[serde(default = "root_name")]
    pub group: String,
}

impl Step for DirectoryStep {
    fn target(&self) -> String {
        format!("directory {}", self.path)
    }

    fn plan(&self, cx: &StepCx, _run: &mut RunState) -> Result<Planned, StepError> {
        let t = self.target();
        let Some(m) = cx.host.root.meta(&self.path)? else {
            let what = format!("create ({} {}:{})", self.mode, self.owner, self.group);
            return Ok(Planned::new(t, Change::Create { diff: None }, what));
        };
        if !m.is_dir {
            return Err(StepError::Invalid(format!(
                "{} exists and is not a directory",
                self.path
            )));
        }
        let mut diffs = Vec::new();
        if m.mode != self.mode.0 {
            diffs.push(format!("mode {:04o} -> {}", m.mode, self.mode));
        }
        if cx
            .host
            .owner_ids(&self.owner, &self.group)?
            .is_some_and(|ids| ids != (m.uid, m.gid))
        {
            diffs.push(format!("owner -> {}:{}", self.owner, self.group));
        }
        if diffs.is_empty() {
            Ok(Planned::new(t, Change::None, "unchanged"))
        } else {
            Ok(Planned::new(
                t,
                Change::Update { diff: None },
                diffs.join(", "),
            ))
        }
    }

    fn apply(
        &self,
        cx: &StepCx,
        run: &mut RunState,
        backup: &mut Backup,
    ) -> Result<Planned, StepError> {
        super::apply_planned(self, cx, run, |_| {
            let root = &cx.host.root;
            let ids = cx.host.owner_ids(&self.owner, &self.group)?;
            if root.meta(&self.path)?.is_none() {
                backup.create_parents(&self.path, 0o755, None)?;
                backup.record_dir_created(&self.path)?;
                root.create_dir(&self.path, self.mode.0)?;
            } else {
                backup.record_file(&self.path)?;
                root.set_mode(&self.path, self.mode.0)?;
            }
            if let Some((u, g)) = ids {
                root.set_owner(&self.path, u, g)?;
            }
            Ok(())
        })
    }
}
