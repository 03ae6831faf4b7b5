//! `leakmatch bench --against-duckdb`: the same jobs in DuckDB, and the machine's floor.
//!
//! DuckDB runs `benches/duckdb_jobs.py` (embedded in the binary, written to the bench folder)
//! with a Python that has the `duckdb` package: the system's when it imports, else a venv in
//! the bench folder into which `pip` installs it. The customers are stored once in a DuckDB
//! database file (the step DuckDB needs instead of `build`); per leak it answers the KVNR-only
//! and the 4-kind question. The floor is measured in this process on the same mapped leak:
//! the KVNR column found with `memchr`, one keyed token and one batched, prefetched probe per
//! row, on all cores: what a KVNR scan cannot go below on this machine.

// Reviewed (#11): a benchmark baseline over generated data: offsets are memchr hits and
// `..len.min(..)` samples.
#![allow(clippy::indexing_slicing)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context};
use rayon::prelude::*;

use crate::filter::{FilterFile, OpenOptions};
use crate::ident::Kind;
use crate::token::{Key, Token};

/// The DuckDB jobs, shipped inside the binary so that the bench runs from any folder.
const SCRIPT: &str = include_str!("../../../benches/duckdb_jobs.py");

/// One DuckDB job's result.
#[derive(Debug, serde::Deserialize)]
pub struct DuckRun {
    pub seconds: f64,
    pub cpu_seconds: f64,
    pub peak_rss_bytes: u64,
    pub matches: serde_json::Value,
}

/// A Python with `duckdb`, and the script's path.
pub struct Duck {
    python: PathBuf,
    script: PathBuf,
}

impl Duck {
    /// Finds or installs a Python with `duckdb` and writes the script into `dir`.
    pub fn prepare(dir: &Path) -> anyhow::Result<Duck> {
        let script = dir.join("duckdb_jobs.py");
        std::fs::write(&script, SCRIPT).with_context(|| format!("writing {}", script.display()))?;
        let imports = |py: &Path| {
            Command::new(py)
                .args(["-c", "import duckdb"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        let system = PathBuf::from("python3");
        if imports(&system) {
            return Ok(Duck { python: system, script });
        }
        let venv = dir.join("duckdb-venv");
        let python = venv.join("bin").join("python");
        if !imports(&python) {
            eprintln!("leakmatch bench: installing duckdb (pip) into {}", venv.display());
            run_ok(Command::new("python3").args(["-m", "venv"]).arg(&venv), "python3 -m venv")?;
            run_ok(Command::new(&python).args(["-m", "pip", "install", "-q", "duckdb"]), "pip")?;
        }
        Ok(Duck { python, script })
    }

    /// Runs `job` (`store`, `kvnr`, `four`) on `csv` with the database `db`.
    pub fn run(&self, job: &str, db: &Path, csv: &Path) -> anyhow::Result<DuckRun> {
        let out = Command::new(&self.python)
            .arg(&self.script)
            .arg(job)
            .arg(db)
            .arg(csv)
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .context("starting the DuckDB job")?;
        if !out.status.success() {
            bail!("DuckDB job {job} failed with {}", out.status);
        }
        serde_json::from_slice(&out.stdout).context("reading the DuckDB job's result")
    }
}

fn run_ok(cmd: &mut Command, what: &str) -> anyhow::Result<()> {
    let status = cmd.status().with_context(|| format!("starting {what}"))?;
    if !status.success() {
        bail!("{what} failed with {status}");
    }
    Ok(())
}

/// The floor of a KVNR scan over `leak` (delimited, header line, KVNR in column `column`):
/// seconds and the number of probes that hit. Rows are split with `memchr` only (no CSV
/// state machine, no normalising, no tallies); each KVNR cell is tokenised and probed
/// against the filter's KVNR section in prefetched batches of [`crate::scan::BATCH`].
pub fn floor(leak: &Path, filter: &Path, key: &Key, column: usize) -> anyhow::Result<(f64, u64)> {
    let source = crate::dump::Source::open(leak, true)?;
    let filter = FilterFile::open(filter, &OpenOptions::default())?;
    let bloom = filter.section(Kind::Kvnr).context("the floor needs a kvnr section")?;
    let tokenizer = key.tokenizer();
    let data = source.bytes();
    let delimiter = crate::dump::sniff(&data[..data.len().min(1 << 16)])?.delimiter;
    let t = Instant::now();
    let body = memchr::memchr(b'\n', data).map_or(data.len(), |i| i + 1);
    let step = crate::scan::chunk_target(data.len());
    let starts: Vec<usize> = (body..data.len()).step_by(step).collect();
    let hits = starts
        .par_iter()
        .map(|&from| {
            // This chunk's rows: from the first line start at or after `from`.
            let line_start = |at: usize| {
                if at == body {
                    at
                } else {
                    memchr::memchr(b'\n', &data[at..]).map_or(data.len(), |i| at + i + 1)
                }
            };
            let (mut at, end) = (line_start(from), line_start((from + step).min(data.len())));
            let (mut batch, mut hits) = (Vec::<Token>::with_capacity(32), 0u64);
            let mut flush = |batch: &mut Vec<Token>| {
                batch.iter().for_each(|t| bloom.prefetch(*t));
                hits += batch.iter().filter(|t| bloom.contains(**t)).count() as u64;
                batch.clear();
            };
            while at < end {
                let line_end = memchr::memchr(b'\n', &data[at..end]).map_or(end, |i| at + i);
                if let Some(cell) = nth_cell(&data[at..line_end], delimiter, column) {
                    batch.push(tokenizer.token(Kind::Kvnr, cell));
                    if batch.len() == crate::scan::BATCH {
                        flush(&mut batch);
                    }
                }
                at = line_end + 1;
            }
            flush(&mut batch);
            hits
        })
        .sum();
    Ok((t.elapsed().as_secs_f64(), hits))
}

/// Cell `n` of a quote-free `line`, found with `memchr`; `None` when the line is shorter.
fn nth_cell(line: &[u8], delimiter: u8, n: usize) -> Option<&[u8]> {
    let mut start = 0;
    for _ in 0..n {
        start += memchr::memchr(delimiter, &line[start..])? + 1;
    }
    let len = memchr::memchr(delimiter, &line[start..]).unwrap_or(line.len() - start);
    Some(&line[start..start + len])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nth_cell_finds_each_cell_and_none_past_the_last() {
        let line = b"A1;b;;d";
        let cells: Vec<_> = (0..5).map(|n| nth_cell(line, b';', n)).collect();
        assert_eq!(cells, [Some(&b"A1"[..]), Some(b"b"), Some(b""), Some(b"d"), None]);
    }
}
