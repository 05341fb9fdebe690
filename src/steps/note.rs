//! `note`: a line `plan` shows (and the module log keeps), and nothing else. A module
//! says what it leaves alone on this host instead of leaving it out silently (a host
//! without nft: its firewall is left as it is).

use super::{Change, Planned, RunState, Step, StepCx, StepError};
use crate::backup::Backup;
use serde::Deserialize;

/// A line to show.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteStep {
    /// What to say, one line.
    pub text: String,
}

impl NoteStep {
    /// One line, not empty.
    pub fn validate(&self) -> Result<(), StepError> {
        match self.text.trim().is_empty() || self.text.contains('\n') {
            true => Err(StepError::Invalid("note: text must be one line".into())),
            false => Ok(()),
        }
    }
}

impl Step for NoteStep {
    fn target(&self) -> String {
        "note".to_string()
    }

    fn plan(&self, cx: &StepCx, _run: &mut RunState) -> Result<Planned, StepError> {
        let text = cx.redactor.mask(&self.text);
        Ok(Planned::new(self.target(), Change::None, text))
    }

    fn apply(
        &self,
        cx: &StepCx,
        run: &mut RunState,
        _backup: &mut Backup,
    ) -> Result<Planned, StepError> {
        let p = self.plan(cx, run)?;
        tracing::info!("note: {}", p.summary);
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_is_one_line_of_text() {
        let note = |t: &str| NoteStep { text: t.into() }.validate();
        assert!(note("firewall: left as it is").is_ok());
        assert!(note("  ").is_err());
        assert!(note("two\nlines").is_err());
    }
}
