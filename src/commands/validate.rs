//! `firstboot validate [MODULE]...`: run checks against the host as it is, re-check
//! pending ones with `--wait`, print a table or `--json`, and write `--textfile`.

use super::validate_out::{self, ModuleChecks};
use crate::backup::BackupManifest;
use crate::checks::{run_checks, CheckStatus, Declared};
use crate::cli::{Cli, Selection};
use crate::engine::{prepare, Prepared};
use crate::error::{Error, Result};
use crate::logging::Logs;
use crate::state::State;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How results leave the command.
pub struct Output {
    /// One JSON document on stdout instead of the table.
    pub json: bool,
    /// Re-check pending checks for at most this long.
    pub wait: Option<Duration>,
    /// Directory for `firstboot.prom` (node_exporter's textfile collector).
    pub textfile: Option<PathBuf>,
}

/// How long `--wait` sleeps between rounds of pending checks (DNS caches and
/// secondaries move on the scale of seconds to minutes).
const WAIT_ROUND: Duration = Duration::from_secs(5);

/// Validate the named modules (default: all of the profile's). Results go to the logs
/// too, with the same lines `run` writes for its checks.
pub fn validate(
    cli: &Cli,
    modules: &[String],
    sel: &Selection,
    out: &Output,
    logs: &Logs,
) -> Result<()> {
    if let Some(dir) = &out.textfile {
        validate_out::textfile_dir_ok(dir).map_err(Error::Usage)?;
    }
    let state = State::load(&crate::host::Root::new(&cli.root))?;
    let mut opts = super::options(cli, Some(sel));
    opts.only.extend(modules.iter().cloned());
    let p = prepare(&opts, state.profile.as_deref())?;
    let ids: Vec<&str> = p.selected.iter().map(|m| m.id.as_str()).collect();
    if let Err(e) = logs.open(&p.host.root, p.redactor.clone(), &ids) {
        tracing::warn!("validate: not writing the log files: {e}");
    }
    let report = check_all(&p, out.wait);
    let counts = validate_out::Counts::of(&report);
    if out.json {
        super::print_json(&validate_out::json(&report, &counts));
    } else {
        print!("{}", validate_out::table(&report, &counts));
    }
    if let Some(dir) = &out.textfile {
        validate_out::write_textfile(dir, &report, std::time::SystemTime::now())
            .map_err(|e| Error::Report(format!("--textfile {}: {e}", dir.display())))?;
    }
    match counts.fail {
        0 => Ok(()),
        n => Err(Error::Checks(n)),
    }
}

/// Run every selected module's checks (modules one after another, a module's checks
/// concurrently), re-running `pending` ones until `wait` is over.
pub fn check_all(p: &Prepared, wait: Option<Duration>) -> Vec<ModuleChecks> {
    // Nothing was changed by this command: no service was (re)started, no retry.
    let cx = p.check_cx(&BackupManifest::default());
    let deadline = wait.map(|w| Instant::now() + w);
    let mut report = Vec::new();
    // Every module was rendered and typed by `prepare`.
    for (m, b) in p.modules() {
        let declared = &b.built.checks;
        let span = tracing::info_span!("module", id = %m.id);
        let _g = span.enter();
        tracing::info!("validate: {} check(s)", declared.len());
        let mut checks = run_checks(&cx, declared, &mut |_| {});
        while let Some(deadline) = deadline {
            let pending: Vec<usize> = (0..checks.len())
                .filter(|&i| checks[i].status == CheckStatus::Pending)
                .collect();
            let left = deadline.saturating_duration_since(Instant::now());
            if pending.is_empty() || left.is_zero() {
                break;
            }
            std::thread::sleep(left.min(WAIT_ROUND));
            let again: Vec<Declared> = pending.iter().map(|&i| declared[i].clone()).collect();
            for (i, r) in pending
                .into_iter()
                .zip(run_checks(&cx, &again, &mut |_| {}))
            {
                checks[i] = r;
            }
        }
        report.push(ModuleChecks {
            id: m.id.clone(),
            checks,
        });
    }
    report
}
