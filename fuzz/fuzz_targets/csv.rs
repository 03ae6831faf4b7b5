//! Fuzzes the csv reader with the shared check (`common::check`).
#![no_main]

use leakmatch::dump::Format;
use libfuzzer_sys::fuzz_target;

#[path = "common/mod.rs"]
mod common;

fuzz_target!(|data: &[u8]| common::check(
    data,
    Format::Delimited,
    &["kvnr=1", "email=2", "last_name=3"]
));
