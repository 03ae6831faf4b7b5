//! Scan-level property: with the prober collecting matches, a chunked scan gives exactly the
//! sequential scan's tally (pair counters, row sample, file-wide match positions).

use proptest::prelude::*;

use crate::dump::Source;
use crate::filter::{self, FilterFile, FilterHeader, Metadata, OpenOptions, Params, Role};
use crate::ident::Kind;
use crate::scan::{run_input_chunked, Inserter, Prepared, Prober, Tokenize};
use crate::tally::Tally;
use crate::token::Key;

const KINDS: [Kind; 3] = [Kind::Kvnr, Kind::NameDob, Kind::KvnrNameDob];
const HEADER: &str = "KVNR;Nachname;Vorname;Geburtsdatum\n";
const PEOPLE: [(&str, &str, &str, &str); 3] = [
    ("A123456780", "Meier", "Hans", "01.02.1960"),
    ("Z987654321", "Groß", "Jörg", "15.03.1961"),
    ("M234567898", "Schmidt", "Anna", "03.04.1970"),
];

fn key() -> Key {
    Key::from_bytes([3; 32])
}

/// A filter holding the three people, written to `dir` and opened.
fn filter(dir: &std::path::Path) -> FilterFile {
    let mut csv = HEADER.to_string();
    PEOPLE.iter().for_each(|p| csv.push_str(&format!("{};{};{};{}\n", p.0, p.1, p.2, p.3)));
    let input = Prepared::from_source(Source::from_bytes("c.csv", csv.into_bytes()), &[]).unwrap();
    let params = Params::for_count(100, 1e-9);
    let inserter = Inserter::new(KINDS.map(|k| (k, params)));
    let pipeline = Tokenize::new(key().tokenizer(), &KINDS);
    run_input_chunked(&input, &pipeline, 0, &inserter, &|_| {}, usize::MAX).unwrap();
    let blooms = inserter.into_sections();
    let sections: Vec<_> = blooms
        .iter()
        .map(|(kind, b)| {
            let kind = *kind;
            let info = filter::SectionInfo {
                kind,
                params,
                inserted: 3,
                target_fpr: 1e-9,
                achieved_fpr: b.achieved_fpr(),
            };
            (info, b)
        })
        .collect();
    let header = FilterHeader {
        key_id: key().id(),
        created_unix: 0,
        tool_version: "t".into(),
        label: "t".into(),
        snapshot_date: None,
        role: Role::Customers,
        prf: crate::filter::Prf::Keyed,
    };
    let path = dir.join("f.lmf");
    filter::write_filter(&path, &header, sections, &Metadata::default(), &key().mac_key()).unwrap();
    FilterFile::open(&path, &OpenOptions::default()).unwrap()
}

fn scan(filters: &[FilterFile], bytes: &[u8], target: usize) -> Tally {
    let input = Prepared::from_source(Source::from_bytes("d.csv", bytes.to_vec()), &[]).unwrap();
    let prober = Prober::new(filters).collect_matches(true);
    let pipeline = Tokenize::new(key().tokenizer(), &KINDS);
    run_input_chunked(&input, &pipeline, filters.len(), &prober, &|_| {}, target).unwrap()
}

/// Rows: a person, a recombined row (KVNR of one, name of another), a stranger, a blank line.
fn rows() -> impl Strategy<Value = Vec<u8>> {
    let row = (0usize..3, 0usize..3, 0u8..4).prop_map(|(a, b, what)| match what {
        0 => format!("{};{};{};{}\n", PEOPLE[a].0, PEOPLE[a].1, PEOPLE[a].2, PEOPLE[a].3),
        1 => format!("{};{};{};{}\n", PEOPLE[a].0, PEOPLE[b].1, PEOPLE[b].2, PEOPLE[b].3),
        2 => "B111111110;Wagner;Eva;01.01.1990\n".to_string(),
        _ => "\n".to_string(),
    });
    proptest::collection::vec(row, 0..80)
        .prop_map(|r| format!("{HEADER}{}", r.concat()).into_bytes())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn chunked_scan_with_matches_equals_sequential(bytes in rows(), target in 1usize..300) {
        let dir = tempfile::tempdir().unwrap();
        let filters = [filter(dir.path())];
        let sequential = scan(&filters, &bytes, usize::MAX);
        let chunked = scan(&filters, &bytes, target);
        prop_assert_eq!(&chunked, &sequential);
        // every match position is the start of its line, numbered file-wide
        for m in &sequential.matches {
            let b = m.pos.byte as usize;
            prop_assert_eq!(bytes[b - 1], b'\n');
            let line = bytes[..b].iter().filter(|&&c| c == b'\n').count() as u64 + 1;
            prop_assert_eq!(m.pos.line, line);
        }
        let ft = &sequential.filters[0];
        prop_assert_eq!(sequential.matches.len() as u64, ft.matched_any);
        let pair = Kind::KvnrNameDob.index();
        prop_assert_eq!(ft.pair_both[pair] - ft.pair_missed[pair], ft.hits[pair]);
    }
}
