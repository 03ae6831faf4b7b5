//! `leakmatch demo`: the whole flow on synthetic data with known truth, no arguments needed.
//!
//! Generates (once; reused when the folder holds data of the same configuration) 1,000,000
//! customers and a 330,000-row leak, creates a key, builds the filter, scans the leak and
//! prints the report next to the truth.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use serde::Serialize;

use crate::commands::{build, plumbing, scan};
use crate::config::{BuildConfig, ReportOptions, ScanConfig};
use crate::error;
use crate::filter::Role;
use crate::num::thousands;
use crate::report::{self, Report};
use crate::synth::{self, SynthConfig, Truth};
use crate::token::Key;

/// One kind's estimate next to the truth.
#[derive(Debug, Serialize)]
pub struct Comparison {
    pub kind: String,
    pub truth: u64,
    pub estimate: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub covered: bool,
}

#[derive(Serialize)]
struct DemoJson<'a> {
    report: &'a Report,
    truth: &'a Truth,
    comparison: &'a [Comparison],
}

pub fn run(dir: &Path, json: bool, quiet: bool) -> anyhow::Result<u8> {
    let (report, truth, comparison) = demo(dir, json || quiet)?;
    let out = if json {
        serde_json::to_string_pretty(&DemoJson {
            report: &report,
            truth: &truth,
            comparison: &comparison,
        })? + "\n"
    } else {
        report::text::render(&report) + &render_comparison(&report, &truth, &comparison)
    };
    plumbing::write_stdout(&out)?;
    Ok(if comparison.iter().all(|c| c.covered) { error::SUCCESS } else { error::FAILURE })
}

/// Runs the demo in `dir` and returns the report, the truth and their comparison.
pub fn demo(dir: &Path, quiet: bool) -> anyhow::Result<(Report, Truth, Vec<Comparison>)> {
    let cfg = SynthConfig::default();
    let truth = ensure_data(&cfg, dir, quiet)?;
    let key_file = dir.join("demo.key");
    if !key_file.exists() {
        Key::generate()?.write_new(&key_file)?;
    }
    let filter = dir.join("customers.lmf");
    build::run(&BuildConfig {
        key_file: Some(key_file.clone()),
        out: filter.clone(),
        kinds: None,
        overrides: vec![],
        fpr: 1e-6,
        expected: None,
        label: "demo customers".into(),
        role: Role::Customers,
        force: true,
        snapshot_date: None,
        mmap: true,
        format: None,
        quiet,
        inputs: vec![dir.join("customers.csv")],
        like: None,
        oprf: false,
        key_server: None,
        birth_min_count: crate::filter::BIRTH_MIN_COUNT,
        birth_noise: None,
    })?;
    let report = scan::scan(&ScanConfig {
        key_file: Some(key_file),
        filters: vec![filter],
        overrides: vec![],
        report: ReportOptions::default(),
        mmap: true,
        format: None,
        threads: None,
        quiet,
        emit_matches: None,
        parse_only: false,
        dumps: vec![dir.join("leak.csv")],
        shard: None,
        range: None,
        key_server: None,
        exact_distinct: crate::sketch::DEFAULT_EXACT_LIMIT,
    })?;
    let comparison = compare(&report, &truth);
    Ok((report, truth, comparison))
}

/// Generates the data unless `dir/truth.json` already describes this configuration.
fn ensure_data(cfg: &SynthConfig, dir: &Path, quiet: bool) -> anyhow::Result<Truth> {
    let truth_path = dir.join("truth.json");
    if let Ok(text) = std::fs::read_to_string(&truth_path) {
        if let Ok(t) = serde_json::from_str::<Truth>(&text) {
            let complete = dir.join("customers.csv").exists() && dir.join("leak.csv").exists();
            if complete
                && t.seed == cfg.seed
                && t.customers == cfg.customers
                && t.leak_rows == cfg.leak
            {
                return Ok(t);
            }
        }
    }
    if !quiet {
        eprintln!(
            "leakmatch: generating {} customers and a {}-row leak in {}",
            thousands(cfg.customers),
            thousands(cfg.leak),
            dir.display()
        );
    }
    synth::generate(cfg, dir).with_context(|| format!("generating demo data in {}", dir.display()))
}

/// Pairs each kind's estimate from the first filter with the truth.
pub fn compare(report: &Report, truth: &Truth) -> Vec<Comparison> {
    let Some(f) = report.filters.first() else { return vec![] };
    f.kinds
        .iter()
        .filter_map(|k| {
            let t = *truth.matches.get(k.kind.name())?;
            Some(Comparison {
                kind: k.kind.to_string(),
                truth: t,
                estimate: k.estimate,
                ci_low: k.ci_low,
                ci_high: k.ci_high,
                covered: k.ci_low <= t as f64 && t as f64 <= k.ci_high,
            })
        })
        .collect()
}

fn render_comparison(report: &Report, truth: &Truth, cmp: &[Comparison]) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "\nGround truth (generated: {} leak rows, {} real customers' rows, {} fabricated, {} recombined, {} other population)",
        thousands(truth.leak_rows),
        thousands(truth.real_rows),
        thousands(truth.fabricated_rows),
        thousands(truth.recombined_rows),
        thousands(truth.other_rows)
    );
    let _ = writeln!(
        o,
        "  {:<18}{:>10}{:>12}{:>25}  inside CI",
        "kind", "truth", "estimate", "95 % CI"
    );
    for c in cmp {
        let ci = format!(
            "{} – {}",
            thousands(c.ci_low.floor() as u64),
            thousands(c.ci_high.ceil() as u64)
        );
        let _ = writeln!(
            o,
            "  {:<18}{:>10}{:>12}{:>25}  {}",
            c.kind,
            thousands(c.truth),
            thousands(c.estimate.round() as u64),
            ci,
            if c.covered { "yes" } else { "NO" }
        );
    }
    let _ = writeln!(
        o,
        "  rows matched by any kind: truth {}, found {}; by two or more: truth {}, found {}",
        thousands(truth.rows_matched_any),
        thousands(report.records.matched_any),
        thousands(truth.rows_matched_two_plus),
        thousands(report.records.matched_two_plus)
    );
    o
}
