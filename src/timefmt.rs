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

/// A new run id: compact UTC time to the microsecond plus the process id, e.g.
/// `20261203T144100.123456Z-4242`: unique per host, and sorted as text in the order the
/// runs started, even two in one second (`rollback` takes the last one as the latest;
/// the process id alone would order them by chance).
pub fn new_run_id() -> String {
    let stamp: String = humantime::format_rfc3339_micros(SystemTime::now())
        .to_string()
        .chars()
        .filter(|c| c.is_ascii_digit() || matches!(c, 'T' | 'Z' | '.'))
        .collect();
    format!("{stamp}-{}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_sort_in_the_order_they_were_made() {
        let a = new_run_id();
        std::thread::sleep(std::time::Duration::from_micros(5));
        let b = new_run_id();
        assert!(a < b, "{a} then {b}");
        let (stamp, pid) = a.split_once('-').unwrap();
        assert_eq!(pid, std::process::id().to_string());
        assert_eq!(stamp.len(), "20261203T144100.123456Z".len(), "{stamp}");
        assert_eq!(&stamp[8..9], "T");
        assert_eq!(&stamp[15..16], ".");
        assert!(stamp.ends_with('Z'));
    }
}
