//! `firstboot status`.

use crate::cli::Cli;
use crate::error::Result;
use crate::host::Root;
use crate::state::State;

/// Print each module's last run.
pub fn status(cli: &Cli, json: bool) -> Result<()> {
    let state = State::load(&Root::new(&cli.root))?;
    if json {
        super::print_json(&state);
        return Ok(());
    }
    if state.modules.is_empty() {
        println!("no module has run yet");
    }
    let mut mods: Vec<_> = state.modules.iter().collect();
    mods.sort_by_key(|(id, _)| crate::manifest::Module::order_of(id).unwrap_or(u32::MAX));
    for (id, s) in mods {
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
    Ok(())
}
