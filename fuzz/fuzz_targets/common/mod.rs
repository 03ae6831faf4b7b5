//! The check every reader target runs: detection, chunking (small and whole) and reading never
//! panic; chunked reading gives the same records and field values as one whole chunk; every
//! field handed out is valid UTF-8 (fields of chunks that are valid UTF-8 as a whole are not
//! re-validated: this checks that shortcut).

use leakmatch::dump::{ColumnOverride, Event, Format, Layout};

type Rows = Vec<Option<Vec<Option<String>>>>;

fn rows(layout: &Layout, data: &[u8], target: usize) -> Rows {
    let mut reader = layout.reader();
    let cols = layout.mapping.columns();
    let mut out = Vec::new();
    for chunk in layout.chunks(data, target) {
        let _ = reader.read(&chunk.bytes, chunk.base, &mut |e| match e {
            Event::Record(f, _) => {
                let values: Vec<Option<String>> = cols
                    .iter()
                    .map(|&c| {
                        f.get(c).map(|s| {
                            assert!(std::str::from_utf8(s.as_bytes()).is_ok(), "invalid UTF-8");
                            s.to_string()
                        })
                    })
                    .collect();
                out.push(Some(values));
            }
            Event::Skipped(..) => out.push(None),
            Event::Flawed(..) => {}
        });
    }
    out
}

/// Reads `data` as `format` with the `--map` overrides `map`, whole and in 7-byte chunks.
pub fn check(data: &[u8], format: Format, map: &[&str]) {
    let map: Vec<ColumnOverride> = map.iter().map(|m| m.parse().unwrap()).collect();
    let Ok(layout) = Layout::detect(data, Some(format), &map) else { return };
    let whole = rows(&layout, data, usize::MAX);
    let small = rows(&layout, data, 7);
    assert_eq!(whole, small, "chunked and sequential records differ");
}
