//! `firstboot preflight`: the host's readiness for mail (see `crate::preflight`), and the
//! same items as warnings at the start of `run`.

use crate::checks::{CheckResult, CheckStatus};
use crate::cli::{Cli, Selection};
use crate::engine::{prepare, Prepared};
use crate::error::{Error, Result};
use crate::preflight::{preflight as items, Target};
use std::time::Duration;

/// How long one network exchange of preflight may take.
const TIMEOUT: Duration = Duration::from_secs(5);

fn target(p: &Prepared, probe: Option<&str>) -> Target {
    let mut t = Target::from_values(&p.inputs.values);
    if let Some(x) = probe.map(str::trim).filter(|x| !x.is_empty()) {
        t.probe = x.to_string();
    }
    t
}

/// Print the results; exit 1 when something warns.
pub fn preflight(cli: &Cli, sel: &Selection, probe: Option<&str>, json: bool) -> Result<()> {
    let last = super::last_profile(cli)?;
    let p = prepare(
        &super::options(cli, Some(sel)),
        last.as_deref().or(Some("standard")),
    )?;
    let results = items(&p.host, &target(&p, probe), TIMEOUT);
    let warned = results
        .iter()
        .filter(|r| r.status == CheckStatus::Warn)
        .count();
    if json {
        super::print_json(&serde_json::json!({"checks": results, "warned": warned}));
    } else {
        let w = results.iter().map(|r| r.id.len()).max().unwrap_or(0);
        for r in &results {
            println!(
                "  {:<7} {:<w$} {}: {}",
                r.status.word(),
                r.id,
                r.name,
                r.detail
            );
        }
    }
    match warned {
        0 => Ok(()),
        n => Err(Error::Preflight(n)),
    }
}

/// The start of `run`: each warning logged (and shown), nothing stops the run.
pub fn before_run(p: &Prepared) -> Vec<CheckResult> {
    let results = items(&p.host, &target(p, None), TIMEOUT);
    for r in results.iter().filter(|r| r.status == CheckStatus::Warn) {
        tracing::warn!("preflight {}: {}", r.name, r.detail);
    }
    results
}
