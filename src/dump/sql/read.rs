//! Layout detection, chunking and reading for SQL dumps, on top of the [`Scanner`].

// Reviewed (#11): offsets are scanner results inside the tuple (`unit.start..unit.end`, keyword and
// bracket positions found in the text); column indices are positions in `columns`/`wanted` built
// with one entry per column.
#![allow(clippy::indexing_slicing)]

use std::borrow::Cow;

use super::{starts_ci, Kind, Scanner, SqlInfo, State, MAX_RECORD};
use crate::dump::format::{Event, Fields, Format, Layout, RecordReader, Split};
use crate::dump::{map_columns, Chunk, ChunkStats, ColumnOverride, DumpError, Position};

/// Strips `` ` `` or `"` quotes and a schema prefix from a name.
fn bare(name: &[u8]) -> String {
    let name = name.trim_ascii();
    let name = name.rsplit(|&b| b == b'.').next().unwrap_or(name);
    String::from_utf8_lossy(name.trim_ascii()).trim_matches(|c| c == '`' || c == '"').to_owned()
}

/// Splits `text` at commas outside quotes and parentheses.
fn split_top(text: &[u8], backslash: bool) -> Vec<&[u8]> {
    let mut ranges = Vec::new();
    split_top_into(text, backslash, &mut ranges);
    ranges.into_iter().map(|(a, b)| &text[a..b]).collect()
}

/// [`split_top`] into a reused buffer of ranges.
fn split_top_into(text: &[u8], backslash: bool, out: &mut Vec<(usize, usize)>) {
    out.clear();
    let (mut depth, mut quote, mut from, mut i) = (0, None, 0, 0);
    while i < text.len() {
        let b = text[i];
        match quote {
            Some(q) if b == b'\\' && backslash && q == b'\'' => i += 1,
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None => match b {
                b'\'' | b'"' | b'`' => quote = Some(b),
                b'(' => depth += 1,
                b')' => depth -= 1,
                b',' if depth == 0 => {
                    out.push((from, i));
                    from = i + 1;
                }
                _ => {}
            },
        }
        i += 1;
    }
    let from = from.min(text.len());
    out.push((from, text.len()));
}

/// The table name and column names of an `INSERT`/`COPY` header or `CREATE TABLE` statement.
fn header_columns(header: &[u8], info: &SqlInfo) -> (String, Vec<String>) {
    let mut rest = header;
    for kw in ["INSERT", "IGNORE", "REPLACE", "INTO", "COPY", "CREATE", "TABLE", "IF NOT EXISTS"] {
        let t = rest.trim_ascii_start();
        if starts_ci(t, kw.as_bytes()) {
            rest = &t[kw.len()..];
        }
    }
    let rest = rest.trim_ascii_start();
    let name_end =
        rest.iter().position(|&b| b == b'(' || b.is_ascii_whitespace()).unwrap_or(rest.len());
    let table = bare(&rest[..name_end]);
    let after = rest[name_end..].trim_ascii_start();
    let Some(inner) = after.strip_prefix(b"(") else {
        let cols = info.tables.iter().find(|t| t.0 == table).map(|t| t.1.clone());
        return (table, cols.unwrap_or_default());
    };
    let close = inner.iter().rposition(|&b| b == b')').unwrap_or(inner.len());
    let skip = ["PRIMARY", "KEY", "UNIQUE", "CONSTRAINT", "INDEX", "FOREIGN", "CHECK", "FULLTEXT"];
    let cols = split_top(&inner[..close], info.backslash)
        .into_iter()
        .map(<[u8]>::trim_ascii)
        .filter(|d| !d.is_empty() && !skip.iter().any(|k| starts_ci(d, k.as_bytes())))
        .map(|d| bare(d.split(|b| b.is_ascii_whitespace()).next().unwrap_or(d)))
        .collect();
    (table, cols)
}

/// The layout of an SQL dump: escapes, tables and column names from the sample.
pub fn layout(data: &[u8], overrides: &[ColumnOverride]) -> Result<Layout, DumpError> {
    let dialect = Layout::text_dialect(data, b',')?;
    let head = &data[..data.len().min(crate::dump::decode::SAMPLE_LEN * 4)];
    let postgres = head.windows(10).any(|w| w.eq_ignore_ascii_case(b"postgresql"))
        || head.windows(10).any(|w| w.eq_ignore_ascii_case(b"FROM stdin"));
    let mut info = SqlInfo { backslash: !postgres, tables: Vec::new() };
    let mut columns: Vec<String> = Vec::new();
    let add = |cols: &[String], columns: &mut Vec<String>| {
        for c in cols {
            if !columns.contains(c) {
                columns.push(c.clone());
            }
        }
    };
    let mut scanner = Scanner {
        info: &SqlInfo { backslash: info.backslash, tables: Vec::new() },
        state: State::Top,
    };
    let mut at = dialect.body_start;
    let mut creates = Vec::new();
    while let Some(unit) = scanner.next(head, at, false) {
        let text = &head[unit.start..unit.end];
        if unit.kind == Kind::Other && starts_ci(text, b"CREATE TABLE") {
            creates.push(header_columns(text, &info));
        }
        at = unit.end;
    }
    info.tables = creates;
    for t in &info.tables {
        add(&t.1, &mut columns);
    }
    let mut scanner = Scanner { info: &info, state: State::Top };
    let mut at = dialect.body_start;
    while let Some(unit) = scanner.next(head, at, false) {
        if let State::Values(h) | State::Copy(h) = &scanner.state {
            add(&header_columns(h, &info).1, &mut columns);
        }
        at = unit.end;
    }
    let mapping = map_columns(&columns, overrides)?;
    Ok(Layout { format: Format::Sql, dialect, columns, mapping, sql: Some(info) })
}

/// Where a stream's pending `data` (starting with the state of `context`) can be cut.
pub fn split(layout: &Layout, data: &[u8], context: &[u8], eof: bool) -> Split {
    let info = layout.sql.clone().unwrap_or_default();
    let mut scanner = Scanner { info: &info, state: State::Top };
    let mut ctx = context.to_vec();
    ctx.extend_from_slice(data);
    let skip = scanner.enter(&ctx);
    let (mut at, mut end, mut state) = (skip, skip, scanner.context());
    while let Some(unit) = scanner.next(&ctx, at, eof) {
        at = unit.end;
        end = unit.end;
        state = scanner.context();
    }
    Split {
        end: end - skip,
        strays: 0,
        context: if end == skip { context.to_vec() } else { state },
    }
}

/// Chunks of an SQL dump in memory, cut between units.
pub struct SqlChunks<'a> {
    data: &'a [u8],
    info: SqlInfo,
    state: State,
    at: usize,
    target: usize,
}

impl<'a> SqlChunks<'a> {
    /// Chunks of about `target` bytes of `data[start..]`.
    pub fn new(layout: &Layout, data: &'a [u8], start: usize, target: usize) -> Self {
        let info = layout.sql.clone().unwrap_or_default();
        SqlChunks {
            data,
            info,
            state: State::Top,
            at: start.min(data.len()),
            target: target.max(1),
        }
    }
}

impl<'a> Iterator for SqlChunks<'a> {
    type Item = Chunk<'a>;

    fn next(&mut self) -> Option<Chunk<'a>> {
        if self.at >= self.data.len() {
            return None;
        }
        let mut scanner = Scanner { info: &self.info, state: self.state.clone() };
        let prefix = scanner.context();
        let start = self.at;
        let mut end = start;
        // An oversized unit ends the chunk and only its first bytes are copied (see below).
        let mut cut = None;
        while end - start < self.target {
            match scanner.next(self.data, end, true) {
                Some(unit) => {
                    end = unit.end;
                    if unit.oversized_beyond(2 * MAX_RECORD) && self.data[end - 1] == b'\n' {
                        cut = Some(unit.start + MAX_RECORD + 1);
                        break;
                    }
                }
                None => {
                    end = self.data.len();
                    break;
                }
            }
        }
        self.state = scanner.state;
        self.at = end;
        let bytes = Cow::Owned(match cut {
            // The unit's first MAX_RECORD + 1 bytes (no `\n` among the rest of them) and a
            // `\n` standing for its last byte read as the same oversized unit, so that a 1 GB
            // tuple is not copied (as the stream reader does, `super::super::stream`).
            Some(cut) => [&prefix[..], &self.data[start..cut], b"\n"].concat(),
            None => [&prefix[..], &self.data[start..end]].concat(),
        });
        Some(Chunk { base: start as u64, bytes, strays: 0, span: end - start })
    }
}

/// [`RecordReader`] for SQL dumps.
pub struct SqlReader {
    info: SqlInfo,
    columns: Vec<String>,
    /// Columns that feed a field.
    wanted: Vec<bool>,
    /// The header whose slots are cached, and per value position its column.
    header: Vec<u8>,
    slots: Vec<Option<usize>>,
    /// The value ranges of the current tuple (reused).
    ranges: Vec<(usize, usize)>,
    values: Values,
}

/// The mapped values of the current record, by column.
struct Values {
    text: Vec<String>,
    set: Vec<bool>,
}

impl Fields for Values {
    fn get(&self, column: usize) -> Option<&str> {
        self.set.get(column).copied().unwrap_or(false).then(|| self.text[column].as_str())
    }
}

impl SqlReader {
    /// A reader for `layout`.
    pub fn new(layout: &Layout) -> SqlReader {
        let n = layout.columns.len();
        let mut wanted = vec![false; n];
        for c in layout.mapping.columns() {
            if c < n {
                wanted[c] = true;
            }
        }
        SqlReader {
            info: layout.sql.clone().unwrap_or_default(),
            columns: layout.columns.clone(),
            wanted,
            header: Vec::new(),
            slots: Vec::new(),
            ranges: Vec::new(),
            values: Values { text: vec![String::new(); n], set: vec![false; n] },
        }
    }

    /// Caches which value position feeds which wanted column for `header`.
    fn use_header(&mut self, header: &[u8]) {
        if self.header == header {
            return;
        }
        self.header = header.to_vec();
        let (_, cols) = header_columns(header, &self.info);
        self.slots = cols
            .iter()
            .map(|c| self.columns.iter().position(|k| k == c).filter(|&i| self.wanted[i]))
            .collect();
    }

    /// Sets the values of a tuple `(a, 'b', NULL)`'s inside.
    fn tuple(&mut self, inner: &[u8]) {
        self.values.set.iter_mut().for_each(|s| *s = false);
        split_top_into(inner, self.info.backslash, &mut self.ranges);
        for (i, &(a, b)) in self.ranges.iter().enumerate() {
            let Some(Some(col)) = self.slots.get(i) else { continue };
            let raw = inner[a..b].trim_ascii();
            if raw.eq_ignore_ascii_case(b"NULL") {
                continue;
            }
            let text = &mut self.values.text[*col];
            text.clear();
            unquote(raw, self.info.backslash, text);
            self.values.set[*col] = true;
        }
    }

    /// Sets the values of a tab-separated `COPY` row.
    fn row(&mut self, line: &[u8]) {
        self.values.set.iter_mut().for_each(|s| *s = false);
        for (i, raw) in line.split(|&b| b == b'\t').enumerate() {
            let Some(Some(col)) = self.slots.get(i) else { continue };
            if raw == b"\\N" {
                continue;
            }
            let text = &mut self.values.text[*col];
            text.clear();
            unescape_copy(raw, text);
            self.values.set[*col] = true;
        }
    }
}

/// The text of an SQL literal: a quoted string unescaped, anything else as it is.
fn unquote(raw: &[u8], backslash: bool, out: &mut String) {
    let raw = if raw.len() > 1 && (raw[0] == b'E' || raw[0] == b'e') && raw[1] == b'\'' {
        &raw[1..]
    } else {
        raw
    };
    let Some(inner) = raw.strip_prefix(b"'").map(|r| r.strip_suffix(b"'").unwrap_or(r)) else {
        out.push_str(&String::from_utf8_lossy(raw));
        return;
    };
    let escaped = inner.contains(&b'\'') || (backslash && inner.contains(&b'\\'));
    if !escaped {
        out.push_str(&String::from_utf8_lossy(inner));
        return;
    }
    let mut bytes = Vec::with_capacity(inner.len());
    let mut i = 0;
    while i < inner.len() {
        match inner[i] {
            b'\\' if backslash && i + 1 < inner.len() => {
                i += 1;
                bytes.push(match inner[i] {
                    b'n' => b'\n',
                    b't' => b'\t',
                    b'r' => b'\r',
                    b'0' => 0,
                    b => b,
                });
            }
            b'\'' if inner.get(i + 1) == Some(&b'\'') => {
                bytes.push(b'\'');
                i += 1;
            }
            b => bytes.push(b),
        }
        i += 1;
    }
    out.push_str(&String::from_utf8_lossy(&bytes));
}

/// The text of a `COPY` field: `\\`, `\t`, `\n`, `\r` unescaped.
fn unescape_copy(raw: &[u8], out: &mut String) {
    if !raw.contains(&b'\\') {
        out.push_str(&String::from_utf8_lossy(raw));
        return;
    }
    let mut bytes = Vec::with_capacity(raw.len());
    let mut it = raw.iter();
    while let Some(&b) = it.next() {
        if b != b'\\' {
            bytes.push(b);
            continue;
        }
        match it.next() {
            Some(b'n') => bytes.push(b'\n'),
            Some(b't') => bytes.push(b'\t'),
            Some(b'r') => bytes.push(b'\r'),
            Some(&c) => bytes.push(c),
            None => {}
        }
    }
    out.push_str(&String::from_utf8_lossy(&bytes));
}

impl RecordReader for SqlReader {
    fn read(
        &mut self,
        chunk: &[u8],
        base: u64,
        on: &mut dyn FnMut(Event<'_>),
    ) -> Result<ChunkStats, DumpError> {
        let info = self.info.clone();
        let mut scanner = Scanner { info: &info, state: State::Top };
        let skip = scanner.enter(chunk);
        let (mut stats, mut at, mut line_at) = (ChunkStats::default(), skip, skip);
        loop {
            if let State::Values(h) | State::Copy(h) = &scanner.state {
                self.use_header(h);
            }
            let Some(unit) = scanner.next(chunk, at, true) else { break };
            stats.lines += memchr::memchr_iter(b'\n', &chunk[line_at..unit.start]).count() as u64;
            line_at = unit.start;
            let pos = Position {
                record: stats.records,
                line: stats.lines,
                byte: base + (unit.start - skip) as u64,
            };
            match unit.kind {
                Kind::Other => {}
                Kind::Bad(why) => {
                    stats.records += 1;
                    on(Event::Skipped(why, pos));
                }
                Kind::Tuple(a, b) | Kind::Row(a, b) => {
                    if matches!(unit.kind, Kind::Tuple(..)) {
                        self.tuple(&chunk[a..b]);
                    } else {
                        self.row(&chunk[a..b]);
                    }
                    stats.records += 1;
                    on(Event::Record(&self.values, pos));
                }
            }
            at = unit.end;
        }
        stats.lines += memchr::memchr_iter(b'\n', &chunk[line_at..]).count() as u64;
        Ok(stats)
    }
}
