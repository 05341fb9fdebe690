//! `firstboot watch`: mail admin_email a digest of what happened since the last run
//! (fail2ban bans, authentication failures, Postfix warnings, deferred mail), from the
//! mail and fail2ban logs, and run the profile's checks: a check that went from passing
//! to failing is alerted once, its recovery once more. Run on a schedule (10-monitoring
//! installs it); a quiet period sends nothing. State is saved only after the mails
//! left, so a failed send repeats them next time instead of losing them.

use crate::cli::{Cli, Selection};
use crate::engine::prepare;
use crate::error::{Error, Result};
use crate::host::Root;
use crate::watch::{digest::Digest, events, tail};

/// Where `watch` keeps its positions in the logs.
pub const OFFSETS_FILE: &str = "/var/lib/firstboot/watch.json";

/// node_exporter's textfile directory on Debian: results go there when it exists.
pub const TEXTFILE_DIR: &str = "/var/lib/prometheus/node-exporter";

/// The checks failing now (`module/id`), and the alert mail for what changed since
/// `before`: newly failing checks with their hints, and recovered ones.
pub fn alerts(
    report: &[super::validate_out::ModuleChecks],
    before: &std::collections::BTreeSet<String>,
    host: &str,
) -> (std::collections::BTreeSet<String>, Option<(String, String)>) {
    use std::fmt::Write as _;
    let mut now = std::collections::BTreeSet::new();
    let mut body = String::new();
    let mut new = 0;
    for m in report {
        for c in m
            .checks
            .iter()
            .filter(|c| c.status == crate::checks::CheckStatus::Fail)
        {
            let key = format!("{}/{}", m.id, c.id);
            let mark = if before.contains(&key) { "" } else { " (new)" };
            new += usize::from(!before.contains(&key));
            let _ = writeln!(body, "FAIL {key}{mark}: {}: {}", c.name, c.detail);
            if let Some(h) = &c.hint {
                let _ = writeln!(body, "  hint: {h}");
            }
            now.insert(key);
        }
    }
    let recovered: Vec<&String> = before.difference(&now).collect();
    if !recovered.is_empty() {
        let _ = writeln!(body, "\nRecovered (passing again or no longer checked):");
        for k in &recovered {
            let _ = writeln!(body, "  {k}");
        }
    }
    let subject = match (new, recovered.len(), now.len()) {
        (0, 0, _) => return (now, None),
        (0, r, 0) => format!("firstboot on {host}: recovered, all checks pass ({r} recovered)"),
        (0, r, f) => format!("firstboot on {host}: {r} check(s) recovered, {f} still failing"),
        (n, _, f) => format!("firstboot on {host}: ALERT {n} check(s) newly failing ({f} failing)"),
    };
    (now, Some((subject, body)))
}

/// The logs read: Postfix's (`mail.maillog_file`, else the distribution's syslog file),
/// Dovecot's own when Postfix logs itself, and fail2ban's.
fn logs(maillog_file: Option<&str>) -> Vec<String> {
    let mut v = match maillog_file {
        Some(f) => vec![f.to_string(), "/var/log/dovecot.log".into()],
        None => vec!["/var/log/mail.log".into(), "/var/log/maillog".into()],
    };
    v.push("/var/log/fail2ban.log".into());
    v
}

fn load(root: &Root) -> Result<tail::Offsets> {
    Ok(match root.read(OFFSETS_FILE)? {
        Some(d) => serde_json::from_slice(&d).map_err(|e| {
            Error::Usage(format!(
                "{OFFSETS_FILE} is unreadable ({e}); remove it to start again from the logs' current start"
            ))
        })?,
        None => tail::Offsets::default(),
    })
}

/// Read the logs since the last run, and print the digest (`print`) or mail it to
/// admin_email with the host's sendmail.
pub fn watch(cli: &Cli, sel: &Selection, print: bool) -> Result<()> {
    let last = super::last_profile(cli)?;
    let p = prepare(&super::options(cli, Some(sel)), last.as_deref())?;
    let v = &p.inputs.values;
    let admin = v["admin_email"].as_str().unwrap_or_default().to_string();
    let host = v["hostname"].as_str().unwrap_or_default().to_string();
    let root = &p.host.root;
    let mut offsets = load(root)?;
    let mut digest = Digest::default();
    for log in logs(v["mail"]["maillog_file"].as_str()) {
        let real = root.path(&log)?;
        let (lines, pos) = tail::read_new(&real, offsets.files.get(&log).copied())
            .map_err(|e| Error::Usage(format!("{log}: {e}")))?;
        lines
            .iter()
            .filter_map(|l| events::classify(l))
            .for_each(|e| digest.add(e));
        match pos {
            Some(pos) => offsets.files.insert(log, pos),
            None => offsets.files.remove(&log),
        };
    }
    let mut mails = Vec::new();
    if !digest.is_empty() {
        mails.push((digest.subject(&host), digest.body()));
    }
    let report = super::validate::check_all(&p, None);
    let (failing, alert) = alerts(&report, &offsets.failing, &host);
    mails.extend(alert);
    if mails.is_empty() {
        tracing::info!(target: "progress", "watch: nothing new since the last run");
    }
    for (subject, body) in mails {
        if print {
            println!("Subject: {subject}\n\n{body}");
        } else {
            let mail = format!(
                "To: {admin}\nSubject: {subject}\nAuto-Submitted: auto-generated\n\n{body}"
            );
            let argv: Vec<String> = ["/usr/sbin/sendmail", "-t", "-oi"].map(String::from).into();
            p.host.runner.run_ok(&argv, Some(mail.as_bytes()), &[])?;
            tracing::info!(target: "progress", "watch: mailed {admin}: {subject}");
        }
    }
    offsets.failing = failing;
    if root.meta(TEXTFILE_DIR)?.is_some() {
        let dir = root.path(TEXTFILE_DIR)?;
        if let Err(e) =
            super::validate_out::write_textfile(&dir, &report, std::time::SystemTime::now())
        {
            tracing::warn!("watch: could not write {TEXTFILE_DIR}: {e}");
        }
    }
    crate::state::ensure_state_dir(root)?;
    let json = serde_json::to_vec_pretty(&offsets).unwrap_or_default();
    root.write_atomic(OFFSETS_FILE, &json, 0o600, None)?;
    Ok(())
}
