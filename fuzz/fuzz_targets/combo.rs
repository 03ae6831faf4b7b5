//! Fuzzes the combo reader: detection, chunking (small and whole) and reading never panic, and
//! chunked reading counts the same records as one whole chunk.
#![no_main]

use leakmatch::dump::{Format, Layout};
use libfuzzer_sys::fuzz_target;

fn records(layout: &Layout, data: &[u8], target: usize) -> u64 {
    let mut reader = layout.reader();
    let mut n = 0;
    for chunk in layout.chunks(data, target) {
        if let Ok(stats) = reader.read(&chunk.bytes, chunk.base, &mut |_| {}) {
            n += stats.records;
        }
    }
    n
}

fuzz_target!(|data: &[u8]| {
    let Ok(layout) = Layout::detect(data, Some(Format::Combo), &[]) else { return };
    let whole = records(&layout, data, usize::MAX);
    let small = records(&layout, data, 7);
    assert_eq!(whole, small, "chunked and sequential record counts differ");
});
