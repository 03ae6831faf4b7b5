//! The scan pipeline: chunks → records → normalised values → tokens → probes → tallies.
//!
//! [`Tokenize`] and [`run_input`] are shared with `build`, which inserts the tokens instead of
//! probing them.
//!
//! [`run_input`] cuts one mapped (or read) input into record-aligned chunks, lets rayon
//! workers parse them, each with its own reused record, decoder and normaliser buffers, and
//! merges the workers' [`Tally`]s. The chunk's tallies carry chunk-relative positions that are
//! made absolute in input order. The tokens go to a [`Sink`]: [`Prober`] in a scan,
//! [`Inserter`] in a build.
//! Workers never print: progress is reported through a callback taking byte counts.

// Reviewed (#11): per-kind fixed arrays indexed by `Kind::index()` and `Malformed as usize`.
#![allow(clippy::indexing_slicing)]

use std::path::Path;

use rayon::prelude::*;

use anyhow::Context;

use crate::dump::{
    self, Chunk, ColumnOverride, DumpError, Event, Layout, Malformed, RecordReader, Source,
};
use crate::filter::FilterFile;
use crate::ident::{self, Extractor, Field, FieldMap, Flaw, Kind, Outcome};
use crate::tally::{ChunkCounts, Pos, Tally, KINDS};
use crate::token::{self, Key, Token, Tokenizer};

/// The tokens of one record, by [`Kind::index`]; `None` where the value was absent or invalid.
pub type Tokens = [Option<Token>; KINDS];

/// What happens to the tokens of a batch of records. The pipeline and its sinks meet only
/// here: [`Prober`] (scan: probe the filters, count hits) and [`Inserter`] (build: insert into
/// new sections); [`Discard`] reads and counts only. Any `Fn(&mut Tally, &Batch) + Sync` is a
/// sink too (tests collect tokens with one).
pub trait Sink: Sync {
    /// Handles one batch of records; counts go into the worker's `tally`.
    fn batch(&self, tally: &mut Tally, batch: &Batch);
}

impl<F: Fn(&mut Tally, &Batch) + Sync> Sink for F {
    fn batch(&self, tally: &mut Tally, batch: &Batch) {
        self(tally, batch)
    }
}

/// A sink that drops every batch: the parse-only baseline and the OPRF collecting pass.
pub struct Discard;

impl Sink for Discard {
    fn batch(&self, _: &mut Tally, _: &Batch) {}
}

/// Records handed to a [`Sink`] at once: their tokens and positions (chunk-relative record
/// and line, made file-wide by [`Tally::absolute_positions`]; absolute byte).
#[derive(Debug, Default)]
pub struct Batch {
    /// Per record: its tokens.
    pub tokens: Vec<Tokens>,
    /// Per record: its position.
    pub positions: Vec<Pos>,
    /// Per record: the GDPR categories with a non-empty cell (bit = index in
    /// `crate::dump::categories::CATEGORIES`), from [`crate::dump::ColumnMapping::categories`].
    pub categories: Vec<u8>,
}

impl Batch {
    fn with_capacity(n: usize) -> Batch {
        Batch {
            tokens: Vec::with_capacity(n),
            positions: Vec::with_capacity(n),
            categories: Vec::with_capacity(n),
        }
    }

    fn clear(&mut self) {
        self.tokens.clear();
        self.positions.clear();
        self.categories.clear();
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }
}

/// Records whose tokens are handed to the sink at once, so that it can prefetch all their
/// filter blocks before touching any: the cache misses overlap instead of queueing.
pub const BATCH: usize = 32;

/// Where a pipeline's tokens come from: the keyed PRF, or an OPRF ([`crate::oprf`]).
pub enum TokenSource {
    /// SipHash-2-4-128 under the key's token subkey.
    Keyed(Tokenizer),
    /// OPRF tokens: evaluated locally, collected for the key service, or looked up.
    Oprf(crate::oprf::table::Shared),
}

impl From<Tokenizer> for TokenSource {
    fn from(t: Tokenizer) -> TokenSource {
        TokenSource::Keyed(t)
    }
}

impl TokenSource {
    /// The token of a normalised value of `kind`.
    #[inline]
    pub fn token(&self, kind: Kind, value: &[u8]) -> Token {
        match self {
            TokenSource::Keyed(t) => t.token(kind, value),
            TokenSource::Oprf(o) => o.token(kind, value),
        }
    }

    /// The tokens of `values` (kind, normalised value) into `out`, by [`Kind::index`]; keyed
    /// tokens of three or four values at once with [`Tokenizer::tokens4`].
    #[inline]
    pub fn tokens_into(&self, values: &[(Kind, &[u8])], out: &mut Tokens) {
        let TokenSource::Keyed(t) = self else {
            for &(kind, value) in values {
                out[kind.index()] = Some(self.token(kind, value));
            }
            return;
        };
        let mut rest = values;
        while rest.len() >= 3 {
            let (now, later) = rest.split_at(rest.len().min(4));
            let kinds = std::array::from_fn(|i| now.get(i).map_or(Kind::Kvnr, |v| v.0));
            let four =
                t.tokens4(kinds, std::array::from_fn(|i| now.get(i).map_or(&[][..], |v| v.1)));
            for (&(kind, _), token) in now.iter().zip(four) {
                out[kind.index()] = Some(token);
            }
            rest = later;
        }
        for &(kind, value) in rest {
            out[kind.index()] = Some(t.token(kind, value));
        }
    }
}

/// Normalises and tokenises records: the part `build` and `scan` share.
pub struct Tokenize {
    tokenizer: TokenSource,
    /// Kinds to compute, in [`Kind::ALL`] order (base kinds before pairs).
    kinds: Vec<Kind>,
    /// Parse only: count records, normalise nothing (the benchmark baseline).
    parse_only: bool,
    /// Keyed tokens of at least three base kinds on a CPU with vector lanes: a record's base
    /// tokens are computed together ([`TokenSource::tokens_into`]); else one at a time.
    lanes: bool,
}

impl Tokenize {
    /// Computes `kinds` (sorted into [`Kind::ALL`] order; pair parts must be included).
    pub fn new(tokenizer: impl Into<TokenSource>, kinds: &[Kind]) -> Tokenize {
        let kinds: Vec<Kind> = Kind::ALL.iter().copied().filter(|k| kinds.contains(k)).collect();
        let tokenizer = tokenizer.into();
        let base = kinds.iter().filter(|k| k.parts().is_none()).count();
        let lanes = matches!(&tokenizer, TokenSource::Keyed(t) if t.has_lanes()) && base >= 3;
        Tokenize { tokenizer, kinds, parse_only: false, lanes }
    }

    /// Reads records and counts them, normalising no field (not even the birth date that
    /// forensics counts): the parse-only baseline of `scan --parse-only` and the benchmarks.
    pub fn parse_only() -> Tokenize {
        Tokenize { parse_only: true, ..Tokenize::new(Key::from_bytes([0; 32]).tokenizer(), &[]) }
    }

    /// Where the tokens come from.
    pub fn source(&self) -> &TokenSource {
        &self.tokenizer
    }

    /// The kinds computed.
    pub fn kinds(&self) -> &[Kind] {
        &self.kinds
    }
}

/// The kinds `provided` by an input that at least one filter holds, plus pair parts.
pub fn probe_kinds(filters: &[FilterFile], provided: &FieldMap) -> Vec<Kind> {
    let mut kinds: Vec<Kind> = Kind::ALL
        .iter()
        .copied()
        .filter(|k| provided.provides(*k))
        .filter(|k| filters.iter().any(|f| f.section(*k).is_some()))
        .collect();
    with_parts(&mut kinds);
    kinds
}

/// Adds the parts of every pair kind in `kinds`.
pub fn with_parts(kinds: &mut Vec<Kind>) {
    for k in kinds.clone() {
        if let Some((a, b)) = k.parts() {
            for p in [a, b] {
                if !kinds.contains(&p) {
                    kinds.push(p);
                }
            }
        }
    }
}

mod insert;
pub(crate) mod mode;
mod probe;
mod range;
#[cfg(test)]
mod tests;

pub use insert::Inserter;
pub use probe::{Prober, PREFETCH_AHEAD};
pub use range::{run_input_range, RangeScan};

/// Per-worker state: reused buffers.
struct Worker<'p> {
    pipeline: &'p Tokenize,
    extractor: Extractor,
    /// Records not yet handed to the sink.
    batch: Batch,
}

impl<'p> Worker<'p> {
    fn new(pipeline: &'p Tokenize) -> Self {
        Worker {
            pipeline,
            extractor: Extractor::new(&pipeline.kinds),
            batch: Batch::with_capacity(BATCH),
        }
    }

    /// Normalises and tokenises one record whose fields `field` returns, straight into the
    /// batch (no copy of its tokens); counts validity.
    fn record<'r>(
        &mut self,
        tally: &mut Tally,
        pos: Pos,
        field: impl Fn(Field) -> Option<&'r str>,
    ) {
        tally.records += 1;
        self.batch.positions.push(pos);
        self.batch.tokens.push([None; KINDS]);
        let tokens = self.batch.tokens.last_mut().expect("just pushed");
        if self.pipeline.parse_only {
            return;
        }
        self.extractor.run(field);
        let extractor = &self.extractor;
        let tokenizer = &self.pipeline.tokenizer;
        if self.pipeline.lanes {
            tokens_in_lanes(&self.pipeline.kinds, extractor, tokenizer, tokens, tally);
        } else {
            for &kind in &self.pipeline.kinds {
                if kind.parts().is_some() {
                    pair_token(kind, tokens, tally);
                } else if let Some(value) = base_value(extractor, kind, tally) {
                    tokens[kind.index()] = Some(tokenizer.token(kind, value));
                }
            }
        }
        if let Some(year) = self.extractor.birth_year() {
            if let Some(slot) = tally.birth_years.get_mut(usize::from(year.saturating_sub(1900))) {
                *slot += 1;
            }
        }
    }
}

/// A record's tokens with its valid base-kind values hashed together, just before the first
/// pair (`Kind::ALL` puts the pairs last), which needs their tokens. Kept out of line, so
/// that the one-at-a-time path of [`Worker::record`] stays as small as it was.
#[inline(never)]
fn tokens_in_lanes(
    kinds: &[Kind],
    extractor: &Extractor,
    tokenizer: &TokenSource,
    tokens: &mut Tokens,
    tally: &mut Tally,
) {
    let mut valid: [(Kind, &[u8]); KINDS] = [(Kind::Kvnr, &[]); KINDS];
    let mut n = 0;
    for &kind in kinds {
        if kind.parts().is_some() {
            tokenizer.tokens_into(&valid[..n], tokens);
            n = 0;
            pair_token(kind, tokens, tally);
        } else if let Some(value) = base_value(extractor, kind, tally) {
            valid[n] = (kind, value);
            n += 1;
        }
    }
    tokenizer.tokens_into(&valid[..n], tokens);
}

/// The normalised value of base kind `kind` if it is valid; counts its outcome.
#[inline]
fn base_value<'e>(extractor: &'e Extractor, kind: Kind, tally: &mut Tally) -> Option<&'e [u8]> {
    let (outcome, value) = match extractor.get(kind) {
        Some((Outcome::Valid, v)) if v.len() > ident::MAX_VALUE => {
            (Outcome::Invalid(Flaw::Malformed), v)
        }
        Some(got) => got,
        None => (Outcome::Empty, &[][..]),
    };
    tally.kinds[kind.index()].add(outcome);
    (outcome == Outcome::Valid).then_some(value)
}

/// The token of pair kind `kind` from its parts' tokens, if both are there; counts it.
#[inline]
fn pair_token(kind: Kind, tokens: &mut Tokens, tally: &mut Tally) {
    let Some((a, b)) = kind.parts() else { return };
    if let (Some(ta), Some(tb)) = (tokens[a.index()], tokens[b.index()]) {
        tally.kinds[kind.index()].add(Outcome::Valid);
        tokens[kind.index()] = Some(token::pair(kind, ta, tb));
    }
}

/// One input, opened, its layout detected, ready to scan.
pub struct Prepared {
    /// The opened input.
    pub source: Source,
    /// Its detected (or given) layout.
    pub layout: Layout,
}

impl Prepared {
    /// Opens `path` (mapped when `mmap`) and detects its layout.
    pub fn open(path: &Path, mmap: bool, overrides: &[ColumnOverride]) -> anyhow::Result<Prepared> {
        Prepared::open_as(path, mmap, None, overrides)
    }

    /// Opens `path` and reads it as `format` (`None`: detected from the content).
    pub fn open_as(
        path: &Path,
        mmap: bool,
        format: Option<dump::Format>,
        overrides: &[ColumnOverride],
    ) -> anyhow::Result<Prepared> {
        let source = Source::open(path, mmap)?;
        Prepared::from_source_as(source, format, overrides)
    }

    /// Detects the layout of an opened source.
    pub fn from_source(source: Source, overrides: &[ColumnOverride]) -> anyhow::Result<Prepared> {
        Prepared::from_source_as(source, None, overrides)
    }

    /// Detects the layout of an opened source, as `format` when given.
    pub fn from_source_as(
        source: Source,
        format: Option<dump::Format>,
        overrides: &[ColumnOverride],
    ) -> anyhow::Result<Prepared> {
        let layout = Layout::detect(source.head(), format, overrides)
            .with_context(|| source.path.display().to_string())?;
        Ok(Prepared { source, layout })
    }
}

/// Target chunk size for an input of `len` bytes: large enough to amortise per-chunk costs,
/// small enough for a smooth progress bar and load balance on all cores.
pub fn chunk_target(len: usize) -> usize {
    (len / (rayon::current_num_threads().max(1) * 16)).clamp(1 << 20, 16 << 20)
}

/// Reads one prepared input in parallel chunks; `sink` gets each batch of records' tokens
/// and `progress(bytes)` is called as chunks finish.
pub fn run_input(
    input: &Prepared,
    pipeline: &Tokenize,
    filters: usize,
    sink: &dyn Sink,
    progress: &(dyn Fn(u64) + Sync),
) -> anyhow::Result<Tally> {
    let target = chunk_target(input.source.len());
    run_input_chunked(input, pipeline, filters, sink, progress, target)
}

/// Per-worker state kept across chunks.
type WorkerState<'p> = (Box<dyn RecordReader>, Worker<'p>);

/// [`run_input`] with an explicit chunk size (tests compare chunked and sequential reads).
pub fn run_input_chunked(
    input: &Prepared,
    pipeline: &Tokenize,
    filters: usize,
    sink: &dyn Sink,
    progress: &(dyn Fn(u64) + Sync),
    target: usize,
) -> anyhow::Result<Tally> {
    let chunks = input.source.chunks(&input.layout, target);
    let body_lines = input.layout.dialect.body_lines;
    Ok(run_chunks(input, pipeline, filters, sink, progress, chunks, body_lines)?.0)
}

/// Reads `chunks` of one prepared input in parallel; positions are made absolute with
/// `lines_before` lines before the first chunk. Returns the tally and the chunks' total
/// records and lines.
fn run_chunks<'a>(
    input: &'a Prepared,
    pipeline: &Tokenize,
    filters: usize,
    sink: &dyn Sink,
    progress: &(dyn Fn(u64) + Sync),
    chunks: Box<dyn Iterator<Item = Chunk<'a>> + Send + 'a>,
    lines_before: u64,
) -> anyhow::Result<(Tally, ChunkCounts)> {
    let layout = &input.layout;
    let init = || (layout.reader(), Worker::new(pipeline));
    let read_chunk = |(reader, worker): &mut WorkerState<'_>,
                      (index, chunk): (usize, Chunk<'_>)| {
        let mut tally = Tally::new(filters);
        let (fields, categories) = (&layout.mapping.fields, &layout.mapping.categories[..]);
        let mut ctx =
            ChunkCtx { fields, categories, sink, worker, chunk: index, tally: &mut tally };
        let r = reader.read(&chunk.bytes, chunk.base, &mut |e| ctx.event(e));
        ctx.flush();
        input.source.done(&chunk);
        progress(chunk.bytes.len() as u64);
        let stats = r?;
        // Oversized records come as `Skipped` events with their positions, like every other
        // malformed record; `stats.oversized` counts the same records again.
        tally.malformed[Malformed::Syntax as usize] += chunk.strays as u64;
        Ok::<_, DumpError>((index, stats, tally))
    };
    type Acc = (Tally, Vec<(usize, ChunkCounts)>);
    let empty = || (Tally::new(filters), Vec::new());
    let merge = |(mut a, mut sa): Acc, (b, sb): Acc| {
        a.merge(&b);
        sa.extend(sb);
        (a, sa)
    };
    let (mut tally, mut counts) = chunks
        .enumerate()
        .par_bridge()
        .map_init(init, read_chunk)
        .try_fold(empty, |(mut acc, mut counts), r| {
            let (index, stats, t) = r?;
            acc.merge(&t);
            counts.push((index, ChunkCounts { records: stats.records, lines: stats.lines }));
            Ok::<_, DumpError>((acc, counts))
        })
        .try_reduce(empty, |a, b| Ok(merge(a, b)))
        .with_context(|| input.source.path.display().to_string())?;
    counts.sort_unstable_by_key(|c| c.0);
    let counts: Vec<ChunkCounts> = counts.into_iter().map(|c| c.1).collect();
    tally.absolute_positions(&counts, lines_before);
    let total = counts.iter().fold(ChunkCounts::default(), |a, c| ChunkCounts {
        records: a.records + c.records,
        lines: a.lines + c.lines,
    });
    Ok((tally, total))
}

/// What a worker needs to handle the events of one chunk.
struct ChunkCtx<'a, 'p> {
    fields: &'a FieldMap,
    /// Columns showing a GDPR category when non-empty, with the category's bit.
    categories: &'a [(usize, u8)],
    sink: &'a dyn Sink,
    worker: &'a mut Worker<'p>,
    /// Index of the chunk, for positions.
    chunk: usize,
    tally: &'a mut Tally,
}

impl ChunkCtx<'_, '_> {
    fn event(&mut self, e: Event<'_>) {
        let pos = |p: dump::Position| Pos {
            record: p.record,
            line: p.line,
            byte: p.byte,
            chunk: self.chunk,
        };
        match e {
            Event::Record(record, p) => {
                let fields = self.fields;
                self.worker.record(self.tally, pos(p), |f| record.get(fields.get(f)?));
                self.worker.batch.categories.push(record.category_mask(self.categories));
                if self.worker.batch.len() == BATCH {
                    self.flush();
                }
            }
            Event::Flawed(why, p) => self.tally.malformed_at(why, pos(p)),
            Event::Skipped(why, p) => {
                self.tally.records += 1;
                self.tally.malformed_at(why, pos(p));
            }
        }
    }

    /// Hands the buffered tokens to the sink.
    fn flush(&mut self) {
        self.sink.batch(self.tally, &self.worker.batch);
        self.worker.batch.clear();
    }
}
