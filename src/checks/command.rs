//! The `command` check: a command exits with the expected status (and prints the
//! expected text). It needs the live system and is skipped on an offline root.

use super::{Check, CheckCx, CheckResult, CheckStatus};
use serde::Deserialize;

/// A command that must exit with `expect_exit` (and print `stdout_contains`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandCheck {
    /// Program and arguments.
    pub argv: Vec<String>,
    /// Name shown in reports (default: the command line).
    #[serde(default)]
    pub name: Option<String>,
    /// Expected exit status.
    #[serde(default)]
    pub expect_exit: i32,
    /// Text standard output must contain.
    #[serde(default)]
    pub stdout_contains: Option<String>,
    /// Exact standard output (surrounding whitespace ignored).
    #[serde(default)]
    pub stdout_equals: Option<String>,
}

impl Check for CommandCheck {
    fn settles(&self) -> bool {
        true
    }

    fn run(&self, cx: &CheckCx) -> CheckResult {
        let host = cx.host;
        let name = self
            .name
            .clone()
            .unwrap_or_else(|| host.runner.show(&self.argv));
        if !host.is_live() {
            return CheckResult::new(name, CheckStatus::Skipped, "offline root");
        }
        let out = match host.runner.run(&self.argv, None, &[]) {
            Ok(out) => out,
            Err(e) => return CheckResult::pass_if(name, false, e.to_string()),
        };
        if out.code != Some(self.expect_exit) {
            let code = out
                .code
                .map_or("killed by a signal".into(), |c| format!("exit {c}"));
            let tail = out.stderr.lines().last().unwrap_or("").trim().to_string();
            let tail = if tail.is_empty() {
                String::new()
            } else {
                format!(": {tail}")
            };
            let detail = format!("{code}, expected exit {}{tail}", self.expect_exit);
            return CheckResult::pass_if(name, false, detail);
        }
        if let Some(t) = self
            .stdout_contains
            .as_ref()
            .filter(|t| !out.stdout.contains(t.as_str()))
        {
            return CheckResult::pass_if(name, false, format!("output does not contain {t:?}"));
        }
        if let Some(t) = self
            .stdout_equals
            .as_ref()
            .filter(|t| out.stdout.trim() != t.trim())
        {
            let detail = format!("output is {:?}, expected {t:?}", out.stdout.trim());
            return CheckResult::pass_if(name, false, detail);
        }
        CheckResult::pass_if(name, true, "ok")
    }
}
