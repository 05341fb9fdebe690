//! The `mail_queue` check: Postfix's queue as `postqueue -j` lists it. It fails when a
//! message is deferred because the smarthost refused our AUTH (535, "SASL authentication
//! failed": the relay password is wrong), and warns when the queue holds more than
//! `max_messages` or messages deferred for longer than `max_age_minutes` (named, with
//! their reason). A refusal older than the credentials map (`relay_map`) was about the
//! previous password: it warns until Postfix tries again, it does not fail.

use super::{Check, CheckCx, CheckResult, CheckStatus};
use serde::Deserialize;
use std::time::{SystemTime, UNIX_EPOCH};

fn max_messages() -> usize {
    100
}

fn max_age_minutes() -> u64 {
    60
}

/// Postfix's queue: its size, old deferrals, a refused relay AUTH.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueCheck {
    /// More messages than this in the queue warns (default 100).
    #[serde(default = "max_messages")]
    pub max_messages: usize,
    /// A message deferred for longer than this warns, by queue id (default 60).
    #[serde(default = "max_age_minutes")]
    pub max_age_minutes: u64,
    /// The relay credentials map Postfix reads (`/etc/postfix/sasl_passwd.db`); empty
    /// when no relay AUTH is configured.
    #[serde(default)]
    pub relay_map: String,
}

/// One queued message, as `postqueue -j` prints it (fields we read).
#[derive(Debug, Clone, Deserialize)]
pub struct Queued {
    /// `active`, `deferred`, `hold`, `incoming`, `maildrop`.
    pub queue_name: String,
    /// The queue id.
    pub queue_id: String,
    /// The envelope sender (empty: the null sender).
    #[serde(default)]
    pub sender: String,
    /// When it arrived, seconds since the epoch.
    pub arrival_time: i64,
    /// Its recipients.
    #[serde(default)]
    pub recipients: Vec<Recipient>,
}

/// A recipient of a queued message.
#[derive(Debug, Clone, Deserialize)]
pub struct Recipient {
    /// The address.
    pub address: String,
    /// Why delivery was deferred (absent while none was tried).
    #[serde(default)]
    pub delay_reason: Option<String>,
}

/// Parse `postqueue -j` (one JSON object a line); a line that is not one is an error.
pub fn parse(text: &str) -> Result<Vec<Queued>, String> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| format!("postqueue -j, line {}: {e}", i + 1))
        })
        .collect()
}

/// Whether a deferral reason is the smarthost refusing our AUTH.
pub fn is_auth_failure(reason: &str) -> bool {
    reason.contains("SASL authentication failed") || reason.contains(" said: 535")
}

fn reason(q: &Queued) -> Option<&str> {
    q.recipients.iter().find_map(|r| r.delay_reason.as_deref())
}

fn short(s: &str) -> String {
    let s = s.trim();
    match s.char_indices().nth(120) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_string(),
    }
}

/// Judge a queue at time `now` (seconds), the relay map written at `map_mtime`.
pub fn judge(
    c: &QueueCheck,
    queue: &[Queued],
    now: i64,
    map_mtime: Option<i64>,
) -> (CheckStatus, String) {
    let deferred: Vec<&Queued> = queue
        .iter()
        .filter(|q| q.queue_name == "deferred")
        .collect();
    let auth: Vec<&&Queued> = deferred
        .iter()
        .filter(|q| reason(q).is_some_and(is_auth_failure))
        .collect();
    let (current, stale): (Vec<&&Queued>, Vec<&&Queued>) = auth
        .iter()
        .partition(|q| map_mtime.is_none_or(|m| q.arrival_time >= m));
    if let Some(first) = current.first() {
        let ids: Vec<&str> = current.iter().map(|q| q.queue_id.as_str()).collect();
        let why = format!(
            "the relay password is wrong: the smarthost refused AUTH for {} deferred message(s) ({}): {}",
            current.len(),
            ids.join(", "),
            short(reason(first).unwrap_or(""))
        );
        return (CheckStatus::Fail, why);
    }
    let mut warns = Vec::new();
    if !stale.is_empty() {
        warns.push(format!(
            "{} message(s) deferred for a refused AUTH before the relay credentials changed (postqueue -f retries them now)",
            stale.len()
        ));
    }
    let limit = c.max_age_minutes.saturating_mul(60) as i64;
    let old: Vec<String> = deferred
        .iter()
        .filter(|q| now - q.arrival_time > limit)
        .map(|q| {
            let to = q.recipients.first().map_or("", |r| r.address.as_str());
            let why = short(reason(q).unwrap_or("no reason recorded"));
            format!(
                "{} to {to}, {} min: {why}",
                q.queue_id,
                (now - q.arrival_time) / 60
            )
        })
        .collect();
    if !old.is_empty() {
        let shown: Vec<&String> = old.iter().take(5).collect();
        let more = if old.len() > 5 {
            format!(" and {} more", old.len() - 5)
        } else {
            String::new()
        };
        warns.push(format!(
            "deferred for over {} min: {}{more}",
            c.max_age_minutes,
            shown
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    if queue.len() > c.max_messages {
        warns.push(format!(
            "{} messages queued (more than {})",
            queue.len(),
            c.max_messages
        ));
    }
    if warns.is_empty() {
        let why = format!(
            "{} message(s) queued, {} deferred",
            queue.len(),
            deferred.len()
        );
        (CheckStatus::Pass, why)
    } else {
        (CheckStatus::Warn, warns.join("; "))
    }
}

impl Check for QueueCheck {
    fn run(&self, cx: &CheckCx) -> CheckResult {
        let name = "mail queue".to_string();
        let host = cx.host;
        if !host.is_live() {
            return CheckResult::new(name, CheckStatus::Skipped, "offline root");
        }
        let argv = ["postqueue".to_string(), "-j".to_string()];
        let out = match host.runner.run(&argv, None, &[]) {
            Ok(o) if o.code == Some(0) => o,
            Ok(o) => {
                let why = format!("postqueue -j failed: {}", short(&o.stderr));
                return CheckResult::new(name, CheckStatus::Fail, why);
            }
            Err(e) => return CheckResult::new(name, CheckStatus::Fail, e.to_string()),
        };
        let queue = match parse(&out.stdout) {
            Ok(q) => q,
            Err(e) => return CheckResult::new(name, CheckStatus::Fail, e),
        };
        let map = self.relay_map.trim();
        let map_mtime = match map {
            "" => None,
            m => host.root.mtime(m).ok().flatten().map(|(s, _)| s),
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let (status, detail) = judge(self, &queue, now, map_mtime);
        let r = CheckResult::new(name, status, detail);
        match status {
            CheckStatus::Fail => r.with_hint(
                "put the right password in mail.relay.password_file, run `firstboot run --only mail --force`, then `postqueue -f`",
            ),
            CheckStatus::Warn => r.with_hint("read the reasons with `postqueue -p` and /var/log/mail.log"),
            _ => r,
        }
    }
}

#[cfg(test)]
#[path = "queue_tests.rs"]
mod tests;
