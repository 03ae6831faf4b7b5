//! `leakmatch merge`: shards' partial results → the report of one scan over all shards.

use crate::commands::plumbing;
use crate::config::MergeConfig;
use crate::error::UsageError;
use crate::partial::{self, Partial};
use crate::report::{BuildContext, Report};

/// Reads, checks and merges the partials, prints the report; exit code 3 on `--alert-above`.
pub fn run(cfg: &MergeConfig) -> anyhow::Result<u8> {
    cfg.check_outputs()?;
    let report = merge(cfg)?;
    plumbing::emit_report(&report, &cfg.report, &crate::output::refs(&cfg.partials))
}

/// The merged report. Unreadable or incompatible partials are usage errors naming the file.
pub fn merge(cfg: &MergeConfig) -> anyhow::Result<Report> {
    let usage = |e: partial::PartialError| UsageError(e.to_string());
    let parts = cfg
        .partials
        .iter()
        .map(|p| Partial::read(p).map(|x| (p.clone(), x)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(usage)?;
    let m = partial::merge(parts).map_err(usage)?;
    if !m.warnings.is_empty() && !cfg.allow_partial {
        return Err(UsageError(format!(
            "incomplete shard set: {}; merge the missing shards, or pass --allow-partial to \
             report on the bytes covered only",
            m.warnings.join("; ")
        ))
        .into());
    }
    if !cfg.quiet {
        for w in &m.warnings {
            eprintln!("leakmatch: warning: {w}");
        }
        if m.duplicates > 0 {
            eprintln!(
                "leakmatch: merged {} shards; {} repeated shard ids counted once",
                m.shards, m.duplicates
            );
        }
        // Reading the partials' exact sets back may spill them, as a scan does.
        if let Some(why) = crate::sketch::spill_failure() {
            eprintln!("leakmatch: warning: {why}");
        }
    }
    Ok(Report::build(BuildContext {
        key_id: m.key_id,
        inputs: m.inputs,
        filters: &m.filters,
        claimed_size: cfg.report.claimed_size,
        alert_above: cfg.report.alert_above,
        seconds: m.seconds,
    }))
}
