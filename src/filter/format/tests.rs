//! Round trips and every refusal of the loader, each with its own error.

use super::header::{decode_date, encode_date, off, put};
use super::*;
use crate::filter::bloom::Bloom;
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

const MAC_KEY: [u8; 32] = [9; 32];

type Mangle = fn(&[u8]) -> Vec<u8>;
type Patch = fn(&mut Vec<u8>);
type Expect = fn(&FilterError) -> bool;

fn header() -> FilterHeader {
    FilterHeader {
        key_id: [0xAB; 16],
        created_unix: 1_790_000_000,
        tool_version: "leakmatch 0.1.0".into(),
        label: "Musterkasse Versicherte — Stand März".into(),
        snapshot_date: Some("2026-03-31".into()),
        role: Role::Customers,
        prf: crate::filter::Prf::Keyed,
    }
}

fn meta() -> Metadata {
    let mut kinds = BTreeMap::new();
    let invalid = BTreeMap::from([("wrong_check_digit".to_string(), 3)]);
    kinds.insert("kvnr".into(), KindStats { valid: 1000, invalid });
    let years = (1930..2010u16).map(|y| (y, u64::from(y % 7) * 3));
    Metadata { rows: 1003, kinds, birth_years: BirthYears::from_counts(years, 5, 20) }
}

fn section(kind: Kind, n: u64, seed: u128) -> (SectionInfo, Bloom) {
    let params = Params::for_count(n, 1e-4);
    let mut bloom = Bloom::new(params);
    (0..u128::from(n)).for_each(|i| bloom.insert(i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ seed));
    let info = SectionInfo {
        kind,
        params,
        inserted: n,
        target_fpr: 1e-4,
        achieved_fpr: bloom.achieved_fpr(),
    };
    (info, bloom)
}

/// A valid two-section filter at `dir/f.lmf`.
fn write_sample(dir: &Path) -> (PathBuf, Vec<(SectionInfo, Bloom)>) {
    let path = dir.join("f.lmf");
    let secs = vec![section(Kind::Kvnr, 1000, 1), section(Kind::Email, 300, 2)];
    let refs: Vec<_> = secs.iter().map(|(i, b)| (*i, b)).collect();
    let len = write_filter(&path, &header(), refs, &meta(), &MAC_KEY).unwrap();
    assert_eq!(fs::metadata(&path).unwrap().len(), len);
    (path, secs)
}

fn patched(path: &Path, f: impl FnOnce(&mut Vec<u8>)) -> Result<FilterFile, FilterError> {
    let mut bytes = fs::read(path).unwrap();
    f(&mut bytes);
    fs::write(path, &bytes).unwrap();
    FilterFile::open(path, &OpenOptions::default())
}

#[test]
fn round_trip_keeps_header_sections_metadata_and_answers() {
    let dir = tempfile::tempdir().unwrap();
    let (path, secs) = write_sample(dir.path());
    for mmap in [true, false] {
        let f = FilterFile::open(
            &path,
            &OpenOptions { verify_checksum: true, mmap, ..OpenOptions::default() },
        )
        .unwrap();
        assert_eq!(f.header, header());
        assert_eq!(f.meta, meta());
        assert_eq!(f.sections, secs.iter().map(|s| s.0).collect::<Vec<_>>());
        for (info, bloom) in &secs {
            let view = f.section(info.kind).unwrap();
            assert_eq!(view.blocks(), bloom.blocks());
            assert_eq!(f.to_bloom(info.kind).as_ref(), Some(bloom));
            assert!((0..100u128).all(|t| view.contains(t) == bloom.contains(t)));
        }
        assert!(f.section(Kind::Phone).is_none());
        f.verify_mac(&MAC_KEY).unwrap();
        f.check_key(&[0xAB; 16]).unwrap();
    }
}

#[test]
fn metadata_suppresses_small_birth_year_buckets() {
    let b = BirthYears::from_counts([(1961, 4), (1963, 4), (1972, 2), (1990, 30)], 5, 5);
    assert_eq!(b.buckets, vec![(1960, 8), (1990, 30)]);
    assert_eq!(b.suppressed, 2);
}

#[test]
fn refuses_truncated_and_padded_files_with_their_own_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = write_sample(dir.path());
    let full = fs::metadata(&path).unwrap().len();
    let err = patched(&path, |b| {
        b.pop();
    });
    assert!(
        matches!(err, Err(FilterError::Truncated { expected, actual, .. }) if expected == full && actual == full - 1)
    );
    let (path, _) = write_sample(dir.path());
    let err = patched(&path, |b| b.push(0));
    assert!(
        matches!(err, Err(FilterError::Padded { expected, actual, .. }) if expected == full && actual == full + 1)
    );
    let err = patched(&path, |b| b.truncate(100));
    assert!(matches!(err, Err(FilterError::Truncated { actual: 100, .. })));
}

#[test]
fn refuses_a_flipped_bit_by_checksum_and_mac() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = write_sample(dir.path());
    let err = patched(&path, |b| b[HEADER_LEN + 1000] ^= 0x10).unwrap_err();
    assert!(matches!(err, FilterError::Checksum { .. }));
    assert!(err.to_string().contains("checksum mismatch: file damaged"));
    let unchecked = OpenOptions { verify_checksum: false, mmap: true, ..OpenOptions::default() };
    let f = FilterFile::open(&path, &unchecked).unwrap();
    assert!(matches!(f.verify_mac(&MAC_KEY), Err(FilterError::Mac { .. })));
}

#[test]
fn verify_checks_the_mac_and_tells_damage_from_another_key() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = write_sample(dir.path());
    let unchecked = OpenOptions { verify_checksum: false, mmap: true, ..OpenOptions::default() };
    let f = FilterFile::open(&path, &unchecked).unwrap();
    f.verify(&MAC_KEY).unwrap();
    assert!(matches!(f.verify(&[8; 32]), Err(FilterError::Mac { .. })));
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[HEADER_LEN + 1000] ^= 0x10;
    std::fs::write(&path, &bytes).unwrap();
    let f = FilterFile::open(&path, &unchecked).unwrap();
    assert!(matches!(f.verify(&MAC_KEY), Err(FilterError::Checksum { .. })));
    // A damaged MAC itself: the checksum holds, so it is reported as a MAC failure.
    bytes[HEADER_LEN + 1000] ^= 0x10;
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&path, &bytes).unwrap();
    let f = FilterFile::open(&path, &unchecked).unwrap();
    assert!(matches!(f.verify(&MAC_KEY), Err(FilterError::Mac { .. })));
}

#[test]
fn refuses_wrong_mac_key_and_other_key_id() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = write_sample(dir.path());
    let f = FilterFile::open(&path, &OpenOptions::default()).unwrap();
    assert!(matches!(f.verify_mac(&[8; 32]), Err(FilterError::Mac { .. })));
    let err = f.check_key(&[0xCD; 16]).unwrap_err().to_string();
    assert!(err.contains(&"ab".repeat(16)) && err.contains(&"cd".repeat(16)), "{err}");
    assert!(err.contains("f.lmf"));
}

#[test]
fn refuses_wrong_magic_and_names_text_mode_damage() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = write_sample(dir.path());
    assert!(matches!(
        patched(&path, |b| b[..6].copy_from_slice(b"GIF89a")),
        Err(FilterError::BadMagic { .. })
    ));
    let cases: [(Mangle, &str); 3] = [
        (
            |b| {
                b.iter()
                    .enumerate()
                    .filter(|&(i, &c)| !(c == b'\r' && b.get(i + 1) == Some(&b'\n')))
                    .map(|(_, &c)| c)
                    .collect()
            },
            "CRLF converted to LF",
        ),
        (
            |b| b.iter().flat_map(|&c| if c == b'\n' { vec![b'\r', c] } else { vec![c] }).collect(),
            "LF converted to CRLF",
        ),
        (|b| b.iter().map(|c| c & 0x7F).collect(), "7-bit"),
    ];
    for (mangle, how) in cases {
        let (path, _) = write_sample(dir.path());
        let err = patched(&path, |b| *b = mangle(b)).unwrap_err();
        assert!(matches!(err, FilterError::TextModeMangled { .. }), "{how}: {err}");
        assert!(err.to_string().contains(how), "{err}");
    }
}

#[test]
fn refuses_other_version_naming_found_and_supported() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = write_sample(dir.path());
    let err = patched(&path, |b| b[off::VERSION] = 3).unwrap_err();
    assert!(matches!(err, FilterError::UnsupportedVersion { found: 3, supported: 2, .. }));
    assert!(err.to_string().contains("versions 1 to 2"), "{err}");
}

#[test]
fn refuses_huge_claimed_sizes_quickly_without_allocating() {
    let dir = tempfile::tempdir().unwrap();
    let blocks_at = off::TABLE + off::E_BLOCKS;
    for (blocks, over_bound) in [(1u64 << 40, true), (1 << 34, false)] {
        let (path, _) = write_sample(dir.path());
        let start = Instant::now();
        let err = patched(&path, |b| put(b, blocks_at, &blocks.to_le_bytes())).unwrap_err();
        assert!(start.elapsed() < Duration::from_secs(2));
        match (over_bound, err) {
            (true, FilterError::OutOfBounds { what, .. }) => {
                assert!(what.contains("block count"))
            }
            // Within bounds but the offsets of later sections no longer match.
            (false, FilterError::OutOfBounds { what, .. }) => {
                assert_eq!(what, "section offset")
            }
            (_, e) => panic!("unexpected {e}"),
        }
    }
    // A single section claiming 1 TiB: consistent header, refused by length.
    let path = dir.path().join("one.lmf");
    let (info, bloom) = section(Kind::Kvnr, 10, 3);
    write_filter(&path, &header(), [(info, &bloom)], &Metadata::default(), &MAC_KEY).unwrap();
    let err = patched(&path, |b| put(b, blocks_at, &(1u64 << 34).to_le_bytes())).unwrap_err();
    assert!(matches!(err, FilterError::Truncated { expected, .. } if expected > 1 << 40));
}

#[test]
fn refuses_bad_fields_each_with_its_error() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(Patch, Expect); 7] = [
        (
            |b| b[off::PRF] = 2,
            |e| matches!(e, FilterError::UnknownEnum { what: "PRF", value: 2, .. }),
        ),
        (|b| b[off::ROLE] = 0, |e| matches!(e, FilterError::UnknownEnum { what: "role", .. })),
        (|b| b[off::TABLE + off::E_K] = 17, |e| matches!(e, FilterError::OutOfBounds { .. })),
        (|b| b[off::SECTIONS] = 17, |e| matches!(e, FilterError::OutOfBounds { .. })),
        (|b| b[20] = 1, |e| matches!(e, FilterError::Reserved { offset: 20, .. })),
        (
            |b| b[off::TABLE + off::ENTRY_LEN] = Kind::Kvnr.tag(),
            |e| matches!(e, FilterError::DuplicateSection { .. }),
        ),
        (|b| b[off::LABEL] = 0xFF, |e| matches!(e, FilterError::Malformed { what: "label", .. })),
    ];
    for (i, (patch, expect)) in cases.into_iter().enumerate() {
        let (path, _) = write_sample(dir.path());
        let err = patched(&path, patch).unwrap_err();
        assert!(expect(&err), "case {i}: {err}");
    }
}

#[test]
fn refuses_directories_and_fifos() {
    let dir = tempfile::tempdir().unwrap();
    let err = FilterFile::open(dir.path(), &OpenOptions::default()).unwrap_err();
    assert!(matches!(err, FilterError::NotRegularFile { .. }));
    let fifo = dir.path().join("fifo");
    if std::process::Command::new("mkfifo").arg(&fifo).status().is_ok_and(|s| s.success()) {
        let err = FilterFile::open(&fifo, &OpenOptions::default()).unwrap_err();
        assert!(matches!(err, FilterError::NotRegularFile { .. }));
    }
}

#[test]
fn failed_writes_leave_no_file_behind() {
    let dir = tempfile::tempdir().unwrap();
    let (info, bloom) = section(Kind::Kvnr, 10, 4);
    let missing = dir.path().join("no/such/dir/f.lmf");
    let err = write_filter(&missing, &header(), [(info, &bloom)], &meta(), &MAC_KEY);
    assert!(matches!(err, Err(FilterError::Output(crate::output::OutputError::Io { .. }))));
    let path = dir.path().join("g.lmf");
    let wrong = SectionInfo { params: Params::new(3, 1).unwrap(), ..info };
    let err = write_filter(&path, &header(), [(wrong, &bloom)], &meta(), &MAC_KEY);
    assert!(matches!(err, Err(FilterError::GeometryMismatch { .. })));
    let long = FilterHeader { label: "x".repeat(129), ..header() };
    let err = write_filter(&path, &long, [(info, &bloom)], &meta(), &MAC_KEY);
    assert!(matches!(err, Err(FilterError::InvalidInput { .. })));
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0, "no file or temp file left");
}

#[test]
fn rewriting_replaces_the_old_file_whole() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = write_sample(dir.path());
    let (info, bloom) = section(Kind::Phone, 50, 5);
    let h = FilterHeader { snapshot_date: None, role: Role::Canary, ..header() };
    write_filter(&path, &h, [(info, &bloom)], &Metadata::default(), &MAC_KEY).unwrap();
    let f = FilterFile::open(&path, &OpenOptions::default()).unwrap();
    assert_eq!((f.header.role, f.sections.len()), (Role::Canary, 1));
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn dates_and_roles_round_trip_and_bad_ones_are_refused() {
    assert_eq!(encode_date("2024-02-29"), Some(20240229));
    assert_eq!(decode_date(20240229).as_deref(), Some("2024-02-29"));
    for bad in ["2023-02-29", "2024-13-01", "24-01-01", "2024/01/01", "2024-1-011"] {
        assert_eq!(encode_date(bad), None, "{bad}");
    }
    assert_eq!(decode_date(20231301), None);
    for r in Role::ALL {
        assert_eq!(Role::from_name(r.name()), Some(r));
        assert_eq!(Role::from_code(r.code()), Some(r));
    }
}

#[cfg(unix)]
#[test]
fn writes_into_a_device_and_refuses_a_directory_never_replacing_either() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().unwrap();
    let secs = [section(Kind::Kvnr, 10, 1)];
    let refs: Vec<_> = secs.iter().map(|(i, b)| (*i, b)).collect();
    let e = write_filter(dir.path(), &header(), refs.clone(), &meta(), &MAC_KEY).unwrap_err();
    assert!(e.to_string().contains("refusing to write"), "{e}");
    assert!(fs::metadata(dir.path()).unwrap().is_dir());
    write_filter(Path::new("/dev/null"), &header(), refs, &meta(), &MAC_KEY).unwrap();
    assert!(fs::metadata("/dev/null").unwrap().file_type().is_char_device());
}

/// A file whose header is consistent with `blocks` blocks of one section, extended to that
/// length with a hole (`truncate -s`): what an attacker crafts without writing the bytes.
fn sparse_filter(path: &Path, blocks: u64) -> u64 {
    use super::header::{encode_header, Layout};
    let params = Params::new(8, blocks).unwrap();
    let info =
        SectionInfo { kind: Kind::Kvnr, params, inserted: 1, target_fpr: 1e-4, achieved_fpr: 1e-4 };
    let json = b"{}";
    let layout = Layout::new(json.len() as u32, std::iter::once(params));
    let mut bytes = encode_header(&header(), &[info], &layout);
    bytes.extend_from_slice(json);
    fs::write(path, &bytes).unwrap();
    let f = fs::OpenOptions::new().write(true).open(path).unwrap();
    f.set_len(layout.file_len()).unwrap();
    layout.file_len()
}

#[test]
fn refuses_a_sparse_terabyte_and_a_filter_over_the_size_limit_before_hashing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sparse.lmf");
    let len = sparse_filter(&path, 1 << 34); // 1 TiB of bits
    let start = Instant::now();
    let err = FilterFile::open(&path, &OpenOptions::default()).unwrap_err();
    assert!(matches!(err, FilterError::TooLarge { max: DEFAULT_MAX_FILTER_LEN, .. }), "{err}");
    let unlimited = OpenOptions { max_len: u64::MAX, ..OpenOptions::default() };
    let err = FilterFile::open(&path, &unlimited).unwrap_err();
    assert!(matches!(err, FilterError::Sparse { len: l, .. } if l == len), "{err}");
    assert!(start.elapsed() < Duration::from_secs(5), "refused before hashing");
    let small = dir.path().join("small.lmf");
    sparse_filter(&small, 1 << 21); // 128 MiB, within the limit, but a hole
    let err = FilterFile::open(&small, &OpenOptions::default()).unwrap_err();
    assert!(matches!(err, FilterError::Sparse { .. }), "{err}");
    let tight = OpenOptions { max_len: 1 << 20, ..OpenOptions::default() };
    let err = FilterFile::open(&small, &tight).unwrap_err();
    assert!(err.to_string().contains("--max-filter-gib"), "{err}");
}

#[test]
fn a_metadata_error_names_the_field_never_the_content() {
    use super::header::{encode_header, Layout};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.lmf");
    let params = Params::new(8, 4).unwrap();
    let info =
        SectionInfo { kind: Kind::Kvnr, params, inserted: 1, target_fpr: 1e-4, achieved_fpr: 1e-4 };
    for (json, field) in [
        (r#"{"rows":"planted.marker@example.org"}"#, "field rows "),
        (r#"{"rows":1,"kinds":{"planted.marker@example.org":{"valid":"x"}}}"#, "field kinds.?"),
    ] {
        let layout = Layout::new(json.len() as u32, std::iter::once(params));
        let mut bytes = encode_header(&header(), &[info], &layout);
        bytes.extend_from_slice(json.as_bytes());
        bytes.resize(layout.file_len() as usize, 0);
        fs::write(&path, &bytes).unwrap();
        let opts = OpenOptions { verify_checksum: false, ..OpenOptions::default() };
        let err = FilterFile::open(&path, &opts).unwrap_err().to_string();
        assert!(err.contains(field) && !err.contains("planted"), "{err}");
    }
}

#[test]
fn noised_birth_years_hide_one_person_within_the_noise_and_keep_the_shape() {
    use rand::SeedableRng;
    let mut rng = rand_pcg::Pcg64::seed_from_u64(7);
    let base: Vec<(u16, u64)> = (1940..2000).map(|y| (y, 100)).collect();
    let plus_one = [base.clone(), vec![(1961, 1)]].concat();
    // The differencing attack on plain histograms: the bucket of the one added person shows.
    let (a, b) = (
        BirthYears::from_counts(base.clone(), 5, 10),
        BirthYears::from_counts(plus_one.clone(), 5, 10),
    );
    let diff: Vec<_> = a.buckets.iter().zip(&b.buckets).filter(|(x, y)| x != y).collect();
    assert_eq!(diff, vec![(&(1960, 500), &(1960, 501))]);
    // With noise at ε = 1, the bucket of 1960 differs about as often as every other one.
    let (mut differs_1960, mut differs_other, runs) = (0, 0, 400);
    for _ in 0..runs {
        let a = BirthYears::noised(base.clone(), 5, 10, 1900..=2099, 1.0, &mut rng);
        let b = BirthYears::noised(plus_one.clone(), 5, 10, 1900..=2099, 1.0, &mut rng);
        assert_eq!(a.noise_epsilon, Some(1.0));
        let get = |h: &BirthYears, y| h.buckets.iter().find(|b| b.0 == y).map_or(0, |b| b.1);
        differs_1960 += usize::from(get(&a, 1960) != get(&b, 1960));
        differs_other += usize::from(get(&a, 1970) != get(&b, 1970));
        let total: u64 = a.buckets.iter().map(|b| b.1).sum();
        assert!(total.abs_diff(6000) < 200, "the shape is kept: {total}");
    }
    assert!(differs_1960.abs_diff(differs_other) < runs / 8, "{differs_1960} vs {differs_other}");
}

fn oprf_header() -> FilterHeader {
    let pk = crate::oprf::OprfKey::from_key(&crate::token::Key::from_bytes([4; 32])).public_key();
    FilterHeader { key_id: pk.id(), prf: Prf::Oprf(pk), ..header() }
}

#[test]
fn oprf_filters_are_version_2_and_round_trip_their_public_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("o.lmf");
    let (info, bloom) = section(Kind::Kvnr, 500, 3);
    let h = oprf_header();
    let check = h.prf.oprf_public_key().unwrap().check_key();
    write_filter(&path, &h, [(info, &bloom)], &meta(), &check).unwrap();
    let bytes = fs::read(&path).unwrap();
    assert_eq!(u16::from_le_bytes([bytes[off::VERSION], bytes[off::VERSION + 1]]), 2);
    assert_eq!(bytes[off::PRF], 2);
    let f = FilterFile::open(&path, &OpenOptions::default()).unwrap();
    assert_eq!(f.header, h);
    f.verify_mac(&check).unwrap();
    // Keyed filters keep version 1 and a zero public-key field.
    let (keyed, _) = write_sample(dir.path());
    let bytes = fs::read(&keyed).unwrap();
    assert_eq!(bytes[off::VERSION], 1);
    assert!(bytes[off::OPRF_PK..off::OPRF_PK + 32].iter().all(|&b| b == 0));
}

#[test]
fn refuses_oprf_header_with_bad_public_key_or_foreign_key_id() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("o.lmf");
    let (info, bloom) = section(Kind::Kvnr, 500, 3);
    let h = oprf_header();
    let write = || {
        let check = h.prf.oprf_public_key().unwrap().check_key();
        write_filter(&path, &h, [(info, &bloom)], &meta(), &check).unwrap();
    };
    write();
    let err = patched(&path, |b| b[off::KEY_ID] ^= 1).unwrap_err();
    assert!(err.to_string().contains("key id does not belong"), "{err}");
    write();
    let err = patched(&path, |b| b[off::OPRF_PK..off::OPRF_PK + 32].fill(0xff)).unwrap_err();
    assert!(err.to_string().contains("OPRF public key"), "{err}");
    // A version-1 file whose PRF byte claims OPRF is refused as an unknown enum.
    let (keyed, _) = write_sample(dir.path());
    let err = patched(&keyed, |b| b[off::PRF] = 2).unwrap_err();
    assert!(matches!(err, FilterError::UnknownEnum { what: "PRF", value: 2, .. }), "{err}");
}

/// The format fixes every byte: the same input gives the same file, whatever the writer does
/// inside (how it hashes, when it frees a section). The digest is of the file the serial writer of
/// 9e68d20 wrote for this input; the first section (3.2 MB, filled through an
/// [`AtomicBloom`] like a build's) spans a huge-page prefix and a small-page tail.
#[test]
fn a_filter_file_keeps_the_bytes_of_the_reference_writer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.lmf");
    let big = Params::new(16, 50_000).unwrap();
    let atomic = crate::filter::AtomicBloom::new(big);
    (0..200_000u128).for_each(|i| atomic.insert(i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 7));
    let bloom = atomic.into_bloom();
    let info = SectionInfo {
        kind: Kind::Kvnr,
        params: big,
        inserted: 200_000,
        target_fpr: 1e-4,
        achieved_fpr: bloom.achieved_fpr(),
    };
    let (small_info, small) = section(Kind::Email, 300, 2);
    let secs = vec![(info, bloom), (small_info, small)];
    let len = write_filter(&path, &header(), secs, &meta(), &MAC_KEY).unwrap();
    let bytes = fs::read(&path).unwrap();
    assert_eq!(bytes.len() as u64, len);
    assert_eq!(
        blake3::hash(&bytes).to_hex().as_str(),
        "1d0c68beec2119691492eb7cb7e204e7b1fdd186bff6b97747bf2630f295ee53"
    );
}
