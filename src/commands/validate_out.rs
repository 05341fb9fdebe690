//! What `validate` prints and writes: the 80-column table, the `--json` document and
//! the `--textfile` file in Prometheus' text exposition format.

use crate::checks::{CheckResult, CheckStatus};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::Path;
use std::time::SystemTime;

/// One module's results.
#[derive(Serialize)]
pub struct ModuleChecks {
    /// Module id (`9-mail_config`).
    pub id: String,
    /// Its checks' results, in declaration order.
    pub checks: Vec<CheckResult>,
}

/// How many checks ended in each status.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct Counts {
    /// Passed.
    pub pass: usize,
    /// Passed with a warning.
    pub warn: usize,
    /// Not settled yet (DNS).
    pub pending: usize,
    /// Failed.
    pub fail: usize,
    /// Not run, with why.
    pub skipped: usize,
}

impl Counts {
    /// Count the statuses of every module's checks.
    pub fn of(report: &[ModuleChecks]) -> Counts {
        let mut c = Counts::default();
        for r in report.iter().flat_map(|m| &m.checks) {
            *match r.status {
                CheckStatus::Pass => &mut c.pass,
                CheckStatus::Warn => &mut c.warn,
                CheckStatus::Pending => &mut c.pending,
                CheckStatus::Fail => &mut c.fail,
                CheckStatus::Skipped => &mut c.skipped,
            } += 1;
        }
        c
    }
}

/// The `--json` document (version 1; documented in docs/guide.md).
pub fn json(report: &[ModuleChecks], counts: &Counts) -> serde_json::Value {
    serde_json::json!({
        "version": 1,
        "ok": counts.fail == 0,
        "counts": counts,
        "failed": counts.fail,
        "warned": counts.warn,
        "modules": report,
    })
}

/// Table width: a classic terminal.
const WIDTH: usize = 80;
/// Widest id column before an id gets a line of its own.
const ID_COLUMN: usize = 26;

/// The human table: a module per block, a check per line (`STATUS  id  name: detail`,
/// wrapped, never cut: a skip says why, a failure says what was found), and a hint for
/// what did not pass and was not skipped. No line is wider than 80 columns.
pub fn table(report: &[ModuleChecks], counts: &Counts) -> String {
    let mut out = String::new();
    let w = report
        .iter()
        .flat_map(|m| &m.checks)
        .map(|c| c.id.chars().count())
        .max()
        .unwrap_or(0)
        .min(ID_COLUMN);
    for m in report {
        let _ = writeln!(out, "{}", m.id);
        if m.checks.is_empty() {
            let _ = writeln!(out, "  (no checks declared)");
        }
        for c in &m.checks {
            row(&mut out, c, w);
        }
    }
    let _ = writeln!(
        out,
        "{} pass, {} warn, {} pending, {} fail, {} skipped",
        counts.pass, counts.warn, counts.pending, counts.fail, counts.skipped
    );
    out
}

fn row(out: &mut String, c: &CheckResult, w: usize) {
    let mut head = format!("  {:<7} {:<w$} ", c.status.word(), c.id);
    if head.chars().count() > 2 + 8 + w + 1 {
        // An id longer than the column: on its own line, the text below it.
        let _ = writeln!(out, "{}", head.trim_end());
        head = " ".repeat(2 + 8 + w + 1);
    }
    let indent = " ".repeat(head.chars().count());
    let room = WIDTH - head.chars().count();
    let text = if c.detail.is_empty() {
        c.name.clone()
    } else {
        format!("{}: {}", c.name, c.detail)
    };
    let mut lines = wrap(&text, room);
    if !matches!(c.status, CheckStatus::Pass | CheckStatus::Skipped) {
        if let Some(h) = &c.hint {
            lines.extend(wrap(&format!("hint: {h}"), room));
        }
    }
    for (i, l) in lines.iter().enumerate() {
        let lead = if i == 0 { &head } else { &indent };
        if l.chars().count() > room {
            // One word wider than the column (a long path): under it, less indented.
            if i == 0 {
                let _ = writeln!(out, "{}", head.trim_end());
            }
            let _ = writeln!(out, "{WIDE_LEAD}{l}");
        } else {
            let _ = writeln!(out, "{lead}{l}");
        }
    }
}

/// The lead of a line holding one word wider than the text column.
const WIDE_LEAD: &str = "    ";

/// Words of `s` in lines of at most `room` characters; a longer word gets a line of its
/// own (printed less indented), and only a word wider than the whole table is split.
fn wrap(s: &str, room: usize) -> Vec<String> {
    let wide = WIDTH - WIDE_LEAD.len();
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in one_line(s).split(' ').filter(|w| !w.is_empty()) {
        let mut word: Vec<char> = word.chars().collect();
        while word.len() > room {
            if !cur.is_empty() {
                lines.push(std::mem::take(&mut cur));
            }
            let n = word.len().min(wide);
            lines.push(word.drain(..n).collect());
        }
        if word.is_empty() {
            continue;
        }
        let word: String = word.into_iter().collect();
        if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > room {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(&word);
    }
    if !cur.is_empty() || lines.is_empty() {
        lines.push(cur);
    }
    lines
}

/// Control characters (a newline from a command's output) as spaces.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The file node_exporter reads: `firstboot.prom` (written beside as a dot file and
/// renamed, so the collector never reads half of it).
pub const TEXTFILE: &str = "firstboot.prom";

/// `dir` exists and is a directory (checked before any check runs: a typo in the path
/// is a usage error, not a monitoring gap discovered later).
pub fn textfile_dir_ok(dir: &Path) -> Result<(), String> {
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(format!("--textfile {}: not a directory", dir.display())),
        Err(e) => Err(format!("--textfile {}: {e}", dir.display())),
    }
}

/// The gauge value of a status: 0 pass, 1 skipped, 2 pending, 3 warn, 4 fail (higher
/// is worse; alert on `== 4`).
pub fn status_value(s: CheckStatus) -> u8 {
    match s {
        CheckStatus::Pass => 0,
        CheckStatus::Skipped => 1,
        CheckStatus::Pending => 2,
        CheckStatus::Warn => 3,
        CheckStatus::Fail => 4,
    }
}

/// The results in Prometheus' text exposition format: `firstboot_check_status` per
/// check (labels module and check id), counts per status, and the time of this run.
pub fn prometheus(report: &[ModuleChecks], now: SystemTime) -> String {
    let mut out = String::new();
    out.push_str("# HELP firstboot_check_status Result of a firstboot validate check: 0 pass, 1 skipped, 2 pending, 3 warn, 4 fail.\n");
    out.push_str("# TYPE firstboot_check_status gauge\n");
    for m in report {
        for c in &m.checks {
            let _ = writeln!(
                out,
                "firstboot_check_status{{module=\"{}\",check=\"{}\"}} {}",
                label(&m.id),
                label(&c.id),
                status_value(c.status)
            );
        }
    }
    let counts = Counts::of(report);
    out.push_str("# HELP firstboot_validate_checks Checks of the last validate, by status.\n");
    out.push_str("# TYPE firstboot_validate_checks gauge\n");
    for (status, n) in [
        ("pass", counts.pass),
        ("warn", counts.warn),
        ("pending", counts.pending),
        ("fail", counts.fail),
        ("skipped", counts.skipped),
    ] {
        let _ = writeln!(out, "firstboot_validate_checks{{status=\"{status}\"}} {n}");
    }
    let secs = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    out.push_str("# HELP firstboot_validate_last_run_timestamp_seconds When validate last ran (Unix time).\n");
    out.push_str("# TYPE firstboot_validate_last_run_timestamp_seconds gauge\n");
    let _ = writeln!(out, "firstboot_validate_last_run_timestamp_seconds {secs}");
    out
}

/// A label value escaped as the text format wants (`\\`, `\"`, `\n`).
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Write [`prometheus`] to `dir/firstboot.prom` atomically, mode 0644.
pub fn write_textfile(dir: &Path, report: &[ModuleChecks], now: SystemTime) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let tmp = dir.join(format!(".{TEXTFILE}.tmp"));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o644)
        .open(&tmp)?;
    f.write_all(prometheus(report, now).as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, dir.join(TEXTFILE))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(id: &str, status: CheckStatus, detail: &str, hint: Option<&str>) -> CheckResult {
        let mut r = CheckResult::new(format!("the {id} check"), status, detail);
        r.id = id.into();
        r.hint = hint.map(Into::into);
        r
    }

    fn sample() -> Vec<ModuleChecks> {
        let long = "the record published at s1._domainkey.example.test holds a key that is not the one in /etc/opendkim/keys/example.test/s1.private (a rotation half done?)";
        vec![ModuleChecks {
            id: "9-mail_config".into(),
            checks: vec![
                result("postfix.config", CheckStatus::Pass, &"x".repeat(200), None),
                result("dns.dkim", CheckStatus::Fail, long, Some("publish the record `firstboot records` shows, or run `firstboot dkim status`")),
                result("a.very.long.check.id.that.does.not.fit", CheckStatus::Pending, "not visible yet", None),
                result("x\"y", CheckStatus::Warn, "line\nbreak", None),
                result("ssl.certificate", CheckStatus::Pass, "certificate /etc/letsencrypt/live/mail.example.test/fullchain.pem: ok", None),
            ],
        }]
    }

    #[test]
    fn the_table_fits_80_columns_and_shows_failures_whole_with_their_hint() {
        let r = sample();
        let t = table(&r, &Counts::of(&r));
        for l in t.lines() {
            assert!(
                l.chars().count() <= WIDTH,
                "{} columns: {l:?}",
                l.chars().count()
            );
        }
        let flat = t.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains("(a rotation half done?)"), "{t}");
        assert!(
            flat.contains("hint: publish the record `firstboot records` shows"),
            "{t}"
        );
        assert!(t.contains("  PASS    postfix.config"), "{t}");
        assert!(
            flat.contains(&"x".repeat(76)),
            "a long word is kept whole up to the width: {t}"
        );
        assert!(
            flat.contains(
                "check: certificate /etc/letsencrypt/live/mail.example.test/fullchain.pem: ok"
            ),
            "a path is never split: {t}"
        );
        assert!(
            t.contains("\n  PENDING a.very.long.check.id.that.does.not.fit\n"),
            "{t}"
        );
        assert!(
            t.ends_with("2 pass, 1 warn, 1 pending, 1 fail, 0 skipped\n"),
            "{t}"
        );
        assert!(!t.contains("line\nbreak"), "{t}");
    }

    #[test]
    fn counts_and_json_say_whether_anything_failed() {
        let r = sample();
        let c = Counts::of(&r);
        assert_eq!(
            (c.pass, c.fail, c.pending, c.warn, c.skipped),
            (2, 1, 1, 1, 0)
        );
        let j = json(&r, &c);
        assert_eq!(j["ok"], false);
        assert_eq!(j["version"], 1);
        assert_eq!(j["modules"][0]["checks"][1]["id"], "dns.dkim");
        assert_eq!(j["modules"][0]["checks"][1]["status"], "fail");
        assert!(j["modules"][0]["checks"][0].get("hint").is_none());
    }

    #[test]
    fn status_values_grow_with_severity() {
        let order = [
            CheckStatus::Pass,
            CheckStatus::Skipped,
            CheckStatus::Pending,
            CheckStatus::Warn,
            CheckStatus::Fail,
        ];
        let v: Vec<u8> = order.iter().map(|s| status_value(*s)).collect();
        assert_eq!(v, [0, 1, 2, 3, 4]);
    }

    #[test]
    fn the_textfile_is_replaced_whole_and_labels_are_escaped() {
        let dir = tempfile::tempdir().unwrap();
        let now = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
        write_textfile(dir.path(), &sample(), now).unwrap();
        let text = std::fs::read_to_string(dir.path().join(TEXTFILE)).unwrap();
        assert!(
            text.contains(
                "firstboot_check_status{module=\"9-mail_config\",check=\"dns.dkim\"} 4\n"
            ),
            "{text}"
        );
        assert!(text.contains("check=\"x\\\"y\"} 3\n"), "{text}");
        assert!(text.contains("firstboot_validate_last_run_timestamp_seconds 1700000000\n"));
        assert!(!dir.path().join(format!(".{TEXTFILE}.tmp")).exists());
        assert!(textfile_dir_ok(dir.path()).is_ok());
        let err = textfile_dir_ok(&dir.path().join("absent")).unwrap_err();
        assert!(err.contains("absent"), "{err}");
    }
}
