//! `leakmatch union A.lmf B.lmf... --out C.lmf`: the bitwise OR of filters built with the same
//! key and geometry (a customer base split across machines, each part built with
//! `build --expected N` or `--like`). The result's bits equal those of one build over all parts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;

use crate::commands::plumbing::open_filters;
use crate::error;
use crate::error::UsageError;
use crate::filter::{self, BirthYears, Bloom, FilterFile, FilterHeader, Metadata, SectionInfo};
use crate::token::Key;

pub fn run(
    key_file: Option<&Path>,
    out: &Path,
    filters: &[PathBuf],
    quiet: bool,
) -> anyhow::Result<u8> {
    let mut inputs = crate::output::refs(filters);
    let key_path = crate::config::key_path(key_file);
    inputs.extend(key_path.as_deref());
    crate::output::check(out, &inputs)?;
    let key = Key::load_from(key_file)?;
    let files = open_filters(filters, &key)?;
    let bytes = union(&files, &key, out)?;
    if !quiet {
        eprintln!(
            "leakmatch: wrote {} ({} bytes), the union of {} filters",
            out.display(),
            crate::num::thousands(bytes),
            files.len()
        );
    }
    Ok(error::SUCCESS)
}

/// Checks that `f` has the kinds and geometry of `first`.
fn same_layout(first: &FilterFile, f: &FilterFile) -> Result<(), UsageError> {
    let shape = |f: &FilterFile| f.sections.iter().map(|s| (s.kind, s.params)).collect::<Vec<_>>();
    if shape(first) == shape(f) {
        return Ok(());
    }
    Err(UsageError(format!(
        "{}: kinds or geometry differ from {} (build every part with the same --expected and --fpr, or --like)",
        f.path.display(),
        first.path.display()
    )))
}

/// Writes the union of `files` (already checked against `key`) to `out`; returns its size.
pub fn union(files: &[FilterFile], key: &Key, out: &Path) -> anyhow::Result<u64> {
    let first = files.first().context("no filter given")?;
    for f in files {
        same_layout(first, f)?;
    }
    let mut sections = Vec::new();
    let mut blooms: Vec<Bloom> = Vec::new();
    for s in &first.sections {
        let mut bloom = first.to_bloom(s.kind).expect("listed section");
        let mut inserted = 0;
        for f in files {
            bloom.union_with(f.section(s.kind).expect("same layout"))?;
            inserted += f.section_info(s.kind).map_or(0, |i| i.inserted);
        }
        let achieved_fpr = bloom.achieved_fpr();
        sections.push(SectionInfo { inserted, achieved_fpr, ..*s });
        blooms.push(bloom);
    }
    let header = FilterHeader {
        created_unix: SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        ..first.header.clone()
    };
    let meta = merged_metadata(files);
    let pairs = sections.into_iter().zip(blooms);
    let bytes = filter::write_filter(out, &header, pairs, &meta, &key.mac_key())
        .with_context(|| format!("writing {}", out.display()))?;
    Ok(bytes)
}

/// Sums rows, per-kind counts and the published birth-year buckets (buckets suppressed in a
/// part stay suppressed: their people are added to `suppressed`).
fn merged_metadata(files: &[FilterFile]) -> Metadata {
    let mut m = Metadata::default();
    let mut buckets: BTreeMap<u16, u64> = BTreeMap::new();
    let mut years = BirthYears::default();
    for f in files {
        m.rows += f.meta.rows;
        for (kind, s) in &f.meta.kinds {
            let t = m.kinds.entry(kind.clone()).or_default();
            t.valid += s.valid;
            for (flaw, n) in &s.invalid {
                *t.invalid.entry(flaw.clone()).or_default() += n;
            }
        }
        let b = &f.meta.birth_years;
        years.bucket_years = b.bucket_years;
        years.min_count = b.min_count;
        years.suppressed += b.suppressed;
        for &(start, n) in &b.buckets {
            *buckets.entry(start).or_default() += n;
        }
    }
    years.buckets = buckets.into_iter().collect();
    m.birth_years = years;
    m
}
