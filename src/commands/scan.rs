//! `leakmatch scan`: dumps × filters → [`Report`] on stdout, exit code from `--alert-above`.

use std::io::{self, Write};
use std::path::PathBuf;

use anyhow::Context;
use sha2::{Digest, Sha256};

use crate::commands::progress::Progress;
use crate::config::ScanConfig;
use crate::error;
use crate::filter::{FilterFile, OpenOptions};
use crate::report::{self, BuildContext, ColumnUse, FilterDesc, InputReport, Report};
use crate::scan::{self, Prepared, Prober, Tokenize};
use crate::tally::Tally;
use crate::token::Key;

pub fn run(cfg: &ScanConfig) -> anyhow::Result<u8> {
    if let Some(n) = cfg.threads {
        rayon::ThreadPoolBuilder::new().num_threads(n.max(1)).build_global().ok();
    }
    if cfg.parse_only {
        parse_only(cfg)?;
        return Ok(error::SUCCESS);
    }
    let report = scan(cfg)?;
    let out = if cfg.json { report::json::render(&report) } else { report::text::render(&report) };
    write_stdout(&out)?;
    Ok(if report.alert_exceeded() { error::ALERT } else { error::SUCCESS })
}

/// Writes to stdout in one go (a closed pipe surfaces as `BrokenPipe`, treated as success).
pub fn write_stdout(s: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(s.as_bytes())?;
    out.flush()
}

/// Opens every filter, checking each against the key's id and MAC.
pub fn open_filters(
    paths: &[PathBuf],
    key: &Key,
    verify_checksum: bool,
) -> anyhow::Result<Vec<FilterFile>> {
    let opts = OpenOptions { verify_checksum, ..OpenOptions::default() };
    paths
        .iter()
        .map(|p| {
            let f = FilterFile::open(p, &opts)?;
            f.check_key(&key.id())?;
            f.verify_mac(&key.mac_key())?;
            Ok(f)
        })
        .collect()
}

/// The benchmark baseline: the same reading, chunking, parsing and decoding as a scan, with
/// no normalising, tokens or probes. Prints records and MB/s on stderr.
pub fn parse_only(cfg: &ScanConfig) -> anyhow::Result<Tally> {
    let pipeline = Tokenize::new(Key::from_bytes([0; 32]).tokenizer(), &[]);
    let mut total = Tally::new(0);
    let mut bytes = 0;
    let progress = Progress::new(0, true, "parse");
    for path in &cfg.dumps {
        let input = Prepared::open_as(path, cfg.mmap, cfg.format, &cfg.overrides)?;
        bytes += input.source.len() as u64;
        let t = scan::run_input(&input, &pipeline, 0, &|_, _| {}, &|_| {})?;
        total.merge(&t);
    }
    let secs = progress.elapsed();
    eprintln!(
        "leakmatch: parsed {:.1} MB, {} rows in {secs:.2} s ({:.1} MB/s)",
        bytes as f64 / 1e6,
        total.records,
        bytes as f64 / 1e6 / secs.max(1e-9)
    );
    Ok(total)
}

/// Runs the scan described by `cfg` and builds its report.
pub fn scan(cfg: &ScanConfig) -> anyhow::Result<Report> {
    let key = Key::load_from(cfg.key_file.as_deref())?;
    let filters = open_filters(&cfg.filters, &key, cfg.verify_checksum)?;
    let prober = Prober::new(&filters);
    let mut seen = Vec::new();
    let mut inputs = Vec::new();
    for path in &cfg.dumps {
        let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
        if path.as_os_str() != "-" && seen.contains(&canonical) {
            if !cfg.quiet {
                eprintln!("leakmatch: warning: {} given twice; scanned once", path.display());
            }
            continue;
        }
        seen.push(canonical);
        inputs.push(Prepared::open_as(path, cfg.mmap, cfg.format, &cfg.overrides)?);
    }
    let total: u64 = inputs.iter().map(|i| i.source.len() as u64).sum();
    let progress = Progress::new(total, cfg.quiet, "scan");
    let mut results = Vec::new();
    for input in &inputs {
        let kinds = scan::probe_kinds(&filters, &input.layout.mapping.fields);
        let pipeline = Tokenize::new(key.tokenizer(), &kinds);
        let sink = |t: &mut Tally, batch: &scan::Batch| prober.probe(t, batch);
        let (sha, tally) = rayon::join(
            || sha256(&input.source),
            || scan::run_input(input, &pipeline, filters.len(), &sink, &|b| progress.inc(b)),
        );
        let tally = tally.with_context(|| format!("scanning {}", input.source.path.display()))?;
        // Streamed inputs are hashed over their raw bytes while read; this also fails if the
        // stream broke off or the file shrank during the scan.
        let sha = input.source.finish()?.unwrap_or(sha);
        results.push((describe(input, sha, &tally), tally));
    }
    let rows = results.iter().map(|r| r.1.records).sum();
    let seconds = progress.finish("scanned", total, rows);
    let descs: Vec<FilterDesc> = filters.iter().map(FilterDesc::of).collect();
    Ok(Report::build(BuildContext {
        key_id: hex::encode(key.id()),
        inputs: results,
        filters: &descs,
        claimed_size: cfg.claimed_size,
        alert_above: cfg.alert_above,
        seconds,
    }))
}

/// SHA-256 of an input, hashed in 8 MiB windows that are released behind the hash, so that
/// hashing a mapped file does not make it resident (see [`crate::dump::Source::release`]).
pub fn sha256(source: &crate::dump::Source) -> String {
    const WINDOW: usize = 8 << 20;
    let mut h = Sha256::new();
    let data = source.bytes();
    let mut at = 0;
    while at < data.len() {
        let end = (at + WINDOW).min(data.len());
        h.update(&data[at..end]);
        source.release(at..end);
        at = end;
    }
    hex::encode(h.finalize())
}

fn describe(input: &Prepared, sha256: String, tally: &Tally) -> InputReport {
    let d = &input.layout.dialect;
    InputReport {
        path: input.source.path.display().to_string(),
        bytes: input.source.len() as u64,
        sha256,
        format: input.layout.format.name().to_string(),
        delimiter: match d.delimiter {
            b'\t' => "\\t".to_string(),
            c => (c as char).to_string(),
        },
        header: d.has_header,
        encoding: d.encoding.name().to_string(),
        records: tally.records,
        columns: input
            .layout
            .mapping
            .reasons
            .iter()
            .map(|r| ColumnUse {
                field: r.field.name().to_string(),
                column: r.column + 1,
                header: r.header.clone(),
                why: r.why.to_string(),
            })
            .collect(),
    }
}
