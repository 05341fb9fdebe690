//! Validation checks a module declares: run after it applies (a failure rolls it back)
//! and by `firstboot validate`. File checks work on any root; command checks need the
//! live system and are reported as skipped on an offline tree.

use crate::host::Host;
use crate::steps::mode::Mode;
use serde::{Deserialize, Serialize};

/// A check, by kind.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum CheckKind {
    /// Something about a file.
    File(FileCheck),
    /// A command's exit status and output.
    Command(CommandCheck),
    /// The module's DNS records resolve to what they should be (`src/dns/check.rs`).
    Records(crate::dns::check::RecordsCheck),
    /// A certificate and its key: match, names, expiry, chain (`src/tls/check.rs`).
    Certificate(crate::tls::check::CertificateCheck),
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
}

fn yes() -> bool {
    true
}

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

/// Outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    /// It holds.
    Pass,
    /// It does not.
    Fail,
    /// Not yet: a DNS record not visible yet, not computable yet, or one only the
    /// provider can set. Reported; it fails neither the module nor `validate`.
    Pending,
    /// Not run (offline root).
    Skipped,
    /// It holds, but needs attention soon (a certificate close to expiry).
    Warn,
}

/// A check's result.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    /// What was checked.
    pub name: String,
    /// Pass, fail or skipped.
    pub status: CheckStatus,
    /// Why (for failures: what was found instead).
    pub detail: String,
}

impl CheckKind {
    /// Run the check against `host`.
    pub fn run(&self, host: &Host) -> CheckResult {
        match self {
            CheckKind::File(f) => file(f, host),
            CheckKind::Command(c) => command(c, host),
            CheckKind::Records(r) => r.run(host),
            CheckKind::Certificate(c) => crate::tls::check::run(c, host),
        }
    }
}

fn result(name: String, ok: bool, detail: String) -> CheckResult {
    let status = if ok {
        CheckStatus::Pass
    } else {
        CheckStatus::Fail
    };
    CheckResult {
        name,
        status,
        detail,
    }
}

fn file(f: &FileCheck, host: &Host) -> CheckResult {
    let name = format!("file {}", f.path);
    let meta = match host.root.meta(&f.path) {
        Ok(m) => m,
        Err(e) => return result(name, false, e.to_string()),
    };
    match (meta, f.exists) {
        (None, true) => return result(name, false, "does not exist".into()),
        (None, false) => return result(name, true, "absent as required".into()),
        (Some(_), false) => return result(name, false, "exists but must not".into()),
        (Some(_), true) => {}
    }
    if let (Some(want), Some(m)) = (f.mode, meta) {
        if m.mode != want.0 {
            return result(
                name,
                false,
                format!("mode is {:04o}, expected {want}", m.mode),
            );
        }
    }
    if let Some(text) = &f.contains {
        let data = host.root.read(&f.path).ok().flatten().unwrap_or_default();
        if !String::from_utf8_lossy(&data).contains(text.as_str()) {
            return result(name, false, format!("does not contain {text:?}"));
        }
    }
    result(name, true, "ok".into())
}

fn command(c: &CommandCheck, host: &Host) -> CheckResult {
    let name = c.name.clone().unwrap_or_else(|| host.runner.show(&c.argv));
    if !host.is_live() {
        return CheckResult {
            name,
            status: CheckStatus::Skipped,
            detail: "offline root".into(),
        };
    }
    match host.runner.run(&c.argv, None, &[]) {
        Err(e) => result(name, false, e.to_string()),
        Ok(out) if out.code != Some(c.expect_exit) => {
            let code = out
                .code
                .map_or("killed by a signal".into(), |c| format!("exit {c}"));
            let tail = out.stderr.lines().last().unwrap_or("").trim().to_string();
            let tail = if tail.is_empty() {
                String::new()
            } else {
                format!(": {tail}")
            };
            result(
                name,
                false,
                format!("{code}, expected exit {}{tail}", c.expect_exit),
            )
        }
        Ok(out) => {
            if let Some(t) = c
                .stdout_contains
                .as_ref()
                .filter(|t| !out.stdout.contains(t.as_str()))
            {
                return result(name, false, format!("output does not contain {t:?}"));
            }
            if let Some(t) = c
                .stdout_equals
                .as_ref()
                .filter(|t| out.stdout.trim() != t.trim())
            {
                return result(
                    name,
                    false,
                    format!("output is {:?}, expected {t:?}", out.stdout.trim()),
                );
            }
            result(name, true, "ok".into())
        }
    }
}
