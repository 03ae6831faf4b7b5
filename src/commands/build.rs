//! `leakmatch build`: customer files → one filter file with a section per kind.
//!
//! Inputs are read once: sized by their length and a sample of their mean line length (small
//! inputs and streams by a line count; skipped with `--expected`), then inserted. Workers insert into shared atomic filters, so memory is the filters plus a
//! constant per worker, and both cores are used.

// Reviewed (#11): `kinds`/`invalid` are `[_; KINDS]`/`[_; FLAWS]` arrays indexed by
// `Kind::index()`/`Flaw::index()`; `inputs[0]` of a build that requires one input (clap).
#![allow(clippy::indexing_slicing)]

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use rayon::prelude::*;

use crate::commands::progress::Progress;
use crate::config::BuildConfig;
use crate::error::UsageError;
use crate::filter::{self, FilterHeader, KindStats, Metadata, Params, SectionInfo};
use crate::ident::{Flaw, Kind};
use crate::num::thousands;
use crate::scan::{self, Discard, Inserter, Prepared, Tokenize};
use crate::tally::Tally;
use crate::token::KeyId;

use crate::filter::BIRTH_BUCKET_YEARS;

/// What a build produced.
#[derive(Debug)]
pub struct Built {
    pub bytes: u64,
    pub tally: Tally,
    pub sections: Vec<SectionInfo>,
}

/// Builds the filter described by `cfg`.
pub fn run(cfg: &BuildConfig) -> anyhow::Result<Built> {
    cfg.check_outputs()?;
    if !cfg.force && std::fs::symlink_metadata(&cfg.out).is_ok() {
        bail!(UsageError(format!(
            "{} already exists; pass --force to replace it",
            cfg.out.display()
        )));
    }
    let mode = crate::scan::mode::for_build(
        cfg.key_file.as_deref(),
        cfg.oprf,
        cfg.key_server.as_ref(),
        cfg.like.as_deref(),
        cfg.quiet,
    )?;
    for p in &cfg.inputs {
        crate::scan::mode::check_rereadable(&mode, p)?;
    }
    let inputs = cfg
        .inputs
        .iter()
        .map(|p| Prepared::open_as(p, cfg.mmap, cfg.format, &cfg.overrides))
        .collect::<Result<Vec<_>, _>>()?;
    let like = cfg.like.as_deref().map(|p| like_geometry(p, &mode.key_id())).transpose()?;
    let kinds = match &like {
        Some(g) => g.iter().map(|s| s.kind).collect(),
        None => choose_kinds(cfg, &inputs)?,
    };
    let expected = match (&like, cfg.expected) {
        (Some(_), _) => 1,
        (None, Some(n)) => n,
        (None, None) => inputs.iter().map(sized_records).sum::<anyhow::Result<u64>>()?.max(1),
    };
    let geometry = |k: Kind| match &like {
        Some(g) => {
            g.iter().find(|s| s.kind == k).map(|s| (s.params, s.target_fpr)).expect("kind of like")
        }
        None => (Params::for_count(expected, cfg.fpr), cfg.fpr),
    };
    let inserter = Inserter::new(kinds.iter().map(|&k| (k, geometry(k).0)));
    let mut token_kinds = kinds.clone();
    scan::with_parts(&mut token_kinds);
    let source = mode.source(&token_kinds, |collect| {
        for p in &cfg.inputs {
            let input = Prepared::open_as(p, cfg.mmap, cfg.format, &cfg.overrides)?;
            scan::run_input(&input, collect, 0, &Discard, &|_| {})
                .with_context(|| format!("reading {}", p.display()))?;
        }
        Ok(())
    })?;
    let pipeline = Tokenize::new(source, &token_kinds);
    let total_bytes = inputs.iter().map(|i| i.source.expected_len()).sum::<Option<u64>>();
    let progress = Progress::new(total_bytes, cfg.quiet, "build");
    let mut tally = Tally::new(0);
    for input in &inputs {
        let t = scan::run_input(input, &pipeline, 0, &inserter, &progress.tracker(&input.source))
            .with_context(|| format!("reading {}", input.source.path.display()))?;
        input.source.finish()?;
        tally.merge(&t);
    }
    crate::scan::mode::check_complete(pipeline.source(), &cfg.inputs[0])?;
    let read: u64 = inputs.iter().map(|i| i.source.len() as u64).sum();
    let secs = progress.finish("read", read, tally.records);
    let mut sections = Vec::new();
    let mut finished = Vec::new();
    // One section per task: each FPR is summed in the same order as on one thread.
    let filled: Vec<(Kind, filter::Bloom, f64)> = inserter
        .into_sections()
        .into_par_iter()
        .map(|(kind, bloom)| {
            let fpr = bloom.achieved_fpr();
            (kind, bloom, fpr)
        })
        .collect();
    for (kind, bloom, achieved_fpr) in filled {
        let params = bloom.params();
        sections.push(SectionInfo {
            kind,
            params,
            inserted: tally.kinds[kind.index()].valid,
            target_fpr: geometry(kind).1,
            achieved_fpr,
        });
        finished.push(bloom);
    }
    if like.is_none() && !cfg.quiet {
        for s in sections.iter().filter(|s| s.inserted > expected + expected / 20) {
            eprintln!(
                "leakmatch: warning: {} {} values, but the filter was sized for {}: its FPR is \
                 {:.2e} instead of {:.2e}; give --expected N to size it",
                thousands(s.inserted),
                s.kind.name(),
                thousands(expected),
                s.achieved_fpr,
                s.target_fpr
            );
        }
    }
    let header = FilterHeader {
        key_id: mode.key_id(),
        created_unix: SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        label: cfg.label.clone(),
        snapshot_date: cfg.snapshot_date.clone(),
        role: cfg.role,
        prf: mode.prf(),
    };
    let meta = metadata(&tally, &kinds, cfg);
    // By value: each array is freed once written (see `write_filter`).
    let pairs = sections.iter().cloned().zip(finished);
    let bytes = filter::write_filter(&cfg.out, &header, pairs, &meta, &mode.mac_key())
        .with_context(|| format!("writing {}", cfg.out.display()))?;
    if !cfg.quiet {
        summary(cfg, &tally, &sections, bytes, secs);
    }
    Ok(Built { bytes, tally, sections })
}

/// The sections of `--like FILTER` (kinds, geometry, target FPR); the filter must carry the
/// key's id, so that the new filter can be OR'ed or compared with it.
fn like_geometry(path: &std::path::Path, key_id: &KeyId) -> anyhow::Result<Vec<SectionInfo>> {
    let f = filter::FilterFile::open(path, &filter::OpenOptions::default())?;
    f.check_key(key_id)?;
    Ok(f.sections.clone())
}

/// The requested kinds, or every default kind some input provides. A requested kind no input
/// provides is a usage error naming the fields it needs.
fn choose_kinds(cfg: &BuildConfig, inputs: &[Prepared]) -> anyhow::Result<Vec<Kind>> {
    let provided = |k: Kind| inputs.iter().any(|i| i.layout.mapping.fields.provides(k));
    let kinds: Vec<Kind> = match &cfg.kinds {
        Some(ks) => {
            if let Some(k) = ks.iter().find(|k| !provided(**k)) {
                bail!(UsageError(format!(
                    "kind {k}: no input has the columns it needs; map them with --map FIELD=COLUMN"
                )));
            }
            ks.clone()
        }
        None => Kind::DEFAULT.iter().copied().filter(|k| provided(*k)).collect(),
    };
    if kinds.is_empty() {
        bail!(UsageError(
            "no identifier column recognised in the inputs; map columns with --map FIELD=COLUMN"
                .into()
        ));
    }
    Ok(kinds)
}

/// Inputs up to this size are sized by an exact line count; larger mapped files by a sample.
const COUNT_EXACTLY: usize = 64 << 20;
/// The size sample of a large input: this many windows, evenly spread over the body.
const SAMPLE_WINDOWS: usize = 32;
/// Bytes per sample window.
const SAMPLE_WINDOW: usize = 1 << 20;

/// The number of records an input is sized for. Up to [`COUNT_EXACTLY`] bytes: its lines (an
/// upper bound of its records). A larger file in memory: its body length divided by the mean
/// line length of [`SAMPLE_WINDOWS`] windows spread over it (no counting pass; the filter
/// stores the FPR its real fill gives, and `build` warns when the count was exceeded). A long
/// stream of unknown length (stdin, compressed) cannot be sized in advance: usage error.
fn sized_records(input: &Prepared) -> anyhow::Result<u64> {
    sized_records_over(input, COUNT_EXACTLY)
}

/// [`sized_records`], counting exactly up to `exact` body bytes (tests use small bounds).
fn sized_records_over(input: &Prepared, exact: usize) -> anyhow::Result<u64> {
    let data = input.source.bytes();
    let body = &data[input.layout.dialect.body_start.min(data.len())..];
    if input.source.is_streamed() || body.len() <= exact {
        return line_count(input, body);
    }
    let step = body.len() / SAMPLE_WINDOWS;
    let (mut lines, mut bytes) = (0u64, 0u64);
    for w in 0..SAMPLE_WINDOWS {
        let window = &body[w * step..(w * step + SAMPLE_WINDOW).min(body.len())];
        // Whole lines only: from just after the first `\n` to just after the last.
        let (Some(first), Some(last)) =
            (memchr::memchr(b'\n', window), memchr::memrchr(b'\n', window))
        else {
            continue;
        };
        lines += memchr::memchr_iter(b'\n', &window[first + 1..=last]).count() as u64;
        bytes += (last - first) as u64;
        let start = w * step;
        input.source.release(start..start + window.len());
    }
    if lines == 0 {
        return line_count(input, body);
    }
    Ok((body.len() as u128 * lines as u128).div_ceil(bytes as u128) as u64 + 1)
}

/// Lines in the body of an input: an upper bound of its records. Counted in windows released
/// behind the count, so a mapped input never becomes fully resident.
fn line_count(input: &Prepared, body: &[u8]) -> anyhow::Result<u64> {
    const WINDOW: usize = 8 << 20;
    let offset = input.source.bytes().len() - body.len();
    let mut lines = 1;
    for (i, window) in body.chunks(WINDOW).enumerate() {
        lines += memchr::memchr_iter(b'\n', window).count() as u64;
        input.source.release(offset + i * WINDOW..offset + i * WINDOW + window.len());
    }
    input.source.scale_from_head(lines).ok_or_else(|| {
        UsageError(format!(
            "{}: a streamed input cannot be counted in advance; give --expected N",
            input.source.path.display()
        ))
        .into()
    })
}

fn metadata(tally: &Tally, kinds: &[Kind], cfg: &BuildConfig) -> Metadata {
    let mut stats = BTreeMap::new();
    for &k in kinds {
        let c = &tally.kinds[k.index()];
        let invalid = Flaw::ALL
            .iter()
            .filter(|f| c.invalid[f.index()] > 0)
            .map(|f| (f.name().to_string(), c.invalid[f.index()]))
            .collect();
        stats.insert(k.name().to_string(), KindStats { valid: c.valid, invalid });
    }
    let per_year = tally
        .birth_years
        .iter()
        .enumerate()
        .filter(|(_, n)| **n > 0)
        .map(|(i, n)| (1900 + i as u16, *n));
    let (width, min) = (BIRTH_BUCKET_YEARS, cfg.birth_min_count);
    let years = 1900..=1900 + (tally.birth_years.len().max(1) - 1) as u16;
    let birth_years = match cfg.birth_noise {
        None => filter::BirthYears::from_counts(per_year, width, min),
        Some(eps) => {
            filter::BirthYears::noised(per_year, width, min, years, eps, &mut rand::rngs::OsRng)
        }
    };
    Metadata { rows: tally.records, kinds: stats, birth_years }
}

fn summary(cfg: &BuildConfig, tally: &Tally, sections: &[SectionInfo], bytes: u64, secs: f64) {
    eprintln!(
        "leakmatch: built {} ({} bytes, {:.1} bytes per row) from {} rows in {secs:.2} s",
        cfg.out.display(),
        thousands(bytes),
        bytes as f64 / tally.records.max(1) as f64,
        thousands(tally.records)
    );
    eprintln!(
        "  {:<18}{:>12}{:>10}{:>4}{:>14}{:>14}{:>12}",
        "kind", "valid", "invalid", "k", "blocks", "bytes", "FPR"
    );
    for s in sections {
        let c = &tally.kinds[s.kind.index()];
        eprintln!(
            "  {:<18}{:>12}{:>10}{:>4}{:>14}{:>14}{:>12.2e}",
            s.kind.name(),
            thousands(c.valid),
            thousands(c.invalid_total()),
            s.params.k,
            thousands(s.params.blocks),
            thousands(s.params.bytes()),
            s.achieved_fpr
        );
    }
    eprintln!("  {}", pair_cost(sections, bytes));
}

/// One line on what the pair kinds cost: their sections' bytes and share of the file, or,
/// without pair kinds, what the filter cannot show.
pub fn pair_cost(sections: &[SectionInfo], file_bytes: u64) -> String {
    let pairs: Vec<&SectionInfo> = sections.iter().filter(|s| s.kind.parts().is_some()).collect();
    if pairs.is_empty() {
        return format!(
            "no pair kind: scans cannot tell a genuine extract from a recombination; build with \
             --kinds {} to add them",
            Kind::default_list()
        );
    }
    let bytes: u64 = pairs.iter().map(|s| s.params.bytes()).sum();
    let names: Vec<&str> = pairs.iter().map(|s| s.kind.name()).collect();
    format!(
        "pair kinds {}: {} bytes extra ({:.1} % of the file), for the pair-consistency evidence \
         of the verdict",
        names.join(", "),
        thousands(bytes),
        100.0 * bytes as f64 / file_bytes.max(1) as f64
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A mapped CSV of `rows` rows of varying length; returns it prepared.
    fn prepared(dir: &std::path::Path, rows: u64) -> Prepared {
        let path = dir.join("c.csv");
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        writeln!(f, "KVNR;E-Mail;Nachname").unwrap();
        for i in 0..rows {
            let pad = "x".repeat((i * 7919 % 23) as usize);
            writeln!(f, "A{i:09};user{i}{pad}@example.de;Name{}", i % 977).unwrap();
        }
        drop(f);
        Prepared::open(&path, true, &[]).unwrap()
    }

    #[test]
    fn a_large_file_is_sized_by_a_sample_within_one_percent_and_a_small_one_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let rows = 200_000;
        let input = prepared(dir.path(), rows);
        let exact = sized_records(&input).unwrap();
        assert_eq!(exact, rows + 1, "under the bound: every line counted (plus one)");
        let sampled = sized_records_over(&input, 1 << 16).unwrap();
        assert_ne!(sampled, exact, "the sample path was taken");
        let err = (sampled as f64 - rows as f64).abs() / rows as f64;
        assert!(err < 0.01, "sampled {sampled} for {rows} rows");
    }
}
