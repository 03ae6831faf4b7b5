//! One module per subcommand. Each takes its validated config and returns an exit code.

pub mod bench;
pub mod build;
pub mod compare;
pub mod demo;
pub mod inspect;
pub mod key_server;
pub mod keygen;
pub mod merge;
pub mod plan;
pub mod progress;
pub mod scan;
pub mod union;

use anyhow::Context;

use crate::config::Command;
use crate::error;

/// Runs one command; the `u8` is the process exit code.
pub fn run(cmd: Command) -> anyhow::Result<u8> {
    match cmd {
        Command::Keygen { out } => keygen::run(&out),
        Command::Build(c) => build::run(&c).map(|_| error::SUCCESS),
        Command::Inspect(c) => inspect::run(&c),
        Command::Scan(c) => scan::run(&c),
        Command::Generate { out_dir, synth } => {
            let truth = crate::synth::generate(&synth, &out_dir)
                .with_context(|| format!("generating into {}", out_dir.display()))?;
            eprintln!(
                "leakmatch: wrote {} customers and {} leak rows ({} real) to {}",
                synth.customers,
                truth.leak_rows,
                truth.real_rows,
                out_dir.display()
            );
            Ok(error::SUCCESS)
        }
        Command::Demo { dir, json } => demo::run(&dir, json),
        Command::Bench(c) => bench::run(&c),
        Command::Merge(c) => merge::run(&c),
        Command::Plan { shards, dump } => plan::run(shards, &dump),
        Command::Compare(c) => compare::run(&c),
        Command::KeyServer(c) => key_server::run(&c),
        Command::Union { key_file, out, filters } => {
            union::run(key_file.as_deref(), &out, &filters)
        }
    }
}
