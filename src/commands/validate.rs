//! `firstboot validate [MODULE]...`: run checks against the host as it is.

use crate::backup::BackupManifest;
use crate::checks::{run_checks, CheckResult, CheckStatus};
use crate::cli::{Cli, Selection};
use crate::engine::prepare;
use crate::error::{Error, Result};
use crate::logging::Logs;
use crate::state::State;
use serde::Serialize;

#[derive(Serialize)]
struct ModuleChecks {
    id: String,
    checks: Vec<CheckResult>,
}

/// Validate the named modules (default: all of the profile's). Results go to the logs
/// too, with the same lines `run` writes for its checks.
pub fn validate(
    cli: &Cli,
    modules: &[String],
    sel: &Selection,
    json: bool,
    logs: &Logs,
) -> Result<()> {
    let state = State::load(&crate::host::Root::new(&cli.root))?;
    let mut opts = super::options(cli, Some(sel));
    opts.only.extend(modules.iter().cloned());
    let p = prepare(&opts, state.profile.as_deref())?;
    let ids: Vec<&str> = p.selected.iter().map(|m| m.id.as_str()).collect();
    if let Err(e) = logs.open(&p.host.root, p.redactor.clone(), &ids) {
        tracing::warn!("validate: not writing the log files: {e}");
    }
    // Nothing was changed by this command: no service was (re)started, no retry.
    let cx = p.check_cx(&BackupManifest::default());
    let mut report = Vec::new();
    // Every module was rendered and typed by `prepare`.
    for (m, b) in p.modules() {
        let built = &b.built;
        let span = tracing::info_span!("module", id = %m.id);
        let _g = span.enter();
        tracing::info!("validate: {} check(s)", built.checks.len());
        let checks = run_checks(&cx, &built.checks, &mut |_| {});
        report.push(ModuleChecks {
            id: m.id.clone(),
            checks,
        });
    }
    let failed = report
        .iter()
        .flat_map(|m| &m.checks)
        .filter(|c| c.status == CheckStatus::Fail)
        .count();
    let warned = report
        .iter()
        .flat_map(|m| &m.checks)
        .filter(|c| c.status == CheckStatus::Warn)
        .count();
    if json {
        super::print_json(
            &serde_json::json!({"modules": report, "failed": failed, "warned": warned}),
        );
    } else {
        for m in &report {
            println!("{}", m.id);
            if m.checks.is_empty() {
                println!("  (no checks declared)");
            }
            for c in &m.checks {
                println!("  {} {}: {}", c.status.word(), c.name, c.detail);
            }
        }
    }
    if failed > 0 {
        Err(Error::Checks(failed))
    } else {
        Ok(())
    }
}
