//! `firstboot plan`: read-only.

use crate::cli::{Cli, Selection};
use crate::engine::{plan, prepare};
use crate::error::Result;
use crate::state::State;

/// Plan and print; exit 1 when a module cannot be planned.
pub fn plan(cli: &Cli, sel: &Selection, force: bool, json: bool) -> Result<()> {
    let state_root = crate::host::Root::new(&cli.root);
    let state = State::load(&state_root)?;
    if let Some(f) = crate::journal::pending(&state_root)? {
        eprintln!(
            "note: run {} was killed in module {}; the next `firstboot run` rolls that module back first, so this plan shows its files half-changed",
            f.run_id, f.module
        );
    }
    let p = prepare(&super::options(cli, Some(sel)), state.profile.as_deref())?;
    let report = plan::plan(&p, &state, force, false);
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
