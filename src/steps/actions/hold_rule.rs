//! `hold_rule`: the loopback probe's hold rule ([`crate::hold_rule`]), a Postfix
//! `header_checks` table with a secret made on the running system, mode 0600 root.
//! Idempotent: a table holding a rule is kept (its secret is never shown). In an offline
//! tree (an image) a table without a rule is written, so Postfix starts; each machine
//! made from the image makes its own secret on first boot, replacing it. The file is
//! backed up (recorded absent), so a rollback removes it.

use crate::backup::Backup;
use crate::hold_rule::{new_secret, placeholder, secret, table};
use crate::steps::{Change, Planned, RunState, Step, StepCx, StepError};
use serde::Deserialize;

/// Make the hold rule of the loopback probe if there is none.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoldRule {
    /// In-tree path of the table (`/etc/postfix/firstboot-hold`).
    pub path: String,
}

impl HoldRule {
    /// What is there now: `None` (no file), `Some(true)` a rule, `Some(false)` a file
    /// without one (the placeholder of an image).
    fn existing(&self, cx: &StepCx) -> Result<Option<bool>, StepError> {
        let data = cx.host.root.read(&self.path)?;
        Ok(data.map(|d| secret(&String::from_utf8_lossy(&d)).is_some()))
    }
}

impl Step for HoldRule {
    fn target(&self) -> String {
        format!("action hold_rule {}", self.path)
    }

    fn plan(&self, cx: &StepCx, _run: &mut RunState) -> Result<Planned, StepError> {
        let live = cx.host.is_live();
        let (change, what) = match (self.existing(cx)?, live) {
            (Some(true), _) => (Change::None, "hold rule present"),
            (Some(false), false) => (Change::None, "no rule yet: made on the running system"),
            (None, false) => (
                Change::Create { diff: None },
                "a table without a rule (offline root: each machine makes its secret on first boot)",
            ),
            (Some(false), true) => (
                Change::Update { diff: None },
                "make the secret hold rule of mail.loopback (0600 root:root)",
            ),
            (None, true) => (
                Change::Create { diff: None },
                "make the secret hold rule of mail.loopback (0600 root:root)",
            ),
        };
        Ok(match live {
            true => Planned::contents(self.target(), change, what),
            false => Planned::new(self.target(), change, what),
        })
    }

    fn apply(
        &self,
        cx: &StepCx,
        run: &mut RunState,
        backup: &mut Backup,
    ) -> Result<Planned, StepError> {
        crate::steps::apply_planned(self, cx, run, |run| {
            let text = match cx.host.is_live() {
                true => table(&new_secret().map_err(StepError::Invalid)?),
                false => placeholder(),
            };
            let ids = cx.host.owner_ids("root", "root")?;
            backup.create_parents(&self.path, 0o755, ids)?;
            backup.record_file(&self.path)?;
            cx.host
                .root
                .write_atomic(&self.path, text.as_bytes(), 0o600, ids)?;
            run.changed.insert(self.path.clone());
            Ok(())
        })
    }
}
