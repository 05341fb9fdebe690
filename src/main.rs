//! The `firstboot` binary: parse the command line, run the command, map the outcome to
//! the exit status (0 ok, 1 module/check failure, 2 usage or input error).

use clap::Parser;

fn main() {
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
