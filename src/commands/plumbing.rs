//! What several commands share: opening filters with the key, hashing inputs, writing stdout
//! and presenting a report (`scan`, `merge`). Files are written by [`crate::output`].

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::config::ReportOptions;
use crate::error;
use crate::filter::{FilterFile, OpenOptions};
use crate::output;
use crate::report::{self, Report};
use crate::token::Key;

/// Presents `report` as [`ReportOptions`] ask: text or JSON on stdout, the HTML page when
/// asked (never over one of `inputs`); the exit code is 3 when `--alert-above` was crossed.
pub fn emit_report(report: &Report, opts: &ReportOptions, inputs: &[&Path]) -> anyhow::Result<u8> {
    if let Some(path) = &opts.html {
        output::write_bytes(path, inputs, report::html::render(report).as_bytes())?;
    }
    let out = if opts.json { report::json::render(report) } else { report::text::render(report) };
    write_stdout(&out)?;
    Ok(if report.alert_exceeded() { error::ALERT } else { error::SUCCESS })
}

/// Writes to stdout in one go (a closed pipe surfaces as `BrokenPipe`, treated as success).
pub fn write_stdout(s: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(s.as_bytes())?;
    out.flush()
}

/// Opens every filter of keyed tokens, checking each against the key's id and MAC (and, when
/// the MAC fails, for damage: see [`FilterFile::verify`]). OPRF filters are refused.
pub fn open_filters(paths: &[PathBuf], key: &Key) -> anyhow::Result<Vec<FilterFile>> {
    let opts = OpenOptions { verify_checksum: false, ..OpenOptions::default() };
    paths
        .iter()
        .map(|p| {
            let f = FilterFile::open(p, &opts)?;
            if f.header.prf.oprf_public_key().is_some() {
                anyhow::bail!(crate::error::UsageError(format!(
                    "{}: an OPRF filter (tokens from a key service); this command takes filters \
                     with keyed tokens only",
                    p.display()
                )));
            }
            f.check_key(&key.id())?;
            f.verify(&key.mac_key())?;
            Ok(f)
        })
        .collect()
}

/// SHA-256 of an input, hashed in 8 MiB windows that are released behind the hash, so that
/// hashing a mapped file does not make it resident (see [`crate::dump::Source::release`]).
pub fn sha256(source: &crate::dump::Source) -> String {
    sha256_of(source, 0..source.len())
}

/// [`sha256`] of the bytes `range` of an input (a range shard hashes its own bytes only).
pub fn sha256_of(source: &crate::dump::Source, range: std::ops::Range<usize>) -> String {
    const WINDOW: usize = 8 << 20;
    let mut h = Sha256::new();
    let all = source.bytes();
    let data = all.get(..range.end).unwrap_or(all);
    let mut at = range.start.min(data.len());
    while at < data.len() {
        let end = (at + WINDOW).min(data.len());
        h.update(data.get(at..end).unwrap_or_default());
        source.release(at..end);
        at = end;
    }
    hex::encode(h.finalize())
}
