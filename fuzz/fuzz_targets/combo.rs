//! Fuzzes the combo reader with the shared check (`common::check`).
#![no_main]

use leakmatch::dump::Format;
use libfuzzer_sys::fuzz_target;

#[path = "common/mod.rs"]
mod common;

fuzz_target!(|data: &[u8]| common::check(data, Format::Combo, &[]));
