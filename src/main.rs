//! The `firstboot` binary: parse the command line, run the command, map the outcome to
//! the exit status (0 ok, 1 module/check failure, 2 usage or input error, 3 another
//! firstboot holds the lock).

use clap::Parser;

fn main() {
    // Output piped into `head` must end the process quietly, as for any Unix tool.
    // SAFETY: restoring the default disposition of a signal is async-signal-safe, and
    // nothing else runs yet.
    unsafe {
        let _ = nix::sys::signal::signal(
            nix::sys::signal::Signal::SIGPIPE,
            nix::sys::signal::SigHandler::SigDfl,
        );
    }
    let cli = firstboot::cli::Cli::parse();
    let verbosity = if cli.quiet { -1 } else { cli.verbose as i8 };
    let logs = firstboot::logging::init(verbosity);
    match firstboot::commands::dispatch(cli, &logs) {
        Ok(()) => {}
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(e.exit_code());
        }
    }
}
