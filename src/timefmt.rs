//! Timestamps for run ids and state: UTC, second precision, sortable.

use std::time::SystemTime;

/// RFC 3339 UTC timestamp, e.g. `2026-11-26T13:05:12Z`.
pub fn rfc3339_now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// RFC 3339 UTC timestamp of `secs` since the Unix epoch.
pub fn rfc3339(secs: u64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
    humantime::format_rfc3339_seconds(t).to_string()
}

/// A new run id: compact UTC time plus the process id, sortable and unique per host.
pub fn new_run_id() -> String {
    let stamp: String = rfc3339_now()
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == 'T' || *c == 'Z')
        .collect();
    format!("{stamp}-{}", std::process::id())
}
