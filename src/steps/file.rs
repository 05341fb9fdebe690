//! `file`: a whole file rendered from a Tera template (or inline content).

use super::managed::{self, Wanted};
use super::mode::Mode;
use super::templated::Templated;
use super::{Planned, RunState, Step, StepCx, StepError};
use crate::backup::Backup;
use crate::digest::sha256_hex;
use serde::Deserialize;

pub(crate) fn default_mode() -> Templated<Mode> {
    Mode(0o644).into()
}
pub(crate) fn root_name() -> String {
    "root".to_string()
}

/// A managed file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileStep {
    /// Absolute in-tree path.
    pub path: String,
    /// Template file under the module's `templates/`.
    #[serde(default)]
    pub template: Option<String>,
    /// Inline contents (instead of a template).
    #[serde(default)]
    pub content: Option<String>,
    /// Permission bits, a quoted octal string.
    #[serde(default = "default_mode")]
    pub mode: Templated<Mode>,
    /// Owner name.
    #[serde(default = "root_name")]
    pub owner: String,
    /// Group name.
    #[serde(default = "root_name")]
    pub group: String,
    /// Services reloaded when the contents change.
    #[serde(default)]
    pub notify: Vec<String>,
    /// The file holds secrets: contents are never shown.
    #[serde(default)]
    pub secret: bool,
}

impl FileStep {
    /// Exactly one of `template` and `content`.
    pub fn validate(&self) -> Result<(), StepError> {
        match (&self.template, &self.content) {
            (Some(_), None) | (None, Some(_)) => Ok(()),
            _ => Err(StepError::Invalid(format!(
                "file {}: give exactly one of `template` and `content`",
                self.path
            ))),
        }
    }

    fn wanted(&self, cx: &StepCx) -> Result<Wanted<'_>, StepError> {
        let content = body(cx, self.template.as_deref(), self.content.as_deref())?;
        let current = cx.host.root.read(&self.path)?;
        let managed_hash = sha256_hex(content.as_bytes());
        Ok(Wanted {
            target: self.target(),
            path: &self.path,
            content: content.into_bytes(),
            mode: self.mode.get()?.0,
            owner: (&self.owner, &self.group),
            notify: &self.notify,
            secret: self.secret,
            key: self.path.clone(),
            managed_hash,
            current_managed_hash: current.as_deref().map(sha256_hex),
            current,
        })
    }
}

/// Render a step's body: its template, or its (already rendered) inline content.
pub(crate) fn body(
    cx: &StepCx,
    template: Option<&str>,
    content: Option<&str>,
) -> Result<String, StepError> {
    match (template, content) {
        (Some(t), _) => Ok(cx
            .templates
            .render(&format!("{}/{t}", cx.module_id), cx.ctx)?),
        (None, Some(c)) => Ok(c.to_string()),
        (None, None) => Err(StepError::Invalid("no template or content".into())),
    }
}

impl Step for FileStep {
    fn target(&self) -> String {
        format!("file {}", self.path)
    }

    fn plan(&self, cx: &StepCx, run: &mut RunState) -> Result<Planned, StepError> {
        managed::plan(cx, run, &self.wanted(cx)?)
    }

    fn apply(
        &self,
        cx: &StepCx,
        run: &mut RunState,
        backup: &mut Backup,
    ) -> Result<Planned, StepError> {
        managed::apply(cx, run, backup, &self.wanted(cx)?)
    }
}
