//! Partial files (`src/partial/`): parsing in memory and streamed from a file, and `merge`.
//! The input is up to three partials separated by NUL bytes (seeds: real partials).
//!
//! Oracles:
//! - parsing gives a partial or a `PartialError`, never a panic; the streamed reader
//!   (`Partial::read`) and the in-memory parser agree;
//! - an accepted partial survives `to_line` → `parse` unchanged;
//! - `merge` gives a result or an error, never a panic; a merged result counts exactly the
//!   records of its distinct shards, and each input's records are the sum of its shards'.
#![no_main]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use leakmatch::partial::{merge, Partial};
use libfuzzer_sys::fuzz_target;

fn dir() -> &'static tempfile::TempDir {
    static D: OnceLock<tempfile::TempDir> = OnceLock::new();
    D.get_or_init(|| tempfile::tempdir().unwrap())
}

fuzz_target!(|data: &[u8]| {
    let mut parts = Vec::new();
    for (i, bytes) in data.split(|&b| b == 0).take(3).enumerate() {
        let path = dir().path().join(format!("p{i}.json"));
        let parsed = Partial::parse(&path, bytes);
        std::fs::write(&path, bytes).unwrap();
        let read = Partial::read(&path);
        match (&parsed, &read) {
            (Ok(a), Ok(b)) => assert!(a == b, "read and parse give different partials"),
            (Err(_), Err(_)) => {}
            (a, b) => panic!("parse and read disagree: {:?} vs {:?}", a.is_ok(), b.is_ok()),
        }
        if let Ok(p) = parsed {
            let again =
                Partial::parse(&path, p.to_line().as_bytes()).expect("to_line is parsed back");
            assert!(again == p, "to_line/parse round trip changed the partial");
            parts.push((PathBuf::from(&path), p));
        }
    }
    if parts.is_empty() {
        return;
    }
    let mut distinct: BTreeMap<String, &Partial> = BTreeMap::new();
    for (_, p) in &parts {
        distinct.entry(p.shard_id.clone()).or_insert(p);
    }
    let shard_records: u128 =
        distinct.values().flat_map(|p| p.inputs.iter()).map(|i| u128::from(i.tally.records)).sum();
    let Ok(m) = merge(parts.clone()) else { return };
    let merged: u128 = m.inputs.iter().map(|(_, t)| u128::from(t.records)).sum();
    assert_eq!(merged, shard_records, "merged records differ from the sum of the shards");
    assert_eq!(m.shards, distinct.len());
    assert_eq!(m.shards + m.duplicates, parts.len());
});
