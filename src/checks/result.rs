//! What a check found: a status and one line of detail.

use serde::Serialize;

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

impl CheckStatus {
    /// The word shown in reports and logs (`PASS`, `FAIL`...).
    pub fn word(self) -> &'static str {
        match self {
            CheckStatus::Pass => "PASS",
            CheckStatus::Fail => "FAIL",
            CheckStatus::Skipped => "SKIP",
            CheckStatus::Pending => "PENDING",
            CheckStatus::Warn => "WARN",
        }
    }
}

/// A check's result.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    /// The declaration's stable id (filled in by [`super::run_checks`]).
    pub id: String,
    /// What was checked.
    pub name: String,
    /// Pass, fail, pending, skipped or warn.
    pub status: CheckStatus,
    /// Why (for failures: what was found instead).
    pub detail: String,
    /// How to fix a failure or warning, when the check or the manifest knows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl CheckResult {
    /// A result with this status.
    pub fn new(name: String, status: CheckStatus, detail: impl Into<String>) -> Self {
        CheckResult {
            id: String::new(),
            name,
            status,
            detail: detail.into(),
            hint: None,
        }
    }

    /// The same result with a hint on how to fix it.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Pass when `ok`, else fail.
    pub fn pass_if(name: String, ok: bool, detail: impl Into<String>) -> Self {
        let status = if ok {
            CheckStatus::Pass
        } else {
            CheckStatus::Fail
        };
        CheckResult::new(name, status, detail)
    }
}
