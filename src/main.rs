//! The `leakmatch` binary: parse → validate → run → exit code. All work is in the library.

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;
use leakmatch::{cli::Cli, commands, config::Command, error};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = Command::from_cli(cli).map_err(anyhow::Error::from).and_then(commands::run);
    commands::bench::record_peak_rss();
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) if error::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            let _ = writeln!(io::stderr(), "leakmatch: {}", error::render(&err));
            ExitCode::from(commands::exit_code(&err))
        }
    }
}
