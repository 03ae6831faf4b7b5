//! Cutting a delimited body into record-aligned chunks for parallel parsing (README "Input formats").
//!
//! Splitting at every `\n` is wrong: a quoted field may hold newlines (frawk's notes). One fast
//! sequential pass (`memchr3` over quote, `\n`, `\r` outside quotes, `memchr` over the quote
//! inside) tracks whether each newline lies inside a quoted field, and chunk boundaries are
//! placed just after newlines that do not.
//!
//! # Assumption and exactness
//!
//! The pass mirrors the state machine of `csv-core` as configured in [`super::delimited`]
//! (RFC 4180 quoting, `""` as the escape, CR, LF and CRLF as terminators):
//! a quote opens a quoted field only at the start of a field (first byte of the body, or after
//! the delimiter, `\r` or `\n`); inside, `""` is an escaped quote (it "flips twice"), a single
//! quote closes the field; a quote in the middle of an unquoted field is a literal byte. So every
//! boundary is a record boundary of the sequential parse, and chunked parsing equals sequential
//! parsing for any input (property-tested in `delimited`).
//!
//! # Stray quotes
//!
//! A stray unbalanced quote must not swallow the rest of the file. A quote that opens a field
//! is *stray* when its field does not close properly: no closing quote within [`MAX_RECORD`]
//! bytes of the record's start (or before the end of the data), or a closing quote followed
//! by something other than the delimiter, a line end or the end of the data. The record is
//! then taken to end at the first `\n` after the stray quote: that one record (its stray
//! segment) is skipped and counted as a syntax error, and reading goes on
//! at the next line. The parser finds the same segments on its chunk and skips them, so
//! chunked and sequential parsing still agree. A record with no terminator within
//! `MAX_RECORD` bytes and no quote open is cut at the first `\n` at or after that limit.

// Reviewed (#11): indices come from memchr hits and `at < data.len()` loop bounds; `at - 1` only
// after `at > 0`.
#![allow(clippy::indexing_slicing)]

use std::ops::Range;

/// Longest record (bytes from its start to its terminator) that is parsed; longer records are
/// skipped and counted, and a stray quote cannot hide more than this much of the file.
pub const MAX_RECORD: usize = 1 << 20;

/// The two bytes that decide where quoted fields start and end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quoting {
    /// The quote byte, usually `"`.
    pub quote: u8,
    /// The field delimiter: a quote opens a field only after it (or at a record start).
    pub delimiter: u8,
}

/// Chunks of a body and what the pre-pass noticed on the way.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChunkPlan {
    /// Record-aligned, contiguous, covering `data[body_start..]` exactly once.
    pub chunks: Vec<Range<usize>>,
    /// Byte offsets of opening quotes that were still open [`MAX_RECORD`] bytes into their
    /// record and so were treated as stray.
    pub stray_quotes: Vec<usize>,
}

/// Cuts `data[body_start..]` into record-aligned chunks of about `target` bytes (at least one
/// record each, so a chunk may be longer). An empty body gives no chunk.
pub fn chunks(data: &[u8], body_start: usize, quoting: Quoting, target: usize) -> ChunkPlan {
    plan(data, body_start, quoting, target, MAX_RECORD)
}

/// [`chunks`] with a configurable record bound (tests use tiny ones).
pub(crate) fn plan(
    data: &[u8],
    body_start: usize,
    quoting: Quoting,
    target: usize,
    max_record: usize,
) -> ChunkPlan {
    let mut out = ChunkPlan::default();
    let mut iter = ChunkIter::with_max_record(data, body_start, quoting, target, max_record);
    for (range, _) in iter.by_ref() {
        out.chunks.push(range);
    }
    out.stray_quotes = iter.scan.stray_quotes;
    out
}

/// The stray segments of `data` (a chunk, starting at a record start): for each stray quote,
/// its record from its start to just after the first `\n` after the quote (or the end).
pub(crate) fn stray_segments(
    data: &[u8],
    quoting: Quoting,
    max_record: usize,
) -> Vec<Range<usize>> {
    if memchr::memchr(quoting.quote, data).is_none() {
        return Vec::new();
    }
    let mut scan = Boundaries::new(data, 0, quoting, max_record.max(1));
    while scan.next_boundary().is_some() {}
    scan.stray_segments
}

/// The offset just after the last record boundary of `data` (which starts at a record start,
/// outside quotes), and the stray quotes before it: where a stream's pending bytes can be cut.
/// 0 when `data` holds no complete record. With `eof`, `data` is the rest of the input (a
/// quote open at its end is stray).
pub(crate) fn last_boundary(data: &[u8], quoting: Quoting, eof: bool) -> (usize, usize) {
    let mut scan = Boundaries::new(data, 0, quoting, MAX_RECORD);
    scan.eof = eof;
    let mut last = 0;
    while let Some(end) = scan.next_boundary() {
        last = end;
    }
    (last, scan.stray_quotes.iter().filter(|&&q| q < last).count())
}

/// The chunks of [`chunks`], cut lazily: the quote pre-pass runs only as far as the consumer
/// has asked. Fed to rayon's `par_bridge`, the pre-pass stays a few chunks ahead of the
/// parsers instead of touching the whole file first (which would make a mapped file fully
/// resident). Each item is a chunk and the number of stray quotes found in it.
pub struct ChunkIter<'a> {
    scan: Boundaries<'a>,
    start: usize,
    target: usize,
    strays_reported: usize,
    done: bool,
    /// Quote-free stretches are cut at a `\n` found by `memchr` (off only in tests).
    quote_free_cut: bool,
}

impl<'a> ChunkIter<'a> {
    /// Chunks of about `target` bytes of `data[body_start..]`, as [`chunks`] cuts them.
    pub fn new(data: &'a [u8], body_start: usize, quoting: Quoting, target: usize) -> Self {
        ChunkIter::with_max_record(data, body_start, quoting, target, MAX_RECORD)
    }

    fn with_max_record(
        data: &'a [u8],
        body_start: usize,
        quoting: Quoting,
        target: usize,
        max_record: usize,
    ) -> Self {
        ChunkIter {
            scan: Boundaries::new(data, body_start, quoting, max_record.max(1)),
            start: body_start.min(data.len()),
            target: target.max(1),
            strays_reported: 0,
            done: false,
            quote_free_cut: true,
        }
    }

    /// The next chunk when the `target` bytes from its start up to the first `\n` after them
    /// hold no quote byte: then every `\n` is a record boundary (nothing can be quoted, and a
    /// record longer than the record bound is cut at its first `\n` anyway), so the chunk
    /// ends just after that `\n`, as the record-by-record walk of [`Boundaries`] would cut
    /// it. `None` (nothing changed) otherwise.
    fn quote_free_chunk(&mut self) -> Option<Range<usize>> {
        let scan = &mut self.scan;
        let at_record_start = scan.pos == self.start && scan.record_start == self.start;
        if !self.quote_free_cut || !at_record_start || scan.open_quote.is_some() {
            return None;
        }
        let from = self.start.checked_add(self.target - 1)?;
        let lf = from + memchr::memchr(b'\n', scan.data.get(from..)?)?;
        memchr::memchr(scan.quoting.quote, &scan.data[self.start..=lf]).is_none().then(|| {
            scan.pos = lf + 1;
            scan.record_start = lf + 1;
            let range = self.start..lf + 1;
            self.start = lf + 1;
            range
        })
    }

    fn new_strays(&mut self) -> usize {
        let n = self.scan.stray_quotes.len() - self.strays_reported;
        self.strays_reported = self.scan.stray_quotes.len();
        n
    }
}

impl Iterator for ChunkIter<'_> {
    type Item = (Range<usize>, usize);

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if let Some(range) = self.quote_free_chunk() {
            return Some((range, 0));
        }
        while let Some(end) = self.scan.next_boundary() {
            if end - self.start >= self.target {
                let range = self.start..end;
                self.start = end;
                return Some((range, self.new_strays()));
            }
        }
        self.done = true;
        let len = self.scan.data.len();
        (self.start < len).then(|| (self.start..len, self.new_strays()))
    }
}

/// Iterator state over the record boundaries (offsets just after a `\n` outside quotes).
struct Boundaries<'a> {
    data: &'a [u8],
    quoting: Quoting,
    max_record: usize,
    /// Offset of the first byte of the body: a quote there opens a field.
    body_start: usize,
    /// Next byte to look at.
    pos: usize,
    /// Just after the last record terminator (`\r` or `\n`) outside quotes.
    record_start: usize,
    /// Offset of the opening quote while inside a quoted field.
    open_quote: Option<usize>,
    stray_quotes: Vec<usize>,
    /// The record of each stray quote, up to just after the next `\n`.
    stray_segments: Vec<Range<usize>>,
    /// Whether the data ends here (else a quote open at the end may close in more data).
    eof: bool,
}

impl<'a> Boundaries<'a> {
    fn new(data: &'a [u8], body_start: usize, quoting: Quoting, max_record: usize) -> Self {
        let body_start = body_start.min(data.len());
        Boundaries {
            data,
            quoting,
            max_record,
            body_start,
            pos: body_start,
            record_start: body_start,
            open_quote: None,
            stray_quotes: Vec::new(),
            stray_segments: Vec::new(),
            eof: true,
        }
    }

    /// The next offset just after a `\n` that ends a record, or `None` at the end of data.
    fn next_boundary(&mut self) -> Option<usize> {
        let q = self.quoting.quote;
        loop {
            let deadline = self.record_start.saturating_add(self.max_record);
            if self.pos >= deadline {
                if let Some(open) = self.open_quote {
                    return self.stray(open);
                }
                return self.cut_at_limit(deadline);
            }
            let end = deadline.min(self.data.len());
            if let Some(open) = self.open_quote {
                let Some(k) = memchr::memchr(q, &self.data[self.pos..end]) else {
                    if end == self.data.len() && !self.eof {
                        self.pos = end;
                        return None;
                    }
                    return self.stray(open);
                };
                let at = self.pos + k;
                match self.data.get(at + 1) {
                    Some(&b) if b == q => self.pos = at + 2, // `""`: an escaped quote.
                    None if !self.eof => {
                        self.pos = at;
                        return None;
                    }
                    Some(&b) if !matches!(b, b'\n' | b'\r') && b != self.quoting.delimiter => {
                        return self.stray(open);
                    }
                    _ => {
                        self.pos = at + 1;
                        self.open_quote = None;
                    }
                }
                continue;
            }
            let Some(k) = memchr::memchr3(q, b'\n', b'\r', &self.data[self.pos..end]) else {
                self.pos = end;
                if end == self.data.len() {
                    return None;
                }
                continue; // Reached the deadline outside quotes.
            };
            let at = self.pos + k;
            self.pos = at + 1;
            match self.data[at] {
                b'\n' => {
                    self.record_start = at + 1;
                    return Some(at + 1);
                }
                b'\r' => self.record_start = at + 1,
                _ if self.opens_field(at) => self.open_quote = Some(at),
                _ => {} // A literal quote inside an unquoted field.
            }
        }
    }

    /// The quote at `open` is stray: its record ends just after the first `\n` after it.
    fn stray(&mut self, open: usize) -> Option<usize> {
        self.open_quote = None;
        self.stray_quotes.push(open);
        let end = memchr::memchr(b'\n', &self.data[open..]).map(|k| open + k + 1);
        self.stray_segments.push(self.record_start..end.unwrap_or(self.data.len()));
        self.pos = end.unwrap_or(self.data.len());
        self.record_start = self.pos;
        end
    }

    /// Whether a quote at `at` (outside quotes) starts a quoted field.
    fn opens_field(&self, at: usize) -> bool {
        at == self.body_start
            || matches!(self.data[at - 1], b'\n' | b'\r')
            || self.data[at - 1] == self.quoting.delimiter
    }

    /// The record starting at `record_start` has no terminator before `deadline`: cut it at
    /// the first `\n` at or after the deadline and continue outside quotes from there.
    fn cut_at_limit(&mut self, deadline: usize) -> Option<usize> {
        self.open_quote = None;
        let from = deadline.min(self.data.len());
        match memchr::memchr(b'\n', &self.data[from..]) {
            Some(k) => {
                self.pos = from + k + 1;
                self.record_start = self.pos;
                Some(self.pos)
            }
            None => {
                self.pos = self.data.len();
                None
            }
        }
    }
}

/// Offset just after the run of `\r`/`\n` bytes starting at `from`: where the next record's
/// content begins. Shared by the parser so that both measure records from the same start.
pub(crate) fn skip_terminators(data: &[u8], from: usize) -> usize {
    let mut i = from;
    while i < data.len() && matches!(data[i], b'\n' | b'\r') {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const COMMA: Quoting = Quoting { quote: b'"', delimiter: b',' };

    fn cuts(data: &[u8], target: usize) -> Vec<Range<usize>> {
        chunks(data, 0, COMMA, target).chunks
    }

    #[test]
    fn never_cuts_inside_a_quoted_newline() {
        let data = b"a,\"x\ny\",b\nc,d\n";
        assert_eq!(cuts(data, 1), vec![0..10, 10..14]);
    }

    #[test]
    fn doubled_quote_flips_twice() {
        let data = b"\"a\"\"\nb\"\nc\n";
        assert_eq!(cuts(data, 1), vec![0..8, 8..10]);
    }

    #[test]
    fn quote_inside_unquoted_field_is_literal() {
        let data = b"ab\"c\nd\n";
        assert_eq!(cuts(data, 1), vec![0..5, 5..7]);
    }

    #[test]
    fn quote_closed_before_garbage_is_stray() {
        let data = b"a,\"x\"y,b\nc,d\n";
        let plan = chunks(data, 0, COMMA, 1);
        assert_eq!(plan.stray_quotes, vec![2]);
        assert_eq!(plan.chunks, vec![0..9, 9..13]);
    }

    #[test]
    fn stray_quote_is_cut_after_its_line_and_recorded() {
        let mut data = b"x,\"open\n".to_vec();
        data.extend_from_slice(&b"aaaaaaaaa\n".repeat(10));
        let plan = plan(&data, 0, COMMA, 1, 32);
        assert_eq!(plan.stray_quotes, vec![2]);
        assert_eq!(plan.chunks[0], 0..8, "cut at the first newline after the stray quote");
        assert_eq!(plan.chunks.len(), 11, "the rest of the file is not swallowed");
        let small = chunks(&data, 0, COMMA, 1);
        assert_eq!(small.chunks.len(), 11, "also when the file ends before the record bound");
        assert_eq!(stray_segments(&data, COMMA, MAX_RECORD), vec![0..8]);
    }

    #[test]
    fn empty_body_gives_no_chunk() {
        assert!(cuts(b"", 4).is_empty());
        assert!(chunks(b"h1,h2\n", 6, COMMA, 4).chunks.is_empty());
    }

    proptest! {
        #[test]
        fn quote_free_cut_equals_the_record_walk(
            data in proptest::collection::vec(
                prop::sample::select(b"aaaaaaaa,,\n\r \"".to_vec()), 0..400),
            body_start in 0usize..20,
            target in 1usize..100,
            max_record in prop_oneof![1usize..80, Just(MAX_RECORD)],
        ) {
            let body_start = body_start.min(data.len());
            let walk = |fast: bool| {
                let mut iter = ChunkIter::with_max_record(&data, body_start, COMMA, target, max_record);
                iter.quote_free_cut = fast;
                let chunks: Vec<_> = iter.by_ref().collect();
                (chunks, iter.scan.stray_quotes, iter.scan.stray_segments)
            };
            prop_assert_eq!(walk(true), walk(false));
        }

        #[test]
        fn chunks_cover_the_body_exactly_once(
            data in proptest::collection::vec(
                prop::sample::select(b"a,\"\n\r ".to_vec()), 0..300),
            body_start in 0usize..20,
            target in 1usize..64,
            max_record in 1usize..80,
        ) {
            let body_start = body_start.min(data.len());
            let plan = plan(&data, body_start, COMMA, target, max_record);
            let mut at = body_start;
            for c in &plan.chunks {
                prop_assert_eq!(c.start, at);
                prop_assert!(c.end > c.start);
                at = c.end;
                if c.end < data.len() {
                    prop_assert_eq!(data[c.end - 1], b'\n');
                }
            }
            prop_assert_eq!(at, data.len());
        }
    }
}
