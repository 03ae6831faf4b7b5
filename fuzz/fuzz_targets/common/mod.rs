//! The check every reader target runs: detection, chunking (small and whole) and reading never
//! panic; chunked reading gives the same records and field values as one whole chunk; every
//! field handed out is valid UTF-8 (fields of chunks that are valid UTF-8 as a whole are not
//! re-validated: this checks that shortcut).

use leakmatch::dump::{ColumnOverride, Event, Format, Layout};

use leakmatch::dump::Chunk;

/// Each record's mapped values (`None` for a skipped record) and its absolute byte offset.
pub type Rows = Vec<(Option<Vec<Option<String>>>, u64)>;

/// The records of `chunks`, read in order by one reader of `layout`.
pub fn rows_of<'a>(layout: &Layout, chunks: impl Iterator<Item = Chunk<'a>>) -> Rows {
    let mut reader = layout.reader();
    let cols = layout.mapping.columns();
    let mut out = Vec::new();
    for chunk in chunks {
        let _ = reader.read(&chunk.bytes, chunk.base, &mut |e| match e {
            Event::Record(f, p) => {
                let values: Vec<Option<String>> = cols
                    .iter()
                    .map(|&c| {
                        f.get(c).map(|s| {
                            assert!(std::str::from_utf8(s.as_bytes()).is_ok(), "invalid UTF-8");
                            s.to_string()
                        })
                    })
                    .collect();
                out.push((Some(values), p.byte));
            }
            Event::Skipped(_, p) => out.push((None, p.byte)),
            Event::Flawed(..) => {}
        });
    }
    out
}

#[allow(dead_code)]
fn rows(layout: &Layout, data: &[u8], target: usize) -> Rows {
    rows_of(layout, layout.chunks(data, target))
}

/// Reads `data` as `format` with the `--map` overrides `map`, whole and in 7-byte chunks.
#[allow(dead_code)]
pub fn check(data: &[u8], format: Format, map: &[&str]) {
    let map: Vec<ColumnOverride> = map.iter().map(|m| m.parse().unwrap()).collect();
    let Ok(layout) = Layout::detect(data, Some(format), &map) else { return };
    let whole = rows(&layout, data, usize::MAX);
    let small = rows(&layout, data, 7);
    assert_eq!(whole, small, "chunked and sequential records differ");
}
