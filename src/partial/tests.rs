//! Merging partials: random range shardings equal one scan; repeated ids; refusals.

use super::*;
use crate::dump::Source;
use crate::filter::{self, Bloom, FilterFile, FilterHeader, OpenOptions, Params, Role};
use crate::ident::Kind;
use crate::report::{BuildContext, Report};
use crate::scan::{self, Prepared, Prober, Tokenize};
use crate::token::Key;
use proptest::prelude::*;

const KEY: [u8; 32] = [9; 32];

/// A filter holding one KVNR and one e-mail of the generated rows, with a high FPR so
/// that false positives occur too.
fn filter(dir: &Path) -> FilterFile {
    let tok = Key::from_bytes(KEY).tokenizer();
    let p = Params::new(2, 1).unwrap();
    let (mut kvnr, mut email) = (Bloom::new(p), Bloom::new(p));
    kvnr.insert(tok.token(Kind::Kvnr, b"A123456780"));
    email.insert(tok.token(Kind::Email, b"a@b.de"));
    let info = |kind, b: &Bloom| filter::SectionInfo {
        kind,
        params: p,
        inserted: 1,
        target_fpr: 0.01,
        achieved_fpr: b.achieved_fpr(),
    };
    let header = FilterHeader {
        key_id: Key::from_bytes(KEY).id(),
        created_unix: 1,
        tool_version: "t".into(),
        label: "L".into(),
        snapshot_date: None,
        role: Role::Customers,
        prf: crate::filter::Prf::Keyed,
    };
    let path = dir.join("f.lmf");
    let sections = [(info(Kind::Kvnr, &kvnr), &kvnr), (info(Kind::Email, &email), &email)];
    let mac = Key::from_bytes(KEY).mac_key();
    filter::write_filter(&path, &header, sections, &Default::default(), &mac).unwrap();
    FilterFile::open(&path, &OpenOptions::default()).unwrap()
}

/// The partial of shard `id` scanning `range` (or the whole input) of `bytes`.
fn shard(f: &FilterFile, bytes: &[u8], id: &str, range: Option<ByteRange>) -> Partial {
    let input = Prepared::from_source(Source::from_bytes("d.csv", bytes.to_vec()), &[]).unwrap();
    let filters = std::slice::from_ref(f);
    let prober = Prober::new(filters);
    let kinds = scan::probe_kinds(filters, &input.layout.mapping.fields);
    let pipeline = Tokenize::new(Key::from_bytes(KEY).tokenizer(), &kinds);
    let (tally, range_records, range_lines) = match range {
        None => (scan::run_input(&input, &pipeline, 1, &prober, &|_| {}).unwrap(), 0, 0),
        Some(r) => {
            let s =
                scan::run_input_range(&input, &pipeline, 1, &prober, &|_| {}, r.start..r.end, 7)
                    .unwrap();
            (s.tally, s.counts.records, s.counts.lines)
        }
    };
    let desc = InputReport {
        path: "d.csv".into(),
        bytes: bytes.len() as u64,
        sha256: String::new(),
        format: "csv".into(),
        delimiter: ";".into(),
        header: true,
        encoding: "utf-8".into(),
        records: tally.records,
        columns: vec![],
        categories: vec![],
        coverage: None,
    };
    let body_lines = input.layout.dialect.body_lines;
    let inputs =
        vec![PartialInput { input: desc, range, body_lines, range_records, range_lines, tally }];
    let p = Partial {
        format: FORMAT.into(),
        schema_version: SCHEMA_VERSION,
        tool_version: "t".into(),
        shard_id: id.into(),
        key_id: "k".into(),
        filters: vec![FilterDesc::of(f)],
        inputs,
        seconds: 0.5,
    };
    Partial::parse(Path::new(id), p.to_line().as_bytes()).expect("a partial reads back")
}

fn report(m: Merged) -> Report {
    Report::build(BuildContext {
        key_id: m.key_id,
        inputs: m.inputs,
        filters: &m.filters,
        claimed_size: Some(1000),
        alert_above: None,
        seconds: 1.0,
    })
}

fn csv() -> impl Strategy<Value = Vec<u8>> {
    let field = prop_oneof![
        Just("A123456780"),
        Just("Z987654321"),
        Just("a@b.de"),
        Just("c@d.de"),
        Just("\"x\ny\""),
        Just("\"a@b.de\""),
        Just(""),
        Just("\"open"),
        Just("15.03.1961"),
    ];
    proptest::collection::vec(proptest::collection::vec(field, 0..4), 0..40).prop_map(|rows| {
        let mut s = String::from("KVNR;E-Mail;Geburtsdatum\n");
        for r in rows {
            s.push_str(&r.join(";"));
            s.push('\n');
        }
        s.into_bytes()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn merge_of_random_range_shards_equals_one_scan(
        bytes in csv(),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..5),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let f = filter(dir.path());
        let mut cuts: Vec<u64> = cuts.iter().map(|i| i.index(bytes.len() + 1) as u64).collect();
        cuts.push(0);
        cuts.push(bytes.len() as u64);
        cuts.sort_unstable();
        cuts.dedup();
        let parts: Vec<_> = cuts
            .windows(2)
            .enumerate()
            .map(|(i, w)| {
                let r = ByteRange { start: w[0], end: w[1] };
                (PathBuf::from(format!("p{i}")), shard(&f, &bytes, &format!("s{i}"), Some(r)))
            })
            .rev()
            .collect();
        let one = merge(vec![(PathBuf::from("one"), shard(&f, &bytes, "one", None))]).unwrap();
        let merged = merge(parts).unwrap();
        prop_assert!(merged.warnings.is_empty(), "{:?}", merged.warnings);
        prop_assert_eq!(&merged.inputs[0].1, &one.inputs[0].1);
        prop_assert_eq!(report(merged), report(one));
    }
}

fn two_shards() -> (tempfile::TempDir, Vec<(PathBuf, Partial)>) {
    let dir = tempfile::tempdir().unwrap();
    let f = filter(dir.path());
    let bytes = b"KVNR;E-Mail\nA123456780;a@b.de\nZ987654321;c@d.de\n".to_vec();
    let half = |i, r: std::ops::Range<u64>| {
        let range = Some(ByteRange { start: r.start, end: r.end });
        (PathBuf::from(format!("p{i}.json")), shard(&f, &bytes, &format!("s{i}"), range))
    };
    (dir, vec![half(0, 0..20), half(1, 20..bytes.len() as u64)])
}

#[test]
fn a_shard_id_seen_twice_is_counted_once() {
    let (_d, parts) = two_shards();
    let once = merge(parts.clone()).unwrap();
    let mut retried = parts[1].1.clone();
    retried.seconds = 9.0;
    let mut again = parts.clone();
    again.push((PathBuf::from("retry.json"), retried));
    let twice = merge(again).unwrap();
    assert_eq!((twice.shards, twice.duplicates), (2, 1));
    assert_eq!(twice.inputs, once.inputs);
    assert_eq!(once.inputs[0].1.records, 2);
}

#[test]
fn refuses_a_shard_id_with_different_content() {
    let (_d, mut parts) = two_shards();
    let mut other = parts[0].1.clone();
    other.inputs[0].tally.records += 1;
    parts.push((PathBuf::from("other.json"), other));
    let e = merge(parts).unwrap_err();
    assert!(matches!(e, PartialError::ShardConflict { .. }), "{e}");
    assert!(e.to_string().contains("other.json") && e.to_string().contains("p0.json"), "{e}");
}

#[test]
fn refuses_partials_of_other_keys_tools_filters_and_overlapping_ranges() {
    let (_d, parts) = two_shards();
    type Edit = (&'static str, fn(&mut Partial));
    let edits: [Edit; 5] = [
        ("key id", |p| p.key_id = "other".into()),
        ("tool version", |p| p.tool_version = "9".into()),
        ("geometry", |p| p.filters[0].sections[0].blocks = 2),
        ("label", |p| p.filters[0].label = "M".into()),
        ("scanned by shard", |p| p.inputs[0].range = Some(ByteRange { start: 10, end: 30 })),
    ];
    for (what, edit) in edits {
        let mut bad = parts.clone();
        edit(&mut bad[1].1);
        let e = merge(bad).unwrap_err().to_string();
        assert!(e.contains(what), "{what}: {e}");
        assert!(what == "scanned by shard" || e.contains("p1.json"), "{e}");
    }
}

#[test]
fn parse_refuses_other_formats_and_schema_versions_naming_the_file() {
    let (_d, parts) = two_shards();
    let p = Path::new("x.json");
    let line = parts[0].1.to_line();
    assert_eq!(Partial::parse(p, line.as_bytes()).unwrap(), parts[0].1);
    let this = format!("\"schema_version\":{SCHEMA_VERSION}");
    let other = line.replace(&this, "\"schema_version\":99");
    let e = Partial::parse(p, other.as_bytes());
    assert!(matches!(e, Err(PartialError::Schema { found: 99, .. })));
    let e = Partial::parse(p, b"{\"format\":\"other\"}").unwrap_err();
    assert!(e.to_string().starts_with("x.json: not a leakmatch partial"), "{e}");
    let e = Partial::parse(p, b"{\"secret A123456780").unwrap_err().to_string();
    assert!(!e.contains("A123456780"), "{e}");
}

#[cfg(unix)]
#[test]
fn writing_to_a_fifo_writes_into_it_and_never_replaces_it() {
    use std::os::unix::fs::FileTypeExt;
    let (dir, parts) = two_shards();
    let fifo = dir.path().join("fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("mkfifo unavailable: test skipped");
        return;
    }
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    parts[0].1.write(&fifo, &[]).unwrap();
    // Checked before joining: a replaced FIFO would leave the reader blocked.
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo(), "the FIFO was replaced");
    let got = reader.join().unwrap();
    assert_eq!(Partial::parse(&fifo, &got).unwrap(), parts[0].1);
    let file = dir.path().join("p.json");
    parts[0].1.write(&file, &[]).unwrap();
    assert_eq!(Partial::read(&file).unwrap(), parts[0].1);
}

#[test]
fn tampered_partials_are_refused_naming_the_field_never_panicking() {
    let (_d, parts) = two_shards();
    type Tamper = fn(&mut Partial);
    let cases: [(Tamper, &str); 5] = [
        (|p| p.inputs[0].tally.filters[0].hits[0] = u64::MAX, "hits > probed"),
        (|p| p.inputs[0].tally.filters[0].distinct.clear(), "distinct"),
        (|p| p.inputs[0].tally.filters.clear(), "tally.filters"),
        (|p| p.inputs[0].tally.birth_years.clear(), "birth_years"),
        (|p| p.inputs[0].tally.kinds[0].valid = u64::MAX, "valid + invalid > present"),
    ];
    for (tamper, want) in cases {
        let mut bad = parts.clone();
        tamper(&mut bad[1].1);
        let err = merge(bad).unwrap_err();
        assert!(matches!(err, PartialError::Inconsistent { .. }), "{err}");
        assert!(err.to_string().contains(want) && err.to_string().contains("p1.json"), "{err}");
    }
}

#[test]
fn counts_that_would_wrap_when_added_are_refused() {
    let (_d, mut parts) = two_shards();
    for (_, p) in &mut parts {
        let t = &mut p.inputs[0].tally;
        t.records = u64::MAX - 1;
    }
    let err = merge(parts).unwrap_err();
    assert!(matches!(err, PartialError::Overflow { .. }), "{err}");
}

#[test]
fn reading_is_bounded_and_tells_other_json_from_damage() {
    let (dir, parts) = two_shards();
    let p = dir.path().join("p.json");
    parts[0].1.write(&p, &[]).unwrap();
    assert_eq!(Partial::read(&p).unwrap(), parts[0].1);
    std::fs::write(&p, r#"{"format":"leakmatch-partial","schema_version":9}"#).unwrap();
    assert!(matches!(Partial::read(&p), Err(PartialError::Schema { found: 9, .. })));
    std::fs::write(&p, r#"{"a":[1,2,3]}"#).unwrap();
    assert!(matches!(Partial::read(&p), Err(PartialError::NotPartial { .. })));
    let mut text = parts[0].1.to_line();
    text.truncate(text.len() / 2);
    std::fs::write(&p, text).unwrap();
    assert!(matches!(Partial::read(&p), Err(PartialError::Json { .. })));
    std::fs::File::create(&p).unwrap().set_len(MAX_PARTIAL_LEN + 1).unwrap();
    assert!(matches!(Partial::read(&p), Err(PartialError::TooLarge { .. })));
    let zero = Partial::read(Path::new("/dev/zero")).unwrap_err();
    assert!(matches!(zero, PartialError::Json { .. }), "{zero}");
}

/// Found by the `partial` fuzz target: a repeated key was taken (the last one) when parsing
/// bytes and refused when reading the file, so `merge` could judge one partial two ways.
#[test]
fn parse_and_read_agree_on_repeated_keys_and_other_damage() {
    let (dir, parts) = two_shards();
    let p = dir.path().join("p.json");
    let line = parts[0].1.to_line();
    let repeated = line.replacen("\"shard_id\":", "\"shard_id\":\"x\",\"shard_id\":", 1);
    assert_ne!(repeated, line);
    let half = &line[..line.len() / 2];
    let cases = [
        line.as_str(),
        repeated.as_str(),
        half,
        r#"{"format":"leakmatch-partial","schema_version":9}"#,
        r#"{"a":1}"#,
    ];
    for text in cases {
        std::fs::write(&p, text).unwrap();
        let (parsed, read) = (Partial::parse(&p, text.as_bytes()), Partial::read(&p));
        match (&parsed, &read) {
            (Ok(a), Ok(b)) => assert_eq!(a, b),
            // serde_json's reader and slice parsers may place an error one column apart.
            (Err(a), Err(b)) => assert_eq!(std::mem::discriminant(a), std::mem::discriminant(b)),
            _ => panic!("parse {parsed:?} vs read {read:?}"),
        }
    }
    let err = Partial::parse(&p, repeated.as_bytes()).unwrap_err();
    assert!(matches!(err, PartialError::Json { .. }), "{err}");
    assert!(!err.to_string().contains("\"x\""), "{err}");
}
