//! Structure-aware filter loading: builds a header, metadata and bit arrays from the fuzz bytes,
//! lays them out as `docs/filter-format.md` says and writes a correct xxh3-128 checksum and MAC,
//! so that the loader's checks after the checksum (metadata, padding, sections) are reached.
//!
//! Oracles:
//! - `open` gives a filter or a `FilterError`, never a panic, with or without mmap alike;
//! - an accepted filter passes `verify` with the MAC key it was written with, has the sections
//!   the header declared, and answers `contains` without panic;
//! - an accepted filter whose metadata is in canonical form is written back by `write_filter`
//!   byte for byte (the loader accepts only what the writer writes);
//! - a file built canonically (every field in bounds, no patches, metadata serialised by serde)
//!   is accepted.
#![no_main]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use leakmatch::filter::{BirthYears, FilterFile, KindStats, Metadata, OpenOptions, MAGIC};
use leakmatch::ident::Kind;
use leakmatch::oprf::OprfKey;
use leakmatch::token::Key;
use libfuzzer_sys::fuzz_target;

#[path = "common/bytes.rs"]
mod bytes;
use bytes::Bytes;

const HEADER_LEN: usize = 4096;
const TABLE: usize = 256;
const ENTRY: usize = 64;
/// Files larger than this are not written in full (their header then announces more bytes
/// than the file has: the loader must say "truncated").
const MAX_WRITE: u64 = 1 << 20;

struct Fixed {
    dir: tempfile::TempDir,
    mac_key: [u8; 32],
    key_id: [u8; 16],
    oprf_pk: [u8; 32],
    oprf_id: [u8; 16],
}

fn fixed() -> &'static Fixed {
    static F: OnceLock<Fixed> = OnceLock::new();
    F.get_or_init(|| {
        let key = Key::from_bytes([7; 32]);
        let pk = OprfKey::from_key(&key).public_key();
        Fixed {
            dir: tempfile::tempdir().unwrap(),
            mac_key: *key.mac_key(),
            key_id: key.id(),
            oprf_pk: pk.0,
            oprf_id: pk.id(),
        }
    })
}

fn pad64(n: u64) -> u64 {
    n.div_ceil(64) * 64
}

fn put(h: &mut [u8], at: usize, b: &[u8]) {
    h[at..at + b.len()].copy_from_slice(b);
}

/// An FPR: mostly in [0, 1], sometimes any bit pattern (NaN, negative, > 1).
fn fpr(b: &mut Bytes) -> (f64, bool) {
    match b.u8() {
        255 => {
            let v = f64::from_bits(b.u64());
            (v, (0.0..=1.0).contains(&v))
        }
        n => (f64::from(n) / 254.0, true),
    }
}

/// A text field: its bytes and whether the loader must accept it.
fn text(b: &mut Bytes, max: usize) -> (Vec<u8>, bool) {
    let t = b.short(max + 8).to_vec();
    let ok = t.len() <= max && !t.contains(&0) && std::str::from_utf8(&t).is_ok();
    (t, ok)
}

fn metadata(b: &mut Bytes) -> Metadata {
    let mut kinds = BTreeMap::new();
    for _ in 0..b.u8() % 4 {
        let name = Kind::ALL[usize::from(b.u8()) % Kind::ALL.len()].name().to_string();
        let mut invalid = BTreeMap::new();
        for _ in 0..b.u8() % 3 {
            invalid
                .insert(["malformed", "check_digit", "x"][usize::from(b.u8()) % 3].into(), b.u64());
        }
        kinds.insert(name, KindStats { valid: b.u64(), invalid });
    }
    let buckets = (0..b.u8() % 4).map(|_| (b.u16(), b.u64())).collect();
    let noise_epsilon = b.bool().then(|| f64::from(b.u16()) / 100.0);
    Metadata {
        rows: b.u64(),
        kinds,
        birth_years: BirthYears {
            bucket_years: b.u16(),
            min_count: b.u64(),
            buckets,
            suppressed: b.u64(),
            noise_epsilon,
        },
    }
}

fuzz_target!(|data: &[u8]| {
    let fx = fixed();
    let mut b = Bytes::new(data);
    let flags = b.u8();
    let oprf = flags & 1 != 0;
    let raw_offsets = flags & 2 != 0;
    let raw_meta_len = flags & 4 != 0;
    let with_patches = flags & 8 != 0;
    let raw_metadata = flags & 16 != 0;
    let fill_bits = flags & 32 != 0;
    let mut canonical = !raw_offsets && !raw_meta_len && !with_patches && !raw_metadata;

    let mut h = vec![0u8; HEADER_LEN];
    put(&mut h, 0, &MAGIC);
    put(&mut h, 8, &(if oprf { 2u16 } else { 1u16 }).to_le_bytes());
    put(&mut h, 10, &(HEADER_LEN as u16).to_le_bytes());
    h[12] = if oprf { 2 } else { 1 };
    h[13] = 1;
    h[14] = 1;
    let role = b.u8();
    h[15] = if role < 240 { 1 + role % 3 } else { role };
    canonical &= (1..=3).contains(&h[15]);
    let count = usize::from(b.u8() % 18);
    h[16] = count as u8;
    canonical &= (1..=16).contains(&count);
    put(&mut h, 24, &b.u64().to_le_bytes());
    let date = match b.u8() {
        0..=99 => 0,
        100..=199 => {
            let (y, m, d) =
                (1900 + u32::from(b.u8()), 1 + u32::from(b.u8() % 12), 1 + u32::from(b.u8() % 28));
            y * 10_000 + m * 100 + d
        }
        _ => {
            canonical = false;
            b.u32()
        }
    };
    put(&mut h, 32, &date.to_le_bytes());
    let key_id = match (oprf, b.u8()) {
        (_, 255) => {
            canonical = false;
            b.array::<16>()
        }
        (true, _) => fx.oprf_id,
        (false, _) => fx.key_id,
    };
    put(&mut h, 40, &key_id);
    if oprf {
        put(&mut h, 216, &fx.oprf_pk);
    }
    let (tool, tool_ok) = text(&mut b, 32);
    let (label, label_ok) = text(&mut b, 128);
    canonical &= tool_ok && label_ok;
    put(&mut h, 56, &tool[..tool.len().min(32)]);
    put(&mut h, 88, &label[..label.len().min(128)]);

    let mut kinds_seen = Vec::new();
    let mut sizes = Vec::new();
    for i in 0..count {
        let e = TABLE + i * ENTRY;
        let tag = b.u8();
        let tag = if tag < 240 { 1 + tag % 8 } else { tag };
        canonical &= (1..=8).contains(&tag) && !kinds_seen.contains(&tag);
        kinds_seen.push(tag);
        let k = b.u8() % 20;
        canonical &= (1..=16).contains(&k);
        let blocks = match b.u8() {
            255 => {
                canonical = false;
                b.u64()
            }
            n => 1 + u64::from(n % 8),
        };
        sizes.push(blocks.saturating_mul(64));
        let (target, t_ok) = fpr(&mut b);
        let (achieved, a_ok) = fpr(&mut b);
        canonical &= t_ok && a_ok;
        h[e] = tag;
        h[e + 1] = k;
        put(&mut h, e + 8, &blocks.to_le_bytes());
        put(&mut h, e + 16, &b.u64().to_le_bytes());
        put(&mut h, e + 24, &target.to_le_bytes());
        put(&mut h, e + 32, &achieved.to_le_bytes());
    }

    let patches: Vec<(usize, u8)> = if with_patches {
        (0..1 + b.u8() % 8).map(|_| (usize::from(b.u16()) % HEADER_LEN, b.u8())).collect()
    } else {
        Vec::new()
    };
    let bit_fill = b.u8();
    let meta: Vec<u8> = if raw_metadata {
        b.short(255).to_vec()
    } else {
        serde_json::to_vec(&metadata(&mut b)).unwrap()
    };
    let meta_len = if raw_meta_len { b.u32() } else { meta.len() as u32 };
    put(&mut h, 36, &meta_len.to_le_bytes());
    let mut at = HEADER_LEN as u64 + pad64(u64::from(meta_len));
    for (i, size) in sizes.iter().enumerate() {
        let offset = if raw_offsets { b.u64() } else { at };
        put(&mut h, TABLE + i * ENTRY + 40, &offset.to_le_bytes());
        at = at.saturating_add(*size);
    }
    for (off, v) in patches {
        h[off] = v;
    }
    // Whatever is left of the input goes into the metadata padding and bit arrays when
    // `fill_bits` is set (non-zero padding must be refused).
    let tail = b.rest();

    let bits_end = at;
    let mut file = h;
    let meta_area = pad64(meta.len() as u64) as usize;
    let mut meta_padded = meta.clone();
    meta_padded.resize(meta_area, 0);
    if fill_bits && !tail.is_empty() && meta_area > meta.len() {
        meta_padded[meta.len()] = tail[0];
        canonical &= tail[0] == 0;
    }
    file.extend_from_slice(&meta_padded);
    let writable = bits_end.min(MAX_WRITE) as usize;
    if file.len() < writable {
        let start = file.len();
        file.resize(writable, bit_fill);
        if fill_bits {
            for (d, s) in file[start..].iter_mut().zip(tail) {
                *d = *s;
            }
        }
    }
    if bits_end <= MAX_WRITE {
        // The loader reads the body as far as the header says; if the metadata declared
        // shorter than written (raw length), the body is still what is checksummed.
        file.truncate(bits_end as usize);
        let sum = xxhash_rust::xxh3::xxh3_128(&file).to_le_bytes();
        file.extend_from_slice(&sum);
        let mac = blake3::keyed_hash(&fx.mac_key, &file);
        file.extend_from_slice(mac.as_bytes());
    } else {
        canonical = false;
    }

    let path: PathBuf = fx.dir.path().join("f.lmf");
    std::fs::write(&path, &file).unwrap();
    let mapped = FilterFile::open(&path, &OpenOptions::default());
    let read = FilterFile::open(&path, &OpenOptions { mmap: false, ..OpenOptions::default() });
    assert_eq!(mapped.is_ok(), read.is_ok(), "mmap and read disagree");
    let f = match mapped {
        Ok(f) => f,
        Err(e) => {
            assert!(!canonical, "a canonical filter was refused: {e}");
            return;
        }
    };
    f.verify(&fx.mac_key).expect("accepted filter fails its MAC");
    assert_eq!(f.sections.len(), count);
    for s in &f.sections {
        let view = f.section(s.kind).expect("declared section missing");
        for t in [
            0u128,
            u128::MAX,
            u128::from_le_bytes(*blake3::hash(data).as_bytes().first_chunk().unwrap()),
        ] {
            let _ = view.contains(t);
        }
        assert!(f.to_bloom(s.kind).is_some());
    }
    if serde_json::to_vec(&f.meta).unwrap() == meta[..] {
        let blooms: Vec<_> = f.sections.iter().map(|s| (*s, f.to_bloom(s.kind).unwrap())).collect();
        let refs: Vec<_> = blooms.iter().map(|(s, bl)| (*s, bl)).collect();
        let out = fx.dir.path().join("g.lmf");
        leakmatch::filter::write_filter(&out, &f.header, &refs, &f.meta, &fx.mac_key)
            .expect("accepted filter cannot be written back");
        assert!(
            std::fs::read(&out).unwrap() == file,
            "written back differs from the accepted file"
        );
    }
});
