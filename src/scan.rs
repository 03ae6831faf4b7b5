//! The scan pipeline: chunks → records → normalised values → tokens → probes → tallies.
//!
//! [`Tokenize`] and [`run_input`] are shared with `build`, which inserts the tokens instead of
//! probing them.
//!
//! [`run_input`] cuts one mapped (or read) input into record-aligned chunks, lets rayon
//! workers parse them, each with its own reused record, decoder and normaliser buffers, and
//! merges the workers' [`Tally`]s. The chunk's tallies carry chunk-relative positions that are
//! made absolute in input order. [`Prober`] is the scan's sink.
//! Workers never print: progress is reported through a callback taking byte counts.

use std::path::Path;

use rayon::prelude::*;

use anyhow::Context;

use crate::dump::{self, Chunk, ColumnOverride, DumpError, Event, Layout, RecordReader, Source};
use crate::filter::{BloomRef, FilterFile};
use crate::ident::{Extractor, Field, FieldMap, Kind, Outcome};
use crate::tally::{ChunkCounts, FilterTally, Malformed, Pos, RowBound, Tally, KINDS};
use crate::token::{self, Key, Token, Tokenizer};

/// Kinds whose hits count as independent evidence for a strong match.
pub const INDEPENDENT: [Kind; 5] =
    [Kind::Kvnr, Kind::Email, Kind::Phone, Kind::NameDob, Kind::Iban];

/// The tokens of one record, by [`Kind::index`]; `None` where the value was absent or invalid.
pub type Tokens = [Option<Token>; KINDS];

/// What happens to the tokens of a batch of records: probing (scan) or inserting (build).
pub type Sink<'a> = dyn Fn(&mut Tally, &Batch) + Sync + 'a;

/// Records handed to a [`Sink`] at once: their tokens and positions (chunk-relative record
/// and line, made file-wide by [`Tally::absolute_positions`]; absolute byte).
#[derive(Debug, Default)]
pub struct Batch {
    pub tokens: Vec<Tokens>,
    pub positions: Vec<Pos>,
}

impl Batch {
    fn with_capacity(n: usize) -> Batch {
        Batch { tokens: Vec::with_capacity(n), positions: Vec::with_capacity(n) }
    }

    fn clear(&mut self) {
        self.tokens.clear();
        self.positions.clear();
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

/// Normalises and tokenises records: the part `build` and `scan` share.
pub struct Tokenize {
    tokenizer: Tokenizer,
    /// Kinds to compute, in [`Kind::ALL`] order (base kinds before pairs).
    kinds: Vec<Kind>,
    /// Parse only: count records, normalise nothing (the benchmark baseline).
    parse_only: bool,
}

impl Tokenize {
    /// Computes `kinds` (sorted into [`Kind::ALL`] order; pair parts must be included).
    pub fn new(tokenizer: Tokenizer, kinds: &[Kind]) -> Tokenize {
        let kinds = Kind::ALL.iter().copied().filter(|k| kinds.contains(k)).collect();
        Tokenize { tokenizer, kinds, parse_only: false }
    }

    /// Reads records and counts them, normalising no field (not even the birth date that
    /// forensics counts): the parse-only baseline of `scan --parse-only` and the benchmarks.
    pub fn parse_only() -> Tokenize {
        Tokenize { parse_only: true, ..Tokenize::new(Key::from_bytes([0; 32]).tokenizer(), &[]) }
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

/// How many records ahead of the one being tested [`Prober::probe`] prefetches blocks.
pub const PREFETCH_AHEAD: usize = 6;

/// The filters' sections, ready to probe the records of one input (its chunks share the
/// duplicate sample's admission bound, see [`crate::tally::RowSample::insert_bounded`]).
pub struct Prober<'f> {
    /// Per filter: the section of each kind it has, indexed by [`Kind::index`].
    filters: Vec<[Option<BloomRef<'f>>; KINDS]>,
    /// Whether matching records' positions are collected (`--emit-matches`).
    collect: bool,
    /// Admission bound of the input's duplicate sample.
    row_bound: RowBound,
}

impl<'f> Prober<'f> {
    pub fn new(filters: &'f [FilterFile]) -> Prober<'f> {
        let filters =
            filters.iter().map(|f| std::array::from_fn(|i| f.section(Kind::ALL[i]))).collect();
        Prober { filters, collect: false, row_bound: RowBound::default() }
    }

    /// Also collect each matching record's position and hits into [`Tally::matches`].
    pub fn collect_matches(mut self, on: bool) -> Self {
        self.collect = on;
        self
    }

    /// Probes a batch of records' tokens against every filter and counts hits: first all
    /// prefetches, then all tests. Also samples each row's token set for the duplicate count.
    pub fn probe(&self, tally: &mut Tally, batch: &Batch) {
        for tokens in &batch.tokens {
            if let Some(h) = row_hash(tokens) {
                tally.row_sample.insert_bounded(h, &self.row_bound);
            }
        }
        let mut hits = Vec::new();
        let prefetch = |sections: &[Option<BloomRef<'_>>; KINDS], tokens: &Tokens| {
            for (section, token) in sections.iter().zip(tokens) {
                if let (Some(bloom), Some(t)) = (section, token) {
                    bloom.prefetch(*t);
                }
            }
        };
        for (f, sections) in self.filters.iter().enumerate() {
            // Software pipeline: the blocks of record i + AHEAD are requested while record i
            // is tested, so a bounded number of misses is in flight, each with time to land.
            for tokens in batch.tokens.iter().take(PREFETCH_AHEAD) {
                prefetch(sections, tokens);
            }
            for (i, (tokens, pos)) in batch.tokens.iter().zip(&batch.positions).enumerate() {
                if let Some(ahead) = batch.tokens.get(i + PREFETCH_AHEAD) {
                    prefetch(sections, ahead);
                }
                let kinds = probe_record(sections, &mut tally.filters[f], tokens);
                if self.collect && kinds != 0 {
                    hits.push(crate::tally::MatchHit { pos: *pos, filter: f as u32, kinds });
                }
            }
        }
        if !hits.is_empty() {
            hits.sort_by_key(|m| (m.pos.byte, m.filter));
            crate::forensics::rows::merge_matches(&mut tally.matches, &hits);
        }
    }
}

/// A hash of all tokens of a row (`None` for a row without any): equal token sets, equal hash.
#[inline]
fn row_hash(tokens: &Tokens) -> Option<u64> {
    let mut h = 0u64;
    let mut any = false;
    for (i, t) in tokens.iter().enumerate() {
        if let Some(t) = t {
            any = true;
            // Tokens are PRF outputs: fold them position-dependently, then mix.
            h = (h ^ (*t as u64) ^ ((*t >> 64) as u64).rotate_left(i as u32 + 1))
                .wrapping_mul(0x9e37_79b9_7f4a_7c15)
                .rotate_left(29);
        }
    }
    any.then_some(h)
}

/// Probes one record's tokens against one filter's sections; returns the bit set of the kinds
/// that hit (bit [`Kind::index`]).
#[inline]
fn probe_record(
    sections: &[Option<BloomRef<'_>>; KINDS],
    ft: &mut FilterTally,
    tokens: &Tokens,
) -> u16 {
    let (mut kinds, mut independent, mut probed) = (0u16, 0, false);
    for (i, (section, token)) in sections.iter().zip(tokens).enumerate() {
        let (Some(bloom), Some(t)) = (section, token) else { continue };
        probed = true;
        ft.probed[i] += 1;
        if bloom.contains(*t) {
            ft.hits[i] += 1;
            ft.distinct[i].insert(*t as u64);
            kinds |= 1 << i;
            independent += usize::from(INDEPENDENT.contains(&Kind::ALL[i]));
        }
    }
    ft.rows_probed += u64::from(probed);
    ft.matched_any += u64::from(kinds != 0);
    ft.matched_two_plus += u64::from(independent >= 2);
    for pair in [Kind::KvnrNameDob, Kind::EmailNameDob] {
        let (a, b) = pair.parts().expect("a pair kind");
        let both = kinds & (1 << a.index()) != 0 && kinds & (1 << b.index()) != 0;
        if both && sections[pair.index()].is_some() && tokens[pair.index()].is_some() {
            ft.pair_both[pair.index()] += 1;
            ft.pair_missed[pair.index()] += u64::from(kinds & (1 << pair.index()) == 0);
        }
    }
    kinds
}

/// Per-worker state: reused buffers.
struct Worker<'p> {
    pipeline: &'p Tokenize,
    extractor: Extractor,
    tokens: Tokens,
    /// Records not yet handed to the sink.
    batch: Batch,
}

impl<'p> Worker<'p> {
    fn new(pipeline: &'p Tokenize) -> Self {
        Worker {
            pipeline,
            extractor: Extractor::new(&pipeline.kinds),
            tokens: [None; KINDS],
            batch: Batch::with_capacity(BATCH),
        }
    }

    /// Normalises and tokenises one record whose fields `field` returns; counts validity.
    fn record<'r>(
        &mut self,
        tally: &mut Tally,
        field: impl Fn(Field) -> Option<&'r str>,
    ) -> &Tokens {
        tally.records += 1;
        if self.pipeline.parse_only {
            return &self.tokens;
        }
        self.extractor.run(field);
        for &kind in &self.pipeline.kinds {
            let i = kind.index();
            self.tokens[i] = match kind.parts() {
                Some((a, b)) => match (self.tokens[a.index()], self.tokens[b.index()]) {
                    (Some(ta), Some(tb)) => {
                        tally.kinds[i].add(Outcome::Valid);
                        Some(token::pair(kind, ta, tb))
                    }
                    _ => None,
                },
                None => {
                    let (outcome, value) =
                        self.extractor.get(kind).unwrap_or((Outcome::Empty, &[]));
                    tally.kinds[i].add(outcome);
                    (outcome == Outcome::Valid).then(|| self.pipeline.tokenizer.token(kind, value))
                }
            };
        }
        if let Some(year) = self.extractor.birth_year() {
            if let Some(slot) = tally.birth_years.get_mut(usize::from(year.saturating_sub(1900))) {
                *slot += 1;
            }
        }
        &self.tokens
    }
}

/// One input, opened, its layout detected, ready to scan.
pub struct Prepared {
    pub source: Source,
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
    sink: &Sink<'_>,
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
    sink: &Sink<'_>,
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
    sink: &Sink<'_>,
    progress: &(dyn Fn(u64) + Sync),
    chunks: Box<dyn Iterator<Item = Chunk<'a>> + Send + 'a>,
    lines_before: u64,
) -> anyhow::Result<(Tally, ChunkCounts)> {
    let layout = &input.layout;
    let init = || (layout.reader(), Worker::new(pipeline));
    let read_chunk = |(reader, worker): &mut WorkerState<'_>,
                      (index, chunk): (usize, Chunk<'_>)| {
        let mut tally = Tally::new(filters);
        let fields = &layout.mapping.fields;
        let mut ctx = ChunkCtx { fields, sink, worker, chunk: index, tally: &mut tally };
        let r = reader.read(&chunk.bytes, chunk.base, &mut |e| ctx.event(e));
        ctx.flush();
        input.source.done(&chunk);
        progress(chunk.bytes.len() as u64);
        let stats = r?;
        let strays = chunk.strays as u64;
        tally.malformed[Malformed::Oversized as usize] += stats.oversized.saturating_sub(strays);
        tally.malformed[Malformed::Syntax as usize] += strays;
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

/// What [`run_input_range`] read: the tally (record and line of positions counted from the
/// range's first record, header lines excluded; bytes file-wide) and the range's totals.
#[derive(Clone, Debug, PartialEq)]
pub struct RangeScan {
    pub tally: Tally,
    /// Records and lines of the records that start inside the range.
    pub counts: ChunkCounts,
}

/// [`run_input`] restricted to the records that START inside `range` (byte offsets into the
/// input, clipped to its length). The record-aligned chunker runs from the body start, so
/// record boundaries are the same whatever the range; a record belongs to the range holding
/// its first byte. Adjacent ranges therefore read every record exactly once, quoted newlines
/// included, and any cut is exact (see [`crate::partial`] for merging the shards).
///
/// A "record start" is a boundary the chunker can cut at: just after a `\n` outside quotes
/// (a file with CR-only line ends is one unit, read by the range holding its body start).
pub fn run_input_range(
    input: &Prepared,
    pipeline: &Tokenize,
    filters: usize,
    sink: &Sink<'_>,
    progress: &(dyn Fn(u64) + Sync),
    range: std::ops::Range<u64>,
    target: usize,
) -> anyhow::Result<RangeScan> {
    let len = input.source.len();
    let start = usize::try_from(range.start).unwrap_or(usize::MAX).min(len);
    let end = usize::try_from(range.end).unwrap_or(usize::MAX).min(len);
    let bytes = input.source.bytes();
    // Walk to the range in coarse steps (one quote-aware pass, no per-record units), then
    // record by record from the last coarse boundary before it.
    let mut released = 0;
    let from = input.layout.record_start_before(bytes, start, target.max(1), |passed| {
        if passed - released >= RELEASE_EVERY {
            input.source.release(released..passed);
            released = passed;
        }
    });
    let chunks = Box::new(RangeChunks {
        units: input.layout.chunks_from(bytes, from, 1),
        source: &input.source,
        range: start..end.max(start),
        target: target.max(1),
        released,
        pending: None,
        done: false,
    });
    let (tally, counts) = run_chunks(input, pipeline, filters, sink, progress, chunks, 0)?;
    Ok(RangeScan { tally, counts })
}

/// Bytes walked past before a range are released (made non-resident) in steps of this size.
const RELEASE_EVERY: usize = 64 << 20;

/// Chunks of the records starting inside a byte range: the chunker's finest units (one
/// record boundary to the next) that start in the range, grouped to about `target` bytes.
/// Units that carry their own bytes (an SQL statement's context in front) are passed on alone.
struct RangeChunks<'a> {
    units: Box<dyn Iterator<Item = Chunk<'a>> + Send + 'a>,
    source: &'a Source,
    range: std::ops::Range<usize>,
    target: usize,
    /// Bytes before the range already released (mapped pages touched by the quote pass).
    released: usize,
    /// An owned unit met while a borrowed group was being built: the next item.
    pending: Option<Chunk<'a>>,
    done: bool,
}

impl<'a> Iterator for RangeChunks<'a> {
    type Item = Chunk<'a>;

    fn next(&mut self) -> Option<Chunk<'a>> {
        if let Some(unit) = self.pending.take() {
            return Some(unit);
        }
        let mut cur: Option<std::ops::Range<usize>> = None;
        while !self.done {
            let Some(unit) = self.units.next() else { break };
            let start = unit.base as usize;
            let end = start + unit.span;
            if start < self.range.start {
                if end - self.released >= RELEASE_EVERY {
                    self.source.release(self.released..end);
                    self.released = end;
                }
                continue;
            }
            if start >= self.range.end {
                self.done = true;
                break;
            }
            if let std::borrow::Cow::Owned(_) = unit.bytes {
                if cur.is_none() {
                    return Some(unit);
                }
                self.pending = Some(unit);
                break;
            }
            let r = cur.get_or_insert(start..start);
            r.end = end;
            if r.len() >= self.target {
                break;
            }
        }
        let bytes = self.source.bytes();
        cur.map(|r| Chunk {
            base: r.start as u64,
            span: r.len(),
            bytes: std::borrow::Cow::Borrowed(&bytes[r]),
            strays: 0,
        })
    }
}

/// What a worker needs to handle the events of one chunk.
struct ChunkCtx<'a, 'p> {
    fields: &'a FieldMap,
    sink: &'a Sink<'a>,
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
                let tokens = *self.worker.record(self.tally, |f| record.get(fields.get(f)?));
                self.worker.batch.tokens.push(tokens);
                self.worker.batch.positions.push(pos(p));
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
        (self.sink)(self.tally, &self.worker.batch);
        self.worker.batch.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dump::Source;
    use proptest::prelude::*;

    /// Runs the whole pipeline (without filters) over `bytes` with chunks of `target` bytes.
    fn tally(bytes: &[u8], target: usize) -> Tally {
        tally_as(bytes, target, None)
    }

    /// [`tally`] reading `bytes` as `format` (`None`: detected).
    fn tally_as(bytes: &[u8], target: usize, format: Option<dump::Format>) -> Tally {
        let source = Source::from_bytes("t", bytes.to_vec());
        let input = Prepared::from_source_as(source, format, &[]).unwrap();
        let kinds = [Kind::Kvnr, Kind::Email, Kind::NameDob];
        let pipeline = Tokenize::new(Key::from_bytes([1; 32]).tokenizer(), &kinds);
        let seen = std::sync::Mutex::new(Vec::new());
        let sink = |_: &mut Tally, b: &Batch| seen.lock().unwrap().extend_from_slice(&b.tokens);
        let mut t = run_input_chunked(&input, &pipeline, 0, &sink, &|_| {}, target).unwrap();
        // Fold the multiset of tokens into the tally so that the comparison covers them.
        let mut tokens = seen.into_inner().unwrap();
        tokens.sort();
        t.birth_years.push(xxhash_rust::xxh3::xxh3_64(format!("{tokens:?}").as_bytes()));
        t
    }

    fn field() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("A123456780".to_string()),
            Just("z987654321".to_string()),
            Just("Müller".to_string()),
            Just("\"Groß, Jörg\"".to_string()),
            Just("\"line\nbreak\"".to_string()),
            Just("\"say \"\"hi\"\"\"".to_string()),
            Just("a@b.de".to_string()),
            Just("15.03.1961".to_string()),
            Just(String::new()),
            "[a-z ]{0,6}",
        ]
    }

    fn csv() -> impl Strategy<Value = Vec<u8>> {
        let row = proptest::collection::vec(field(), 0..6);
        (proptest::collection::vec(row, 0..60), any::<bool>(), any::<bool>()).prop_map(
            |(rows, crlf, bom)| {
                let nl = if crlf { "\r\n" } else { "\n" };
                let mut s = String::new();
                if bom {
                    s.push('\u{feff}');
                }
                s.push_str("KVNR;E-Mail;Nachname;Vorname;Geburtsdatum");
                s.push_str(nl);
                for r in rows {
                    s.push_str(&r.join(";"));
                    s.push_str(nl);
                }
                s.into_bytes()
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn chunked_scan_equals_sequential_scan(bytes in csv(), target in 1usize..200) {
            let sequential = tally(&bytes, usize::MAX);
            let chunked = tally(&bytes, target);
            prop_assert_eq!(chunked, sequential);
        }
    }

    /// Scans `bytes` as ranges cut at `cuts` (sorted, deduplicated byte offsets) and merges
    /// the shards' tallies, shifting positions by the records and lines of earlier ranges.
    fn range_tally(bytes: &[u8], cuts: &[usize], target: usize) -> Tally {
        range_tally_as(bytes, cuts, target, None)
    }

    /// [`range_tally`] reading `bytes` as `format` (`None`: detected).
    fn range_tally_as(
        bytes: &[u8],
        cuts: &[usize],
        target: usize,
        format: Option<dump::Format>,
    ) -> Tally {
        let source = Source::from_bytes("t", bytes.to_vec());
        let input = Prepared::from_source_as(source, format, &[]).unwrap();
        let kinds = [Kind::Kvnr, Kind::Email, Kind::NameDob];
        let pipeline = Tokenize::new(Key::from_bytes([1; 32]).tokenizer(), &kinds);
        let seen = std::sync::Mutex::new(Vec::new());
        let sink = |_: &mut Tally, b: &Batch| seen.lock().unwrap().extend_from_slice(&b.tokens);
        let mut bounds = vec![0];
        bounds.extend_from_slice(cuts);
        bounds.push(bytes.len() + 5);
        let mut total = Tally::new(0);
        let (mut records, mut lines) = (0, input.layout.dialect.body_lines);
        for w in bounds.windows(2) {
            let range = w[0] as u64..w[1] as u64;
            let mut r =
                run_input_range(&input, &pipeline, 0, &sink, &|_| {}, range, target).unwrap();
            for p in r.tally.first_malformed.iter_mut().flatten() {
                p.record += records;
                p.line += lines;
            }
            records += r.counts.records;
            lines += r.counts.lines;
            total.merge(&r.tally);
        }
        let mut tokens = seen.into_inner().unwrap();
        tokens.sort();
        total.birth_years.push(xxhash_rust::xxh3::xxh3_64(format!("{tokens:?}").as_bytes()));
        total
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn range_shards_read_every_record_exactly_once(
            bytes in csv(),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
            target in 1usize..100,
        ) {
            let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
            cuts.sort_unstable();
            cuts.dedup();
            let whole = tally(&bytes, usize::MAX);
            prop_assert_eq!(range_tally(&bytes, &cuts, target), whole);
        }
    }

    fn jsonl() -> impl Strategy<Value = Vec<u8>> {
        let line = prop_oneof![
            Just("{\"kvnr\":\"A123456780\",\"email\":\"a@b.de\"}\n".to_string()),
            Just("{\"email\":\"c@d.de\",\"name\":\"Groß, Jörg\"}\r\n".to_string()),
            Just("{\"kvnr\":\"z987654321\"}\n".to_string()),
            Just("\n".to_string()),
            Just("{broken\n".to_string()),
        ];
        proptest::collection::vec(line, 1..40)
            .prop_map(|l| format!("{{\"kvnr\":\"A123456780\"}}\n{}", l.concat()).into_bytes())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(100))]
        #[test]
        fn jsonl_range_shards_read_every_record_exactly_once(
            bytes in jsonl(),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
            target in 1usize..100,
        ) {
            let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
            cuts.sort_unstable();
            cuts.dedup();
            let json = Some(dump::Format::JsonLines);
            let whole = tally_as(&bytes, usize::MAX, json);
            prop_assert!(whole.records > 0);
            prop_assert_eq!(range_tally_as(&bytes, &cuts, target, json), whole);
        }
    }

    #[test]
    fn a_quoted_newline_belongs_to_the_range_of_its_record_start() {
        let bytes = b"KVNR;E-Mail\nA123456780;\"a@b.de\nx\"\nZ987654321;c@d.de\n".to_vec();
        let newline_in_quotes = bytes.iter().position(|&b| b == b'x').unwrap() - 1;
        for cut in [newline_in_quotes, newline_in_quotes + 1, 12, 13, 30] {
            let t = range_tally(&bytes, &[cut], 1);
            assert_eq!(t.records, 2, "cut at {cut}");
        }
    }

    #[test]
    fn positions_are_file_wide_and_one_based() {
        let mut s = String::from("KVNR;E-Mail\n");
        for i in 0..50 {
            s.push_str(&format!("A123456780;x{i}@y.de\n"));
        }
        s.push_str("A123456780\n"); // ragged: record 51, line 52
        let bytes = s.into_bytes();
        for target in [1, 7, 100, usize::MAX] {
            let t = tally(&bytes, target);
            let p = t.first_malformed[Malformed::Ragged as usize].expect("ragged counted");
            assert_eq!((p.record, p.line), (51, 52), "target {target}");
            assert_eq!(p.byte as usize, bytes.len() - "A123456780\n".len());
        }
    }
}
