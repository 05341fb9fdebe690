//! `firstboot plan`: read-only.

use crate::cli::{Cli, Selection};
use crate::engine::{plan, prepare};
use crate::error::Result;
use crate::state::State;

/// Plan and print; exit 1 when a module cannot be planned.
pub fn plan(cli: &Cli, sel: &Selection, force: bool, json: bool) -> Result<()> {
    let state_root = crate::host::Root::new(&cli.root);
    let state = State::load(&state_root)?;
    let interrupted = crate::journal::pending(&state_root)?;
    if let Some(f) = &interrupted {
        eprintln!(
            "note: run {} was killed in module {}; the next `firstboot run` rolls that module back first",
            f.run_id, f.module
        );
    }
    let p = prepare(&super::options(cli, Some(sel)), state.profile.as_deref())?;
    if let Some(w) = super::relay_spf::warning(&p.inputs.values) {
        eprintln!("warning: {w}");
    }
    if let Some(w) = super::ssh_ports::warning(&p.inputs.values, &p.facts.sshd_ports) {
        eprintln!("warning: {w}");
    }
    let mut report = plan::plan(&p, &state, force, false);
    if let Some(f) = &interrupted {
        let touched = crate::backup::load(&state_root, &f.run_id, &f.module)?
            .map(|m| m.paths())
            .unwrap_or_default();
        after_rollback(&mut report, &f.module, &touched);
    }
    if json {
        super::print_json(&report);
    } else {
        print!("{}", plan::render_text(&report));
    }
    match report
        .modules
        .iter()
        .find_map(|m| m.failure.clone().map(|f| (m, f)))
    {
        Some((m, f)) => Err(f.into_error(&p, &m.id)),
        None => Ok(()),
    }
}

/// The interrupted module's plan as the next run will meet it: it runs (after the
/// rollback), and a file the killed run already wrote is not "unchanged": the rollback
/// restores its original first, then it is written again.
fn after_rollback(
    report: &mut plan::PlanReport,
    module: &str,
    touched: &std::collections::BTreeSet<String>,
) {
    use crate::steps::{Change, Planned};
    let Some(m) = report.modules.iter_mut().find(|m| m.id == module) else {
        return;
    };
    if m.status == "skip" {
        m.status = "run".into();
    }
    m.reason = Some(format!(
        "a killed run left it half-applied ({} change(s)); the next run rolls those back first",
        touched.len()
    ));
    for s in &mut m.steps {
        let path = s.target.split_whitespace().nth(1).unwrap_or_default();
        if s.change == Change::None && touched.contains(path) {
            *s = Planned::new(
                s.target.clone(),
                Change::Update { diff: None },
                "written by the killed run; the rollback restores the original first, then it is written again",
            );
        }
    }
}
