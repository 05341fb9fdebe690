//! One file per subcommand: each turns parsed arguments into engine calls and output.

pub mod acme;
pub mod dkim;
pub mod dns_summary;
pub mod docs;
pub mod list;
pub mod mailbox;
pub mod plan;
pub mod preflight;
pub mod records;
pub mod relay_spf;
pub mod rollback;
pub mod run;
pub mod ssh_ports;
pub mod status;
pub mod validate;
pub mod validate_out;
pub mod watch;

use crate::cli::{Cli, Command, Selection};
use crate::engine::Options;
use crate::error::Result;
use crate::logging::Logs;
use std::time::Duration;

/// Engine options from the global flags and a selection.
pub fn options(cli: &Cli, sel: Option<&Selection>) -> Options {
    Options {
        root: cli.root.clone(),
        config: sel.and_then(|s| s.config.clone()),
        profile: sel.and_then(|s| s.profile.clone()),
        only: sel.map(|s| s.only.clone()).unwrap_or_default(),
        modules_dirs: cli.modules_dirs.clone(),
        timeout: Duration::from_secs(sel.map_or(600, |s| s.timeout)),
    }
}

/// The profile of the last run on this tree (what a subcommand uses without --profile).
pub fn last_profile(cli: &Cli) -> Result<Option<String>> {
    Ok(crate::state::State::load(&crate::host::Root::new(&cli.root))?.profile)
}

/// Run the parsed command.
pub fn dispatch(cli: Cli, logs: &Logs) -> Result<()> {
    match &cli.command {
        Command::Run {
            sel,
            force,
            overwrite,
            once_per_instance,
        } => run::run(
            &cli,
            sel,
            run::Flags {
                force: *force,
                overwrite: *overwrite,
                once_per_instance: *once_per_instance,
            },
            logs,
        ),
        Command::Plan { sel, force, json } => plan::plan(&cli, sel, *force, *json),
        Command::Watch { sel, print } => watch::watch(&cli, sel, *print),
        Command::Validate {
            modules,
            sel,
            json,
            wait,
            textfile,
        } => {
            let out = validate::Output {
                json: *json,
                wait: *wait,
                textfile: textfile.clone(),
            };
            validate::validate(&cli, modules, sel, &out, logs)
        }
        Command::Rollback {
            module,
            run_id,
            force,
        } => rollback::rollback(&cli, module, run_id.as_deref(), *force, logs),
        Command::Records {
            sel,
            json,
            zone,
            diff,
            server,
        } => records::records(
            &cli,
            sel,
            records::Show {
                json: *json,
                zone: *zone,
                diff: *diff,
            },
            *server,
        ),
        Command::List { json } => list::list(&cli, *json),
        Command::Status { json } => status::status(&cli, *json),
        Command::Mailbox { action } => mailbox::mailbox(&cli, action, logs),
        Command::Acme { action } => acme::acme(&cli, action, logs),
        Command::Completions { shell } => docs::completions(*shell),
        Command::Man => docs::man(),
        Command::Preflight {
            sel,
            probe_target,
            json,
        } => preflight::preflight(&cli, sel, probe_target.as_deref(), *json),
        Command::Dkim { action } => match action {
            crate::cli::DkimAction::Rotate { selector, sel } => {
                dkim::rotate(&cli, sel, selector.as_deref(), logs)
            }
            crate::cli::DkimAction::Status { sel } => dkim::status(&cli, sel),
        },
    }
}

/// Print a value as pretty JSON on stdout.
pub fn print_json<T: serde::Serialize>(v: &T) {
    match serde_json::to_string_pretty(v) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("error: cannot encode JSON: {e}"),
    }
}
