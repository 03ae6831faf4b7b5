//! The pipeline's properties: chunked == sequential, range shards read every record once.

use super::*;
use crate::dump::Source;
use proptest::prelude::*;

/// Runs the whole pipeline (without filters) over `bytes` with chunks of `target` bytes.
fn tally(bytes: &[u8], target: usize) -> Tally {
    tally_as(bytes, target, None)
}

/// [`tally`] reading `bytes` as `format` (`None`: detected).
fn tally_as(bytes: &[u8], target: usize, format: Option<dump::Format>) -> Tally {
    let source = Source::from_bytes("t", bytes.to_vec());
    let input = Prepared::from_source_as(source, format, &[]).unwrap();
    let kinds = [Kind::Kvnr, Kind::Email, Kind::NameDob];
    let pipeline = Tokenize::new(Key::from_bytes([1; 32]).tokenizer(), &kinds);
    let seen = std::sync::Mutex::new(Vec::new());
    let sink = |_: &mut Tally, b: &Batch| seen.lock().unwrap().extend_from_slice(&b.tokens);
    let mut t = run_input_chunked(&input, &pipeline, 0, &sink, &|_| {}, target).unwrap();
    // Fold the multiset of tokens into the tally so that the comparison covers them.
    let mut tokens = seen.into_inner().unwrap();
    tokens.sort();
    t.birth_years.push(xxhash_rust::xxh3::xxh3_64(format!("{tokens:?}").as_bytes()));
    t
}

fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("A123456780".to_string()),
        Just("z987654321".to_string()),
        Just("Müller".to_string()),
        Just("\"Groß, Jörg\"".to_string()),
        Just("\"line\nbreak\"".to_string()),
        Just("\"say \"\"hi\"\"\"".to_string()),
        Just("a@b.de".to_string()),
        Just("15.03.1961".to_string()),
        Just(String::new()),
        "[a-z ]{0,6}",
    ]
}

fn csv() -> impl Strategy<Value = Vec<u8>> {
    let row = proptest::collection::vec(field(), 0..6);
    (proptest::collection::vec(row, 0..60), any::<bool>(), any::<bool>()).prop_map(
        |(rows, crlf, bom)| {
            let nl = if crlf { "\r\n" } else { "\n" };
            let mut s = String::new();
            if bom {
                s.push('\u{feff}');
            }
            s.push_str("KVNR;E-Mail;Nachname;Vorname;Geburtsdatum");
            s.push_str(nl);
            for r in rows {
                s.push_str(&r.join(";"));
                s.push_str(nl);
            }
            s.into_bytes()
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn chunked_scan_equals_sequential_scan(bytes in csv(), target in 1usize..200) {
        let sequential = tally(&bytes, usize::MAX);
        let chunked = tally(&bytes, target);
        prop_assert_eq!(chunked, sequential);
    }
}

/// Scans `bytes` as ranges cut at `cuts` (sorted, deduplicated byte offsets) and merges
/// the shards' tallies, shifting positions by the records and lines of earlier ranges.
fn range_tally(bytes: &[u8], cuts: &[usize], target: usize) -> Tally {
    range_tally_as(bytes, cuts, target, None)
}

/// [`range_tally`] reading `bytes` as `format` (`None`: detected).
fn range_tally_as(
    bytes: &[u8],
    cuts: &[usize],
    target: usize,
    format: Option<dump::Format>,
) -> Tally {
    let source = Source::from_bytes("t", bytes.to_vec());
    let input = Prepared::from_source_as(source, format, &[]).unwrap();
    let kinds = [Kind::Kvnr, Kind::Email, Kind::NameDob];
    let pipeline = Tokenize::new(Key::from_bytes([1; 32]).tokenizer(), &kinds);
    let seen = std::sync::Mutex::new(Vec::new());
    let sink = |_: &mut Tally, b: &Batch| seen.lock().unwrap().extend_from_slice(&b.tokens);
    let mut bounds = vec![0];
    bounds.extend_from_slice(cuts);
    bounds.push(bytes.len() + 5);
    let mut total = Tally::new(0);
    let (mut records, mut lines) = (0, input.layout.dialect.body_lines);
    for w in bounds.windows(2) {
        let range = w[0] as u64..w[1] as u64;
        let mut r = run_input_range(&input, &pipeline, 0, &sink, &|_| {}, range, target).unwrap();
        for p in r.tally.first_malformed.iter_mut().flatten() {
            p.record += records;
            p.line += lines;
        }
        records += r.counts.records;
        lines += r.counts.lines;
        total.merge(&r.tally);
    }
    let mut tokens = seen.into_inner().unwrap();
    tokens.sort();
    total.birth_years.push(xxhash_rust::xxh3::xxh3_64(format!("{tokens:?}").as_bytes()));
    total
}

/// Sorted, distinct byte offsets in `0..=len` from proptest's indices.
fn cut_points(indices: &[prop::sample::Index], len: usize) -> Vec<usize> {
    let mut cuts: Vec<usize> = indices.iter().map(|i| i.index(len + 1)).collect();
    cuts.sort_unstable();
    cuts.dedup();
    cuts
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn range_shards_read_every_record_exactly_once(
        bytes in csv(),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
        target in 1usize..100,
    ) {
        let cuts = cut_points(&cuts, bytes.len());
        let whole = tally(&bytes, usize::MAX);
        prop_assert_eq!(range_tally(&bytes, &cuts, target), whole);
    }
}

fn jsonl() -> impl Strategy<Value = Vec<u8>> {
    let line = prop_oneof![
        Just("{\"kvnr\":\"A123456780\",\"email\":\"a@b.de\"}\n".to_string()),
        Just("{\"email\":\"c@d.de\",\"name\":\"Groß, Jörg\"}\r\n".to_string()),
        Just("{\"kvnr\":\"z987654321\"}\n".to_string()),
        Just("\n".to_string()),
        Just("{broken\n".to_string()),
    ];
    proptest::collection::vec(line, 1..40)
        .prop_map(|l| format!("{{\"kvnr\":\"A123456780\"}}\n{}", l.concat()).into_bytes())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]
    #[test]
    fn jsonl_range_shards_read_every_record_exactly_once(
        bytes in jsonl(),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
        target in 1usize..100,
    ) {
        let cuts = cut_points(&cuts, bytes.len());
        let json = Some(dump::Format::JsonLines);
        let whole = tally_as(&bytes, usize::MAX, json);
        prop_assert!(whole.records > 0);
        prop_assert_eq!(range_tally_as(&bytes, &cuts, target, json), whole);
    }
}

#[test]
fn a_quoted_newline_belongs_to_the_range_of_its_record_start() {
    let bytes = b"KVNR;E-Mail\nA123456780;\"a@b.de\nx\"\nZ987654321;c@d.de\n".to_vec();
    let newline_in_quotes = bytes.iter().position(|&b| b == b'x').unwrap() - 1;
    for cut in [newline_in_quotes, newline_in_quotes + 1, 12, 13, 30] {
        let t = range_tally(&bytes, &[cut], 1);
        assert_eq!(t.records, 2, "cut at {cut}");
    }
}

#[test]
fn positions_are_file_wide_and_one_based() {
    let mut s = String::from("KVNR;E-Mail\n");
    for i in 0..50 {
        s.push_str(&format!("A123456780;x{i}@y.de\n"));
    }
    s.push_str("A123456780\n"); // ragged: record 51, line 52
    let bytes = s.into_bytes();
    for target in [1, 7, 100, usize::MAX] {
        let t = tally(&bytes, target);
        let p = t.first_malformed[Malformed::Ragged as usize].expect("ragged counted");
        assert_eq!((p.record, p.line), (51, 52), "target {target}");
        assert_eq!(p.byte as usize, bytes.len() - "A123456780\n".len());
    }
}
