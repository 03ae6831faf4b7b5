//! Line-based formats (JSON lines, combo lists): chunks cut after a `\n`, and the walk over
//! the lines of a chunk with their positions.
//!
//! A line longer than [`MAX_RECORD`] bytes is reported as oversized without being parsed.

// Reviewed (#11): `from`/`at` are line starts below `data.len()` (loop bound), ends are memchr hits
// or the length.
#![allow(clippy::indexing_slicing)]

use std::ops::Range;

use super::chunk::MAX_RECORD;
use super::{ChunkStats, Position};

/// Chunks of about `target` bytes of `data[start..]`, each ending just after a `\n` (the
/// last may end without one). Items are a range and 0 stray quotes, as for delimited text.
pub struct LineChunks<'a> {
    data: &'a [u8],
    at: usize,
    target: usize,
}

impl<'a> LineChunks<'a> {
    /// Chunks of `data[start..]`.
    pub fn new(data: &'a [u8], start: usize, target: usize) -> Self {
        LineChunks { data, at: start.min(data.len()), target: target.max(1) }
    }
}

impl Iterator for LineChunks<'_> {
    type Item = (Range<usize>, usize);

    fn next(&mut self) -> Option<Self::Item> {
        if self.at >= self.data.len() {
            return None;
        }
        let from = (self.at + self.target - 1).min(self.data.len());
        let end =
            memchr::memchr(b'\n', &self.data[from..]).map_or(self.data.len(), |k| from + k + 1);
        let range = self.at..end;
        self.at = end;
        Some((range, 0))
    }
}

/// What a line is, for a line-based reader.
pub enum Line<'a> {
    /// A non-blank line (without its line end), at a position.
    Text(&'a [u8], Position),
    /// A line longer than [`MAX_RECORD`] bytes, not parsed.
    Oversized(Position),
}

/// Calls `f` for every non-blank line of `chunk` (whose first byte is at offset `base`),
/// counting records, lines and blank lines as the delimited parser does.
pub fn for_each_line(chunk: &[u8], base: u64, mut f: impl FnMut(Line<'_>)) -> ChunkStats {
    let mut stats = ChunkStats::default();
    let mut at = 0;
    while at < chunk.len() {
        let end = memchr::memchr(b'\n', &chunk[at..]).map_or(chunk.len(), |k| at + k);
        let pos = Position { record: stats.records, line: stats.lines, byte: base + at as u64 };
        let line = trim_cr(&chunk[at..end]);
        if end - at > MAX_RECORD {
            stats.records += 1;
            stats.oversized += 1;
            f(Line::Oversized(pos));
        } else if line.iter().all(u8::is_ascii_whitespace) {
            stats.skipped_blank += u64::from(end < chunk.len() || !line.is_empty());
        } else {
            stats.records += 1;
            f(Line::Text(line, pos));
        }
        stats.lines += u64::from(end < chunk.len());
        at = end + 1;
    }
    stats
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_end_after_newlines_and_cover_everything() {
        let data = b"aa\nbbbb\ncc\nd";
        let got: Vec<_> = LineChunks::new(data, 0, 4).map(|c| c.0).collect();
        assert_eq!(got, vec![0..8, 8..12]);
        let got: Vec<_> = LineChunks::new(data, 3, 1).map(|c| c.0).collect();
        assert_eq!(got, vec![3..8, 8..11, 11..12]);
    }

    #[test]
    fn lines_have_positions_and_blank_lines_are_counted() {
        let mut seen = Vec::new();
        let stats = for_each_line(b"a\r\n\n  \nb", 10, |l| {
            if let Line::Text(t, p) = l {
                seen.push((t.to_vec(), p.record, p.line, p.byte));
            }
        });
        assert_eq!(seen, vec![(b"a".to_vec(), 0, 0, 10), (b"b".to_vec(), 1, 3, 17)]);
        assert_eq!((stats.records, stats.lines, stats.skipped_blank), (2, 3, 2));
    }
}
