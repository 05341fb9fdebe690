//! The `file` check: a file exists (or must not), contains a text, has a mode. Read
//! through the host's root, so it works on an offline tree too.

use super::{Check, CheckCx, CheckResult};
use crate::steps::mode::Mode;
use serde::Deserialize;

fn yes() -> bool {
    true
}

/// A file exists (or not), contains a text, has a mode.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileCheck {
    /// In-tree path.
    pub path: String,
    /// Whether it must exist (default) or must not.
    #[serde(default = "yes")]
    pub exists: bool,
    /// Text it must contain.
    #[serde(default)]
    pub contains: Option<String>,
    /// Mode it must have.
    #[serde(default)]
    pub mode: Option<Mode>,
    /// Skipped on an offline root: the file is made on the live system (a host-unique
    /// key made on the first boot of each instance).
    #[serde(default)]
    pub live_only: bool,
}

impl Check for FileCheck {
    fn run(&self, cx: &CheckCx) -> CheckResult {
        let name = format!("file {}", self.path);
        if self.live_only && !cx.host.is_live() {
            let why = "offline root: the file is made on the live system";
            return CheckResult::new(name, super::CheckStatus::Skipped, why);
        }
        let result = |ok, detail: String| CheckResult::pass_if(name.clone(), ok, detail);
        let meta = match cx.host.root.meta(&self.path) {
            Ok(m) => m,
            Err(e) => return result(false, e.to_string()),
        };
        match (meta, self.exists) {
            (None, true) => return result(false, "does not exist".into()),
            (None, false) => return result(true, "absent as required".into()),
            (Some(_), false) => return result(false, "exists but must not".into()),
            (Some(_), true) => {}
        }
        if let (Some(want), Some(m)) = (self.mode, meta) {
            if m.mode != want.0 {
                return result(false, format!("mode is {:04o}, expected {want}", m.mode));
            }
        }
        if let Some(text) = &self.contains {
            let data = match cx.host.root.read(&self.path) {
                Ok(d) => d.unwrap_or_default(),
                Err(e) => return result(false, e.to_string()),
            };
            if !String::from_utf8_lossy(&data).contains(text.as_str()) {
                return result(false, format!("does not contain {text:?}"));
            }
        }
        result(true, "ok".into())
    }
}
