//! `leakmatch build`: customer files → one filter file with a section per kind.
//!
//! Inputs are read twice at most: once to count lines for sizing (skipped with `--expected`),
//! once to insert. Workers insert into shared atomic filters, so memory is the filters plus a
//! constant per worker, and both cores are used.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};

use crate::commands::progress::Progress;
use crate::config::{BuildConfig, UsageError};
use crate::filter::{self, AtomicBloom, FilterHeader, KindStats, Metadata, Params, SectionInfo};
use crate::ident::{Flaw, Kind};
use crate::report::text::thousands;
use crate::scan::{self, Batch, Prepared, Tokenize};
use crate::tally::Tally;
use crate::token::Key;

/// Birth-year histogram stored in the filter: 5-year buckets, buckets under 10 people
/// suppressed (aggregates only; no bucket small enough to single anyone out).
pub const BIRTH_BUCKET_YEARS: u16 = 5;
pub const BIRTH_MIN_COUNT: u64 = 10;

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
    let key = Key::load_from(cfg.key_file.as_deref())?;
    let inputs = cfg
        .inputs
        .iter()
        .map(|p| Prepared::open_as(p, cfg.mmap, cfg.format, &cfg.overrides))
        .collect::<Result<Vec<_>, _>>()?;
    let like = cfg.like.as_deref().map(|p| like_geometry(p, &key)).transpose()?;
    let kinds = match &like {
        Some(g) => g.iter().map(|s| s.kind).collect(),
        None => choose_kinds(cfg, &inputs)?,
    };
    let expected = match (&like, cfg.expected) {
        (Some(_), _) => 1,
        (None, Some(n)) => n,
        (None, None) => inputs.iter().map(line_count).sum::<anyhow::Result<u64>>()?.max(1),
    };
    let geometry = |k: Kind| match &like {
        Some(g) => {
            g.iter().find(|s| s.kind == k).map(|s| (s.params, s.target_fpr)).expect("kind of like")
        }
        None => (Params::for_count(expected, cfg.fpr), cfg.fpr),
    };
    let blooms: Vec<(Kind, Params, AtomicBloom)> = kinds
        .iter()
        .map(|&k| {
            let p = geometry(k).0;
            (k, p, AtomicBloom::new(p))
        })
        .collect();
    let mut token_kinds = kinds.clone();
    scan::with_parts(&mut token_kinds);
    let pipeline = Tokenize::new(key.tokenizer(), &token_kinds);
    let sink = |_: &mut Tally, batch: &Batch| {
        let batch = &batch.tokens;
        for (kind, _, bloom) in &blooms {
            for tokens in batch {
                if let Some(t) = tokens[kind.index()] {
                    bloom.prefetch(t);
                }
            }
            for tokens in batch {
                if let Some(t) = tokens[kind.index()] {
                    bloom.insert(t);
                }
            }
        }
    };
    let total_bytes = inputs.iter().map(|i| i.source.expected_len()).sum::<Option<u64>>();
    let progress = Progress::new(total_bytes, cfg.quiet, "build");
    let mut tally = Tally::new(0);
    for input in &inputs {
        let t = scan::run_input(input, &pipeline, 0, &sink, &progress.tracker(&input.source))
            .with_context(|| format!("reading {}", input.source.path.display()))?;
        input.source.finish()?;
        tally.merge(&t);
    }
    let read: u64 = inputs.iter().map(|i| i.source.len() as u64).sum();
    let secs = progress.finish("read", read, tally.records);
    let mut sections = Vec::new();
    let mut finished = Vec::new();
    for (kind, params, bloom) in blooms {
        let bloom = bloom.into_bloom();
        sections.push(SectionInfo {
            kind,
            params,
            inserted: tally.kinds[kind.index()].valid,
            target_fpr: geometry(kind).1,
            achieved_fpr: bloom.achieved_fpr(),
        });
        finished.push(bloom);
    }
    let header = FilterHeader {
        key_id: key.id(),
        created_unix: SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        label: cfg.label.clone(),
        snapshot_date: cfg.snapshot_date.clone(),
        role: cfg.role,
    };
    let meta = metadata(&tally, &kinds, cfg);
    let pairs: Vec<(SectionInfo, &filter::Bloom)> =
        sections.iter().cloned().zip(finished.iter()).collect();
    let bytes = filter::write_filter(&cfg.out, &header, &pairs, &meta, &key.mac_key())
        .with_context(|| format!("writing {}", cfg.out.display()))?;
    if !cfg.quiet {
        summary(cfg, &tally, &sections, bytes, secs);
    }
    Ok(Built { bytes, tally, sections })
}

/// The sections of `--like FILTER` (kinds, geometry, target FPR); the filter must carry the
/// key's id, so that the new filter can be OR'ed or compared with it.
fn like_geometry(path: &std::path::Path, key: &Key) -> anyhow::Result<Vec<SectionInfo>> {
    let f = filter::FilterFile::open(path, &filter::OpenOptions::default())?;
    f.check_key(&key.id())?;
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

/// Lines in the body of an input: an upper bound of its records, used for sizing. Counted in
/// windows released behind the count, so a mapped input never becomes fully resident. A long
/// stream of unknown length (stdin, compressed) cannot be counted in advance: usage error.
fn line_count(input: &Prepared) -> anyhow::Result<u64> {
    const WINDOW: usize = 8 << 20;
    let data = input.source.bytes();
    let mut at = input.layout.dialect.body_start.min(data.len());
    let mut lines = 1;
    while at < data.len() {
        let end = (at + WINDOW).min(data.len());
        lines += memchr::memchr_iter(b'\n', &data[at..end]).count() as u64;
        input.source.release(at..end);
        at = end;
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
