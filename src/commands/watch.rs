//! `firstboot watch`: mail admin_email a digest of what happened since the last run
//! (fail2ban bans, authentication failures, Postfix warnings, deferred mail), from the
//! mail and fail2ban logs. Run on a schedule (10-monitoring installs it); an empty
//! period sends nothing. Positions are saved only after the digest left, so a failed
//! send repeats it next time instead of losing it.

use crate::cli::{Cli, Selection};
use crate::engine::prepare;
use crate::error::{Error, Result};
use crate::host::Root;
use crate::watch::{digest::Digest, events, tail};

/// Where `watch` keeps its positions in the logs.
pub const OFFSETS_FILE: &str = "/var/lib/firstboot/watch.json";

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
    if digest.is_empty() {
        tracing::info!(target: "progress", "watch: nothing new since the last run");
    } else if print {
        println!("Subject: {}\n\n{}", digest.subject(&host), digest.body());
    } else {
        let mail = format!(
            "To: {admin}\nSubject: {}\nAuto-Submitted: auto-generated\n\n{}",
            digest.subject(&host),
            digest.body()
        );
        let argv: Vec<String> = ["/usr/sbin/sendmail", "-t", "-oi"].map(String::from).into();
        p.host.runner.run_ok(&argv, Some(mail.as_bytes()), &[])?;
        tracing::info!(target: "progress", "watch: digest mailed to {admin}");
    }
    crate::state::ensure_state_dir(root)?;
    let json = serde_json::to_vec_pretty(&offsets).unwrap_or_default();
    root.write_atomic(OFFSETS_FILE, &json, 0o600, None)?;
    Ok(())
}
