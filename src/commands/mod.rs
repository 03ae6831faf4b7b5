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
pub mod plumbing;
pub mod progress;
pub mod scan;
pub mod union;

use anyhow::Context;

use crate::config::Command;
use crate::dump::DumpError;
use crate::error;
use crate::error::UsageError;
use crate::filter::FilterError;
use crate::output::OutputError;
use crate::token::KeyError;

/// Runs one command; the `u8` is the process exit code.
pub fn run(cmd: Command) -> anyhow::Result<u8> {
    match cmd {
        Command::Keygen { out, quiet } => keygen::run(&out, quiet),
        Command::Build(c) => build::run(&c).map(|_| error::SUCCESS),
        Command::Inspect(c) => inspect::run(&c),
        Command::Scan(c) => scan::run(&c),
        Command::Generate { out_dir, synth, force, quiet } => {
            generate(&out_dir, &synth, force, quiet)
        }
        Command::Demo { dir, json, quiet } => demo::run(&dir, json, quiet),
        Command::Bench(c) => bench::run(&c),
        Command::Merge(c) => merge::run(&c),
        Command::Plan { shards, dump } => plan::run(shards, &dump),
        Command::Compare(c) => compare::run(&c),
        Command::KeyServer(c) => key_server::run(&c),
        Command::Union { key_file, out, filters, quiet } => {
            union::run(key_file.as_deref(), &out, &filters, quiet)
        }
        Command::Completions { shell } => {
            let mut out = Vec::new();
            crate::cli::write_completions(&shell, &mut out)?;
            plumbing::write_stdout(&String::from_utf8_lossy(&out))?;
            Ok(error::SUCCESS)
        }
        Command::Man { command } => {
            let mut out = Vec::new();
            crate::cli::write_man_page(command.as_deref(), &mut out).ok_or_else(|| {
                UsageError(format!("man: no command '{}'", command.as_deref().unwrap_or_default()))
            })??;
            plumbing::write_stdout(&String::from_utf8_lossy(&out))?;
            Ok(error::SUCCESS)
        }
    }
}

/// `leakmatch generate`: refuses to replace generated files unless `force`.
fn generate(
    out_dir: &std::path::Path,
    synth: &crate::synth::SynthConfig,
    force: bool,
    quiet: bool,
) -> anyhow::Result<u8> {
    use crate::synth::{CANARIES_FILE, CUSTOMERS_FILE, LEAK_FILE, SNAPSHOTS_DIR, TRUTH_FILE};
    if !force {
        let names = [CUSTOMERS_FILE, LEAK_FILE, TRUTH_FILE, CANARIES_FILE, SNAPSHOTS_DIR];
        if let Some(name) = names.iter().find(|n| out_dir.join(n).exists()) {
            return Err(UsageError(format!(
                "{} already exists; pass --force to replace the generated files in {}",
                out_dir.join(name).display(),
                out_dir.display()
            ))
            .into());
        }
    }
    let truth = crate::synth::generate(synth, out_dir)
        .with_context(|| format!("generating into {}", out_dir.display()))?;
    if !quiet {
        eprintln!(
            "leakmatch: wrote {} customers and {} leak rows ({} real) to {}",
            crate::num::thousands(synth.customers),
            crate::num::thousands(truth.leak_rows),
            crate::num::thousands(truth.real_rows),
            out_dir.display()
        );
    }
    Ok(error::SUCCESS)
}

/// The exit code for an error: 2 when any error in its chain is a usage error or names an
/// unusable input, 1 otherwise.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    // An output refused (2) or a failed write (1) decides, whatever wraps it.
    for e in err.chain() {
        if let Some(o) = e.downcast_ref::<OutputError>() {
            return o.exit_code();
        }
        if let Some(FilterError::Output(o)) = e.downcast_ref::<FilterError>() {
            return o.exit_code();
        }
    }
    let unusable = err.chain().any(|e| {
        e.is::<UsageError>()
            || e.is::<KeyError>()
            || e.is::<FilterError>()
            || e.is::<DumpError>()
            || e.downcast_ref::<crate::oprf::client::ClientError>().is_some_and(|c| c.unusable())
            || e.downcast_ref::<crate::oprf::server::ServerError>()
                .is_some_and(|s| matches!(s, crate::oprf::server::ServerError::Clients { .. }))
    });
    if unusable {
        error::USAGE
    } else {
        error::FAILURE
    }
}
