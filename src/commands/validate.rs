//! `firstboot validate [MODULE]...`: run checks against the host as it is.

use crate::cli::{Cli, Selection};
use crate::engine::checks::{CheckResult, CheckStatus};
use crate::engine::module::build;
use crate::engine::prepare;
use crate::error::{Error, Result};
use crate::state::State;
use serde::Serialize;

#[derive(Serialize)]
struct ModuleChecks {
    id: String,
    checks: Vec<CheckResult>,
}

/// Validate the named modules (default: all of the profile's).
pub fn validate(cli: &Cli, modules: &[String], sel: &Selection, json: bool) -> Result<()> {
    let state = State::load(&crate::host::Root::new(&cli.root))?;
    let mut opts = super::options(cli, Some(sel));
    opts.only.extend(modules.iter().cloned());
    let fallback = state.profile.clone().or_else(|| Some("advanced".into()));
    let p = prepare(&opts, fallback.as_deref())?;
    let mut report = Vec::new();
    let ctxs = p.contexts().map_err(|e| Error::Module {
        module: "(outputs)".into(),
        reason: e,
    })?;
    for (m, ctx) in ctxs {
        let built = build(m, &ctx).map_err(|e| Error::Module {
            module: m.id.clone(),
            reason: e,
        })?;
        let checks: Vec<CheckResult> = built.checks.iter().map(|c| c.run(&p.host)).collect();
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
                let s = match c.status {
                    CheckStatus::Pass => "PASS",
                    CheckStatus::Fail => "FAIL",
                    CheckStatus::Skipped => "SKIP",
                    CheckStatus::Pending => "PENDING",
                    CheckStatus::Warn => "WARN",
                };
                println!("  {s} {}: {}", c.name, c.detail);
            }
        }
    }
    if failed > 0 {
        Err(Error::Checks(failed))
    } else {
        Ok(())
    }
}
