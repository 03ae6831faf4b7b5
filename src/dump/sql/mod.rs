//! SQL dumps: MySQL and PostgreSQL `INSERT INTO t (cols) VALUES (..),(..);` and PostgreSQL
//! `COPY t (cols) FROM stdin;` blocks.
//!
//! One scanner finds the units of a dump: a tuple of an `INSERT`, a row of a `COPY` block,
//! or any other statement or comment. The chunker cuts only between units and the reader reads
//! the same units, so chunked and sequential reading agree. Every chunk carries the state it
//! starts in, as `\0header\0` (`\0\0` between statements): its bytes are not
//! input, count neither as lines nor as records, and the chunk's base is the offset of the
//! first byte after it.
//!
//! Strings are `'…'` with `''` and, for MySQL, backslash escapes (off for dumps that say
//! "PostgreSQL"); `NULL` and `\N` are absent values; numbers are text. Columns are named by the
//! statement, or by the table's `CREATE TABLE` in the detection sample; `Layout::columns`
//! holds every name seen there, and a value whose column has another name is not read.
//! A unit longer than `MAX_RECORD` bytes is skipped as oversized up to the next line; a unit
//! that does not parse is skipped as a syntax error up to the next line.

// Reviewed (#11): the statement scanner indexes `data` only at positions below `data.len()` (loop
// bounds, `find` results); `at - 1` after `at == 0 ||`.
#![allow(clippy::indexing_slicing)]

mod read;

pub use read::{layout, split, SqlChunks, SqlReader};

use super::chunk::MAX_RECORD;
use crate::dump::Malformed;

/// What the detection sample says about the dump.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SqlInfo {
    /// Backslash escapes in strings (MySQL); off for PostgreSQL.
    pub backslash: bool,
    /// Column names of tables created in the sample (`CREATE TABLE`), by table name.
    pub tables: Vec<(String, Vec<String>)>,
}

/// Where the scanner is.
#[derive(Clone, Debug, PartialEq, Eq)]
enum State {
    /// Between statements.
    Top,
    /// Inside `INSERT ... VALUES`, before a tuple; the header up to `VALUES`.
    Values(Vec<u8>),
    /// Inside a `COPY ... FROM stdin;` block; its header.
    Copy(Vec<u8>),
}

/// One unit of a dump.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// An `INSERT` tuple; the range between its parentheses.
    Tuple(usize, usize),
    /// A `COPY` row; the range of the line.
    Row(usize, usize),
    /// Any other statement or comment.
    Other,
    /// A unit that is skipped.
    Bad(Malformed),
}

/// A unit: its kind, where its content starts, and the offset just after it.
struct Unit {
    kind: Kind,
    start: usize,
    end: usize,
}

impl Unit {
    /// An oversized unit longer than `len` bytes: it ends at the first `\n` at or after
    /// `start + MAX_RECORD`, so its bytes from there to its end hold no other `\n`.
    fn oversized_beyond(&self, len: usize) -> bool {
        self.kind == Kind::Bad(Malformed::Oversized) && self.end - self.start > len
    }
}

/// Finds units; the state carries across calls.
struct Scanner<'i> {
    info: &'i SqlInfo,
    state: State,
}

fn starts_ci(data: &[u8], word: &[u8]) -> bool {
    data.len() >= word.len() && data[..word.len()].eq_ignore_ascii_case(word)
}

/// Whether the keyword `VALUES` (not part of a longer name) starts at `at`.
fn is_values(data: &[u8], at: usize) -> bool {
    let word = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    starts_ci(&data[at..], b"VALUES")
        && (at == 0 || !word(&data[at - 1]))
        && !data.get(at + 6).is_some_and(word)
}

fn skip_ws(data: &[u8], mut at: usize) -> usize {
    while at < data.len() && data[at].is_ascii_whitespace() {
        at += 1;
    }
    at
}

/// Result of looking for something: found at, or not in the data (more may come), or too far.
enum Find {
    At(usize),
    Missing,
    TooLong,
}

impl Scanner<'_> {
    /// Where the string or quoted name opened at `at` ends (just after its closing quote),
    /// looking no further than `limit`.
    fn after_quoted(&self, data: &[u8], at: usize, limit: usize, eof: bool) -> Find {
        let q = data[at];
        let end = limit.min(data.len());
        let mut i = at + 1;
        while i < end {
            let Some(k) = memchr::memchr2(q, b'\\', &data[i..end]) else { break };
            let j = i + k;
            if data[j] == b'\\' {
                i = j + if self.info.backslash && q == b'\'' { 2 } else { 1 };
                continue;
            }
            match data.get(j + 1) {
                Some(&n) if n == q => i = j + 2,
                None if !eof => return Find::Missing,
                _ => return Find::At(j + 1),
            }
        }
        if end < data.len() || limit <= data.len() {
            Find::TooLong
        } else {
            Find::Missing
        }
    }

    /// The first byte from `at` for which `stop(byte, depth)` holds outside quotes, within
    /// [`MAX_RECORD`] bytes of `from`; parentheses tracked as depth.
    fn find(
        &self,
        data: &[u8],
        from: usize,
        at: usize,
        eof: bool,
        stop: impl Fn(u8, i32) -> bool,
    ) -> Find {
        let (mut i, mut depth) = (at, 0i32);
        let limit = from.saturating_add(MAX_RECORD);
        while i < data.len() {
            if i >= limit {
                return Find::TooLong;
            }
            let b = data[i];
            if stop(b, depth) {
                return Find::At(i);
            }
            match b {
                b'\'' | b'"' | b'`' => match self.after_quoted(data, i, limit, eof) {
                    Find::At(next) => i = next,
                    other => return other,
                },
                b'(' => (depth, i) = (depth + 1, i + 1),
                b')' => (depth, i) = (depth - 1, i + 1),
                _ => i += 1,
            }
        }
        Find::Missing
    }

    /// A unit skipped from `start` to the first `\n` at or after `from` (state back to Top).
    fn skip_line(
        &mut self,
        data: &[u8],
        start: usize,
        from: usize,
        eof: bool,
        why: Malformed,
    ) -> Option<Unit> {
        self.state = State::Top;
        let from = from.min(data.len());
        let end = match memchr::memchr(b'\n', &data[from..]) {
            Some(k) => from + k + 1,
            None if eof => data.len(),
            None => return None,
        };
        Some(Unit { kind: Kind::Bad(why), start, end })
    }

    /// The next unit from `at`, or `None` at the end of the data or when more is needed.
    fn next(&mut self, data: &[u8], at: usize, eof: bool) -> Option<Unit> {
        let start = skip_ws(data, at);
        if start >= data.len() {
            return None;
        }
        match self.state.clone() {
            State::Top => self.statement(data, start, eof),
            State::Values(_) => self.tuple(data, start, eof),
            State::Copy(_) => self.row(data, at, eof),
        }
    }

    fn statement(&mut self, data: &[u8], start: usize, eof: bool) -> Option<Unit> {
        let rest = &data[start..];
        if rest.starts_with(b"--") || rest.starts_with(b"#") {
            return match memchr::memchr(b'\n', rest) {
                Some(k) => Some(Unit { kind: Kind::Other, start, end: start + k + 1 }),
                None if eof => Some(Unit { kind: Kind::Other, start, end: data.len() }),
                None => None,
            };
        }
        let insert = ["INSERT", "REPLACE"].iter().any(|w| starts_ci(rest, w.as_bytes()));
        let copy = starts_ci(rest, b"COPY ");
        let found = self.find(data, start, start, eof, |b, d| {
            b == b';' || (insert && d == 0 && (b == b'V' || b == b'v'))
        });
        let at = match found {
            Find::At(at) if data[at] != b';' && !is_values(data, at) => {
                return self.statement_from(data, start, at + 1, eof, insert, copy);
            }
            Find::At(at) => at,
            Find::Missing if eof => {
                return Some(Unit { kind: Kind::Bad(Malformed::Syntax), start, end: data.len() })
            }
            Find::Missing => return None,
            Find::TooLong => {
                return self.skip_line(data, start, start + MAX_RECORD, eof, Malformed::Oversized)
            }
        };
        self.finish_statement(data, start, at, eof, insert, copy)
    }

    /// Continues [`Scanner::statement`] after a `v` that did not start `VALUES`.
    fn statement_from(
        &mut self,
        data: &[u8],
        start: usize,
        from: usize,
        eof: bool,
        insert: bool,
        copy: bool,
    ) -> Option<Unit> {
        let mut from = from;
        loop {
            let found = self.find(data, start, from, eof, |b, d| {
                b == b';' || (d == 0 && (b == b'V' || b == b'v'))
            });
            match found {
                Find::At(at) if data[at] != b';' && !is_values(data, at) => from = at + 1,
                Find::At(at) => return self.finish_statement(data, start, at, eof, insert, copy),
                Find::Missing if eof => {
                    return Some(Unit {
                        kind: Kind::Bad(Malformed::Syntax),
                        start,
                        end: data.len(),
                    })
                }
                Find::Missing => return None,
                Find::TooLong => {
                    return self.skip_line(
                        data,
                        start,
                        start + MAX_RECORD,
                        eof,
                        Malformed::Oversized,
                    )
                }
            }
        }
    }

    /// A statement from `start` whose `;` (or, for an insert, `VALUES`) is at `at`.
    fn finish_statement(
        &mut self,
        data: &[u8],
        start: usize,
        at: usize,
        eof: bool,
        insert: bool,
        copy: bool,
    ) -> Option<Unit> {
        if insert && data[at] != b';' {
            let end = at + b"VALUES".len();
            if end > data.len() {
                return if eof {
                    Some(Unit { kind: Kind::Bad(Malformed::Syntax), start, end: data.len() })
                } else {
                    None
                };
            }
            self.state = State::Values(data[start..end].to_vec());
            return Some(Unit { kind: Kind::Other, start, end });
        }
        if copy && data[start..at].windows(10).any(|w| w.eq_ignore_ascii_case(b"FROM stdin")) {
            let end = match memchr::memchr(b'\n', &data[at..]) {
                Some(k) => at + k + 1,
                None if eof => data.len(),
                None => return None,
            };
            self.state = State::Copy(data[start..=at].to_vec());
            return Some(Unit { kind: Kind::Other, start, end });
        }
        Some(Unit { kind: Kind::Other, start, end: at + 1 })
    }

    fn tuple(&mut self, data: &[u8], start: usize, eof: bool) -> Option<Unit> {
        if data[start] != b'(' {
            if data[start] == b';' {
                self.state = State::Top;
                return Some(Unit { kind: Kind::Other, start, end: start + 1 });
            }
            return self.skip_line(data, start, start, eof, Malformed::Syntax);
        }
        let close = match self.find(data, start, start + 1, eof, |b, d| b == b')' && d == 0) {
            Find::At(i) => i,
            Find::Missing if eof => {
                return self.skip_line(data, start, data.len(), eof, Malformed::Syntax)
            }
            Find::Missing => return None,
            Find::TooLong => {
                return self.skip_line(data, start, start + MAX_RECORD, eof, Malformed::Oversized)
            }
        };
        let after = skip_ws(data, close + 1);
        let end = match data.get(after) {
            Some(b',') => after + 1,
            Some(b';') => {
                self.state = State::Top;
                after + 1
            }
            None if !eof => return None,
            None => {
                self.state = State::Top;
                after
            }
            Some(_) => return self.skip_line(data, start, close, eof, Malformed::Syntax),
        };
        Some(Unit { kind: Kind::Tuple(start + 1, close), start, end })
    }

    fn row(&mut self, data: &[u8], start: usize, eof: bool) -> Option<Unit> {
        let end = match memchr::memchr(b'\n', &data[start..]) {
            Some(k) => start + k + 1,
            None if eof => data.len(),
            None if data.len() - start > MAX_RECORD => return None,
            None => return None,
        };
        let line = &data[start..end];
        let text = line.strip_suffix(b"\n").unwrap_or(line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if text.len() > MAX_RECORD {
            return Some(Unit { kind: Kind::Bad(Malformed::Oversized), start, end });
        }
        if text == b"\\." {
            self.state = State::Top;
            return Some(Unit { kind: Kind::Other, start, end });
        }
        if text.iter().all(u8::is_ascii_whitespace) {
            return Some(Unit { kind: Kind::Other, start, end });
        }
        Some(Unit { kind: Kind::Row(start, start + text.len()), start, end })
    }

    /// The `\0header\0` context for the current state (`\0\0` between statements). Every
    /// chunk starts with one, so that a NUL byte at the start of a chunk's data is never
    /// taken for a context.
    fn context(&self) -> Vec<u8> {
        match &self.state {
            State::Top => vec![0, 0],
            State::Values(h) | State::Copy(h) => {
                let mut c = Vec::with_capacity(h.len() + 2);
                c.push(0);
                c.extend(
                    h.iter().map(|&b| if b == b'\n' || b == b'\r' || b == 0 { b' ' } else { b }),
                );
                c.push(0);
                c
            }
        }
    }

    /// Sets the state from a chunk's leading context; returns where its content starts.
    fn enter(&mut self, chunk: &[u8]) -> usize {
        if chunk.first() != Some(&0) {
            return 0;
        }
        let Some(k) = memchr::memchr(0, &chunk[1..]) else { return 0 };
        let header = chunk[1..=k].to_vec();
        self.state = if header.is_empty() {
            State::Top
        } else if starts_ci(&header, b"COPY") {
            State::Copy(header)
        } else {
            State::Values(header)
        };
        k + 2
    }
}
