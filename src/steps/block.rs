//! `block`: a marked block of lines inside a file we share with others (/etc/hosts).
//! Only our block is managed; every other line is kept as it is.

use super::file::{body, default_mode, root_name};
use super::managed::{self, Wanted};
use super::mode::Mode;
use super::templated::Templated;
use super::{Change, Planned, RunState, Step, StepCx, StepError};
use crate::backup::Backup;
use crate::digest::sha256_hex;
use serde::Deserialize;

fn default_marker() -> String {
    "firstboot".to_string()
}
fn default_comment() -> String {
    "#".to_string()
}

/// A managed block inside a file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockStep {
    /// Absolute in-tree path.
    pub path: String,
    /// Template for the block's lines.
    #[serde(default)]
    pub template: Option<String>,
    /// Inline block lines.
    #[serde(default)]
    pub content: Option<String>,
    /// Marker naming the block (`# BEGIN <marker>` / `# END <marker>`).
    #[serde(default = "default_marker")]
    pub marker: String,
    /// Comment leader of the file's syntax.
    #[serde(default = "default_comment")]
    pub comment: String,
    /// Mode when the file must be created.
    #[serde(default = "default_mode")]
    pub mode: Templated<Mode>,
    /// Owner name.
    #[serde(default = "root_name")]
    pub owner: String,
    /// Group name.
    #[serde(default = "root_name")]
    pub group: String,
    /// Services reloaded when the block changes.
    #[serde(default)]
    pub notify: Vec<String>,
    /// Only edit a file that exists (one a package makes, such as Postfix's master.cf:
    /// a file holding our block alone would stop the package from writing its own).
    #[serde(default)]
    pub if_exists: bool,
}

impl BlockStep {
    /// Exactly one of `template` and `content`; a one-line marker.
    pub fn validate(&self) -> Result<(), StepError> {
        if self.template.is_some() == self.content.is_some() {
            return Err(StepError::Invalid(format!(
                "block {}: give exactly one of `template` and `content`",
                self.path
            )));
        }
        if self.marker.contains('\n') || self.marker.is_empty() {
            return Err(StepError::Invalid(
                "block marker must be one non-empty line".into(),
            ));
        }
        Ok(())
    }

    /// Skipped: `if_exists` and the file is not there (its package is not installed).
    fn absent(&self, cx: &StepCx) -> Result<Option<Planned>, StepError> {
        if !self.if_exists || cx.host.root.meta(&self.path)?.is_some() {
            return Ok(None);
        }
        Ok(Some(Planned::new(
            self.target(),
            Change::Skipped,
            format!(
                "{} does not exist (its package makes it); left alone",
                self.path
            ),
        )))
    }

    fn begin(&self) -> String {
        format!("{} BEGIN {}", self.comment, self.marker)
    }
    fn end(&self) -> String {
        format!("{} END {}", self.comment, self.marker)
    }

    fn wanted(&self, cx: &StepCx) -> Result<Wanted<'_>, StepError> {
        let mut inner = body(cx, self.template.as_deref(), self.content.as_deref())?;
        if !inner.ends_with('\n') {
            inner.push('\n');
        }
        let current = cx.host.root.read(&self.path)?;
        let text = current
            .as_deref()
            .map(String::from_utf8_lossy)
            .unwrap_or_default();
        let (content, existing) = splice(&text, &self.begin(), &self.end(), &inner);
        Ok(Wanted {
            target: self.target(),
            path: &self.path,
            content: content.into_bytes(),
            mode: self.mode.get()?.0,
            owner: (&self.owner, &self.group),
            notify: &self.notify,
            secret: false,
            key: format!("{}#{}", self.path, self.marker),
            managed_hash: sha256_hex(inner.as_bytes()),
            current_managed_hash: existing.map(|e| sha256_hex(e.as_bytes())),
            current,
        })
    }
}

/// `text` with the block between `begin` and `end` replaced by `inner` (appended when
/// absent), and the block's current inner text if there was one.
pub fn splice(text: &str, begin: &str, end: &str, inner: &str) -> (String, Option<String>) {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let b = lines.iter().position(|l| l.trim_end() == begin);
    let e = b.and_then(|b| {
        lines
            .iter()
            .skip(b + 1)
            .position(|l| l.trim_end() == end)
            .map(|i| i + b + 1)
    });
    let block = format!("{begin}\n{inner}{end}\n");
    match (b, e) {
        (Some(b), Some(e)) => {
            let existing: String = lines[b + 1..e].concat();
            let mut out: String = lines[..b].concat();
            out.push_str(&block);
            out.push_str(&lines[e + 1..].concat());
            (out, Some(existing))
        }
        _ => {
            let mut out = text.to_string();
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(&block);
            (out, None)
        }
    }
}

impl Step for BlockStep {
    fn target(&self) -> String {
        format!("block {} ({})", self.path, self.marker)
    }

    fn plan(&self, cx: &StepCx, run: &mut RunState) -> Result<Planned, StepError> {
        if let Some(p) = self.absent(cx)? {
            return Ok(p);
        }
        managed::plan(cx, run, &self.wanted(cx)?)
    }

    fn apply(
        &self,
        cx: &StepCx,
        run: &mut RunState,
        backup: &mut Backup,
    ) -> Result<Planned, StepError> {
        if let Some(p) = self.absent(cx)? {
            return Ok(p);
        }
        managed::apply(cx, run, backup, &self.wanted(cx)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splice_replaces_only_our_block() {
        let t = "127.0.0.1 localhost\n# BEGIN fb\nold\n# END fb\n::1 ip6\n";
        let (out, old) = splice(t, "# BEGIN fb", "# END fb", "new\n");
        assert_eq!(
            out,
            "127.0.0.1 localhost\n# BEGIN fb\nnew\n# END fb\n::1 ip6\n"
        );
        assert_eq!(old.as_deref(), Some("old\n"));
        let (out, old) = splice("a", "# BEGIN fb", "# END fb", "x\n");
        assert_eq!(out, "a\n# BEGIN fb\nx\n# END fb\n");
        assert!(old.is_none());
    }
}
