//! `firstboot completions SHELL` and `firstboot man`: the shell completions and the
//! manual page, generated from the same clap definition as `--help` (clap_complete,
//! clap_mangen), so what packages install never drifts from the binary.

use crate::cli::Cli;
use crate::error::{Error, Result};
use clap::CommandFactory;

/// Completions for `shell` on stdout.
pub fn completions(shell: clap_complete::Shell) -> Result<()> {
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "firstboot", &mut std::io::stdout());
    Ok(())
}

/// firstboot(8) as roff on stdout.
pub fn man() -> Result<()> {
    let man = clap_mangen::Man::new(Cli::command()).section("8");
    man.render(&mut std::io::stdout())
        .map_err(|e| Error::Usage(format!("cannot write the manual page: {e}")))
}
