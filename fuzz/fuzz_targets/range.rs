//! `plan` splitting and `scan --range` shards (`src/commands/plan.rs`, `src/scan/range.rs`,
//! `Layout::record_start_before` / `chunks_from`), on any bytes in any format.
//!
//! Oracles:
//! - `plan::ranges` covers `[0, len)` exactly: contiguous, in order, `shards` pieces whose
//!   lengths differ by at most one;
//! - the whole pipeline read in chunks of a few bytes gives the same tally (counts, first
//!   malformed positions, tokens) as one sequential read;
//! - shards cut at arbitrary byte offsets, merged with positions shifted by earlier shards,
//!   give the same tally as the whole input: every record read exactly once.
#![no_main]

use std::sync::{Mutex, Once};

use leakmatch::commands::plan;
use leakmatch::dump::{Format, Source};
use leakmatch::ident::Kind;
use leakmatch::scan::{run_input_chunked, run_input_range, Batch, Prepared, Tokenize};
use leakmatch::tally::Tally;
use leakmatch::token::Key;
use libfuzzer_sys::fuzz_target;

/// The tally with the sorted multiset of tokens folded in, so that comparisons cover them.
fn seal(mut t: Tally, seen: Mutex<Vec<[Option<u128>; 8]>>) -> Tally {
    let mut tokens = seen.into_inner().unwrap();
    tokens.sort();
    t.birth_years.push(xxhash_rust::xxh3::xxh3_64(format!("{tokens:?}").as_bytes()));
    t
}

fn pipeline() -> Tokenize {
    let kinds = [Kind::Kvnr, Kind::Email, Kind::Phone, Kind::NameDob, Kind::KvnrNameDob];
    Tokenize::new(Key::from_bytes([1; 32]).tokenizer(), &kinds)
}

fn whole(input: &Prepared, target: usize) -> Tally {
    let seen = Mutex::new(Vec::new());
    let sink = |_: &mut Tally, b: &Batch| seen.lock().unwrap().extend_from_slice(&b.tokens);
    let t = run_input_chunked(input, &pipeline(), 0, &sink, &|_| {}, target).unwrap();
    seal(t, seen)
}

fn sharded(input: &Prepared, bounds: &[u64], target: usize) -> Tally {
    let seen = Mutex::new(Vec::new());
    let sink = |_: &mut Tally, b: &Batch| seen.lock().unwrap().extend_from_slice(&b.tokens);
    let mut total = Tally::new(0);
    let (mut records, mut lines) = (0, input.layout.dialect.body_lines);
    let pipeline = pipeline();
    for w in bounds.windows(2) {
        let mut r =
            run_input_range(input, &pipeline, 0, &sink, &|_| {}, w[0]..w[1], target).unwrap();
        for p in r.tally.first_malformed.iter_mut().flatten() {
            p.record += records;
            p.line += lines;
        }
        records += r.counts.records;
        lines += r.counts.lines;
        total.merge(&r.tally);
    }
    seal(total, seen)
}

fuzz_target!(|data: &[u8]| {
    static POOL: Once = Once::new();
    POOL.call_once(|| {
        let _ = rayon::ThreadPoolBuilder::new().num_threads(1).build_global();
    });
    let [ncuts, target, format, shards, rest @ ..] = data else { return };
    let ncuts = usize::from(*ncuts % 6);
    let target = 1 + usize::from(*target % 64);
    let format = [
        None,
        Some(Format::Delimited),
        Some(Format::JsonLines),
        Some(Format::Sql),
        Some(Format::Combo),
    ][usize::from(*format) % 5];
    let (cut_bytes, bytes) = rest.split_at((2 * ncuts).min(rest.len()));
    let len = bytes.len() as u64;

    // plan: pieces cover [0, len) exactly.
    let shards = 1 + u64::from(*shards) % len.max(1);
    let r = plan::ranges(len, shards);
    assert_eq!(r.len() as u64, shards);
    assert_eq!(r.first().map(|p| p.0), Some(0));
    assert_eq!(r.last().map(|p| p.1), Some(len));
    for w in r.windows(2) {
        assert_eq!(w[0].1, w[1].0, "ranges not contiguous");
    }
    let (lo, hi) = (len / shards, len.div_ceil(shards));
    assert!(r.iter().all(|(s, e)| s <= e && (lo..=hi).contains(&(e - s))), "uneven ranges");

    let Ok(input) = Prepared::from_source_as(Source::from_bytes("f", bytes.to_vec()), format, &[])
    else {
        return;
    };
    let sequential = whole(&input, usize::MAX);
    assert_eq!(whole(&input, target), sequential, "chunked tally differs from the sequential one");

    let mut bounds = vec![0u64];
    let mut cuts: Vec<u64> = cut_bytes
        .chunks(2)
        .map(|c| u64::from(u16::from_le_bytes([c[0], *c.get(1).unwrap_or(&0)])) % (len + 1))
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    bounds.extend(cuts);
    bounds.push(len + 5);
    assert_eq!(
        sharded(&input, &bounds, target),
        sequential,
        "range shards differ from the whole input"
    );
    let plan_bounds: Vec<u64> = std::iter::once(0).chain(r.iter().map(|p| p.1)).collect();
    assert_eq!(
        sharded(&input, &plan_bounds, target),
        sequential,
        "plan's shards differ from the whole input"
    );
});
