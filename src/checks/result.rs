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
    /// What was checked.
    pub name: String,
    /// Pass, fail, pending, skipped or warn.
    pub status: CheckStatus,
    /// Why (for failures: what was found instead).
    pub detail: String,
}

impl CheckResult {
    /// A result with this status.
    pub fn new(name: String, status: CheckStatus, detail: impl Into<String>) -> Self {
        CheckResult {
            name,
            status,
            detail: detail.into(),
        }
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
