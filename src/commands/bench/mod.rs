//! `leakmatch bench`: end-to-end numbers on generated data, against baselines in the same run.
//!
//! Every measured step runs as a child process of this binary so that its wall time and peak
//! RSS are its own. The peak is the child's own `VmHWM` (Linux `/proc/self/status`), which the
//! child writes to the file named by `$LEAKMATCH_PEAK_RSS_FILE` when it exits: `wait4`'s
//! `ru_maxrss` would include the parent's resident memory at fork time. Steps: generate (once, reused),
//! build of the customer filter, and per leak size a parse-only pass (the baseline: read,
//! chunk, parse, decode) and the full scan over the same file. Reported: seconds, MB/s,
//! rows/s, peak RSS and the scan/parse throughput ratio.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context};
use serde::Serialize;

use crate::config::BenchConfig;
use crate::error;
use crate::num::thousands;
use crate::report::Report;
use crate::synth::{self, SynthConfig};
use crate::token::Key;

mod against;

/// One measured step.
#[derive(Debug, Serialize)]
pub struct Step {
    pub name: String,
    pub bytes: u64,
    pub rows: u64,
    pub seconds: f64,
    /// CPU time of the step (user + system, all threads): steadier than wall time on a
    /// shared machine.
    pub cpu_seconds: Option<f64>,
    pub peak_rss_bytes: u64,
    /// For scans: throughput relative to the parse-only pass over the same file.
    pub ratio_to_parse: Option<f64>,
    /// For scans: the largest |estimate − truth| / truth over the kinds (accuracy).
    pub max_relative_error: Option<f64>,
    /// With `--against-duckdb`: seconds of the same job in DuckDB, and leakmatch / DuckDB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duckdb_seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duckdb_cpu_seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duckdb_peak_rss_bytes: Option<u64>,
    /// DuckDB's matches per kind (its own normalisation: close to leakmatch's, not equal).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duckdb_matches: Option<serde_json::Value>,
    /// For the KVNR-only scan: seconds of the floor (memchr to the KVNR cell, one token and one
    /// prefetched probe per row, on all cores).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub floor_seconds: Option<f64>,
}

pub fn run(cfg: &BenchConfig) -> anyhow::Result<u8> {
    std::fs::create_dir_all(&cfg.dir).with_context(|| format!("creating {}", cfg.dir.display()))?;
    let exe = std::env::current_exe().context("locating the leakmatch binary")?;
    let mut steps = Vec::new();
    let customers = cfg.dir.join(format!("customers-{}.csv", cfg.customers));
    let base = SynthConfig { customers: cfg.customers, ..SynthConfig::default() };
    if !customers.exists() {
        let t = Instant::now();
        write_atomically(&customers, |w| synth::write_customers(&base, w).map(|_| ()))?;
        if !cfg.quiet {
            eprintln!(
                "leakmatch bench: generated {} customers in {:.1} s",
                thousands(cfg.customers),
                t.elapsed().as_secs_f64()
            );
        }
    }
    let key = cfg.dir.join("bench.key");
    if !key.exists() {
        Key::generate()?.write_new(&key)?;
    }
    let filter = cfg.dir.join(format!("customers-{}.lmf", cfg.customers));
    let _ = std::fs::remove_file(&filter);
    let mut build = child(&exe, &["build", "--quiet", "--key-file"], &[&key]);
    build.args(["--out"]).arg(&filter).arg(&customers);
    steps.push(measure("build", &customers, cfg.customers, build)?.0);
    let duck = cfg.against_duckdb.then(|| against::Duck::prepare(&cfg.dir)).transpose()?;
    let db = cfg.dir.join(format!("customers-{}.duckdb", cfg.customers));
    let kvnr_filter = cfg.dir.join(format!("customers-{}-kvnr.lmf", cfg.customers));
    if let Some(duck) = &duck {
        let _ = std::fs::remove_file(&kvnr_filter);
        let mut build =
            child(&exe, &["build", "--quiet", "--kinds", "kvnr", "--key-file"], &[&key]);
        build.args(["--out"]).arg(&kvnr_filter).arg(&customers);
        let mut b = measure("build kvnr", &customers, cfg.customers, build)?.0;
        let _ = std::fs::remove_file(&db);
        let store = duck.run("store", &db, &customers)?;
        b.duckdb_seconds = Some(store.seconds);
        b.duckdb_cpu_seconds = Some(store.cpu_seconds);
        b.duckdb_peak_rss_bytes = Some(store.peak_rss_bytes);
        steps.push(b);
        // DuckDB's counterpart of the 4-kind build is the same store: one stored table.
        let four = steps.iter_mut().find(|s| s.name == "build").expect("the build step");
        four.duckdb_seconds = Some(store.seconds);
        four.duckdb_cpu_seconds = Some(store.cpu_seconds);
        four.duckdb_peak_rss_bytes = Some(store.peak_rss_bytes);
    }
    for &leak in &cfg.leaks {
        let path = cfg.dir.join(format!("leak-{}-{leak}.csv", cfg.customers));
        let mut truth = None;
        write_atomically(&path, |w| {
            truth = Some(synth::write_leak(&SynthConfig { leak, ..base.clone() }, w)?);
            Ok(())
        })?;
        let truth = truth.expect("written");
        let parse = child(&exe, &["scan", "--quiet", "--parse-only"], &[&path]);
        let (p, _) = measure(&format!("parse-only {leak}"), &path, leak, parse)?;
        let mut scan = child(&exe, &["scan", "--quiet", "--json", "--key-file"], &[&key]);
        scan.arg("--filter").arg(&filter).arg(&path);
        let (mut s, out) = measure(&format!("scan {leak}"), &path, leak, scan)?;
        s.ratio_to_parse = Some(p.seconds / s.seconds);
        let report: Report =
            serde_json::from_slice(&out).context("reading the scan's JSON report")?;
        s.max_relative_error = report.filters.first().map(|f| {
            f.kinds
                .iter()
                .filter_map(|k| {
                    truth
                        .matches
                        .get(k.kind.name())
                        .map(|&t| (k.estimate - t as f64).abs() / (t.max(1)) as f64)
                })
                .fold(0.0, f64::max)
        });
        let mut extra = Vec::new();
        if let Some(duck) = &duck {
            let four = duck.run("four", &db, &path)?;
            s.duckdb_seconds = Some(four.seconds);
            s.duckdb_cpu_seconds = Some(four.cpu_seconds);
            s.duckdb_peak_rss_bytes = Some(four.peak_rss_bytes);
            s.duckdb_matches = Some(four.matches);
            let mut scan = child(&exe, &["scan", "--quiet", "--json", "--key-file"], &[&key]);
            scan.arg("--filter").arg(&kvnr_filter).arg(&path);
            let (mut k, _) = measure(&format!("scan kvnr {leak}"), &path, leak, scan)?;
            let one = duck.run("kvnr", &db, &path)?;
            k.duckdb_seconds = Some(one.seconds);
            k.duckdb_cpu_seconds = Some(one.cpu_seconds);
            k.duckdb_peak_rss_bytes = Some(one.peak_rss_bytes);
            k.duckdb_matches = Some(one.matches);
            let loaded = Key::load(&key)?;
            k.floor_seconds = Some(against::floor(&path, &kvnr_filter, &loaded, 0)?.0);
            extra.push(k);
        }
        steps.push(p);
        steps.push(s);
        steps.extend(extra);
    }
    let out = if cfg.json { serde_json::to_string_pretty(&steps)? + "\n" } else { render(&steps) };
    crate::commands::plumbing::write_stdout(&out)?;
    Ok(error::SUCCESS)
}

/// Writes a generated file through a temp file in the same folder and renames it into place.
fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<&mut std::fs::File>) -> Result<(), synth::SynthError>,
) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    {
        let mut w = std::io::BufWriter::with_capacity(1 << 20, tmp.as_file_mut());
        write(&mut w).with_context(|| format!("generating {}", path.display()))?;
        std::io::Write::flush(&mut w)?;
    }
    tmp.persist(path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

fn child(exe: &Path, args: &[&str], paths: &[&PathBuf]) -> Command {
    let mut c = Command::new(exe);
    c.args(args).args(paths).stdin(Stdio::null()).stderr(Stdio::inherit());
    c
}

/// Runs a child, returning its step and its stdout; fails when the child fails.
fn measure(
    name: &str,
    input: &Path,
    rows: u64,
    mut cmd: Command,
) -> anyhow::Result<(Step, Vec<u8>)> {
    let bytes = std::fs::metadata(input).map(|m| m.len()).unwrap_or(0);
    let out_file = tempfile::tempfile()?;
    let rss_file = tempfile::NamedTempFile::new()?;
    cmd.stdout(out_file.try_clone()?).env(PEAK_RSS_ENV, rss_file.path());
    let start = Instant::now();
    let status = cmd.status().with_context(|| format!("starting {name}"))?;
    let seconds = start.elapsed().as_secs_f64();
    if !status.success() {
        bail!("{name} failed with {status}");
    }
    let written = std::fs::read_to_string(rss_file.path())?;
    let mut fields = written.split_whitespace();
    let rss = fields.next().and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    let cpu_seconds = fields.next().and_then(|f| f.parse::<f64>().ok());
    let mut stdout = Vec::new();
    {
        use std::io::{Read, Seek};
        let mut f = out_file;
        f.rewind()?;
        f.read_to_end(&mut stdout)?;
    }
    let step = Step {
        name: name.into(),
        bytes,
        rows,
        seconds,
        cpu_seconds,
        peak_rss_bytes: rss,
        ratio_to_parse: None,
        max_relative_error: None,
        duckdb_seconds: None,
        duckdb_cpu_seconds: None,
        duckdb_peak_rss_bytes: None,
        duckdb_matches: None,
        floor_seconds: None,
    };
    Ok((step, stdout))
}

/// The environment variable naming the file a child writes its peak RSS (bytes) to.
pub const PEAK_RSS_ENV: &str = "LEAKMATCH_PEAK_RSS_FILE";

/// If `$LEAKMATCH_PEAK_RSS_FILE` is set, writes this process's peak resident set size in bytes
/// there (called by `main` at exit; used by `bench`'s children only). Guarded so that the
/// variable cannot make leakmatch overwrite a file: the path must already exist as an empty
/// regular file owned by this user, and is opened without following a symlink, without
/// creating or truncating anything (`bench` hands each child a fresh temporary file).
pub fn record_peak_rss() {
    let Some(path) = std::env::var_os(PEAK_RSS_ENV) else { return };
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let Ok(mut file) = opts.open(&path) else { return };
    let Ok(meta) = file.metadata() else { return };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // SAFETY: geteuid has no preconditions and cannot fail.
        if meta.uid() != unsafe { libc::geteuid() } {
            return;
        }
    }
    if !meta.is_file() || meta.len() != 0 {
        return;
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap_or(0);
    let _ = std::io::Write::write_all(
        &mut file,
        format!("{} {}", kib * 1024, cpu_seconds()).as_bytes(),
    );
}

/// CPU time (user + system, all threads) of this process so far, in seconds: fields 14 and 15
/// of `/proc/self/stat`, in the kernel's user-visible clock ticks (100 per second on Linux).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The command name (field 2) is parenthesised and may hold spaces: count after it.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let ticks: u64 =
        rest.split_whitespace().skip(11).take(2).filter_map(|f| f.parse::<u64>().ok()).sum();
    ticks as f64 / 100.0
}

fn render(steps: &[Step]) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{:<22}{:>10}{:>12}{:>9}{:>10}{:>12}{:>11}{:>10}{:>10}",
        "step", "MB", "rows", "s", "MB/s", "rows/s", "peak RSS", "vs parse", "max err"
    );
    for s in steps {
        let _ = writeln!(
            o,
            "{:<22}{:>10.1}{:>12}{:>9.2}{:>10.1}{:>12}{:>8} MiB{:>10}{:>10}",
            s.name,
            s.bytes as f64 / 1e6,
            thousands(s.rows),
            s.seconds,
            s.bytes as f64 / 1e6 / s.seconds,
            thousands((s.rows as f64 / s.seconds) as u64),
            s.peak_rss_bytes >> 20,
            s.ratio_to_parse.map_or("-".into(), |r| format!("{:.0} %", 100.0 * r)),
            s.max_relative_error.map_or("-".into(), |e| format!("{:.2} %", 100.0 * e)),
        );
    }
    if steps.iter().any(|s| s.duckdb_seconds.is_some()) {
        let _ = writeln!(
            o,
            "\n{:<20}{:>8}{:>8}{:>10}{:>8}{:>8}{:>10}{:>8}{:>8}{:>8}{:>9}",
            "job",
            "lm s",
            "lm cpu",
            "lm RSS",
            "duck s",
            "cpu",
            "duck RSS",
            "ratio",
            "cpu",
            "floor",
            "vs floor"
        );
        for s in steps.iter().filter(|s| s.duckdb_seconds.is_some()) {
            let duck = s.duckdb_seconds.unwrap_or(f64::NAN);
            let (cpu, duck_cpu) =
                (s.cpu_seconds.unwrap_or(f64::NAN), s.duckdb_cpu_seconds.unwrap_or(f64::NAN));
            let _ = writeln!(
                o,
                "{:<20}{:>8.2}{:>8.2}{:>6} MiB{:>8.2}{:>8.2}{:>6} MiB{:>8.2}{:>8.2}{:>8}{:>9}",
                s.name,
                s.seconds,
                cpu,
                s.peak_rss_bytes >> 20,
                duck,
                duck_cpu,
                s.duckdb_peak_rss_bytes.unwrap_or(0) >> 20,
                s.seconds / duck,
                cpu / duck_cpu,
                s.floor_seconds.map_or("-".into(), |f| format!("{f:.2}")),
                s.floor_seconds.map_or("-".into(), |f| format!("{:.2}x", s.seconds / f)),
            );
        }
    }
    o
}
