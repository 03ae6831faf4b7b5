//! Fuzzes the filter loader: any bytes as a filter file give a filter or an error, never a
//! panic.
#![no_main]

use leakmatch::filter::{FilterFile, OpenOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.lmf");
    std::fs::write(&path, data).unwrap();
    let _ = FilterFile::open(&path, &OpenOptions::default());
});
