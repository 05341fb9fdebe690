//! `firstboot status`.

use crate::cli::Cli;
use crate::error::Result;
use crate::host::Root;
use crate::state::State;

/// Print each module's last run.
pub fn status(cli: &Cli, json: bool) -> Result<()> {
    let root = Root::new(&cli.root);
    let state = State::load(&root)?;
    let inflight = crate::journal::pending(&root)?;
    let stamp = crate::stamp::Stamp::load(&root)?;
    if json {
        super::print_json(
            &serde_json::json!({"state": state, "interrupted": inflight, "provisioned": stamp}),
        );
        return Ok(());
    }
    if let Some(f) = &inflight {
        println!(
            "{:16} {:12} run {}  killed mid-module; the next `firstboot run` or `rollback` rolls it back first",
            f.module, "interrupted", f.run_id
        );
    }
    if state.modules.is_empty() && inflight.is_none() {
        println!("no module has run yet");
    }
    let mut mods: Vec<_> = state.modules.iter().collect();
    mods.sort_by_key(|(id, _)| crate::manifest::Module::order_of(id).unwrap_or(u32::MAX));
    for (id, s) in mods {
        if inflight.as_ref().is_some_and(|f| f.module == *id) {
            continue; // said above, once
        }
        let result = serde_json::to_value(s.result)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        println!(
            "{id:16} {result:12} run {}  at {}  instance {}",
            s.last_run, s.finished_at, s.instance_id
        );
        if let Some(e) = &s.error {
            println!("{:16} {e}", "");
        }
    }
    if let Some(s) = stamp {
        println!(
            "instance {} provisioned by run {} (profile {}) at {}",
            s.instance_id, s.run, s.profile, s.finished_at
        );
    }
    Ok(())
}
