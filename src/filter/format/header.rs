//! The header's byte layout: one encoder, and the parser that checks every field.

use std::path::Path;

use super::{
    FilterError, FilterHeader, Prf, Role, SectionInfo, FORMAT_VERSION, FORMAT_VERSION_OPRF,
    HEADER_LEN, LAYOUT_BLOCKED_512, MAGIC, MAX_METADATA, MAX_SECTIONS,
    POSITION_BLOCKED512_MULSHIFT_9BIT, PRF_KEYED_BLAKE3_128, PRF_OPRF_RISTRETTO255_SHA512,
    TRAILER_LEN,
};
use crate::filter::params::{Params, ParamsError};
use crate::ident::Kind;

/// Header offsets (bytes). Ranges not named here are reserved and must be zero.
pub(super) mod off {
    pub const MAGIC: usize = 0;
    pub const VERSION: usize = 8;
    pub const HEADER_LEN: usize = 10;
    pub const PRF: usize = 12;
    pub const POSITION: usize = 13;
    pub const LAYOUT: usize = 14;
    pub const ROLE: usize = 15;
    pub const SECTIONS: usize = 16;
    pub const CREATED: usize = 24;
    pub const SNAPSHOT: usize = 32;
    pub const META_LEN: usize = 36;
    pub const KEY_ID: usize = 40;
    pub const TOOL: usize = 56;
    pub const TOOL_LEN: usize = 32;
    pub const LABEL: usize = 88;
    pub const LABEL_LEN: usize = 128;
    /// Format version 2 only: the key service's public key (32 bytes).
    pub const OPRF_PK: usize = 216;
    pub const TABLE: usize = 256;
    pub const ENTRY_LEN: usize = 64;
    // Within a section descriptor:
    pub const E_KIND: usize = 0;
    pub const E_K: usize = 1;
    pub const E_BLOCKS: usize = 8;
    pub const E_INSERTED: usize = 16;
    pub const E_TARGET: usize = 24;
    pub const E_ACHIEVED: usize = 32;
    pub const E_OFFSET: usize = 40;
}

pub(super) fn pad64(n: u64) -> u64 {
    n.div_ceil(64) * 64
}

// Every field, the section table at its largest included, lies inside the header: the
// `expect`s of `put` and `get` state this (checked at compile time), not a property of input.
const _: () = assert!(off::TABLE + MAX_SECTIONS * off::ENTRY_LEN <= HEADER_LEN);
const _: () =
    assert!(off::LABEL + off::LABEL_LEN <= off::OPRF_PK && off::OPRF_PK + 32 <= off::TABLE);

pub(super) fn put(buf: &mut [u8], at: usize, bytes: &[u8]) {
    let end = at + bytes.len();
    buf.get_mut(at..end).expect("in-bounds header field").copy_from_slice(bytes);
}

/// The `N` bytes at `at` of a header, descriptor or trailer (whose length the caller has
/// checked: a `[u8; HEADER_LEN]`, a `[u8; ENTRY_LEN]`, the `TRAILER_LEN` bytes at the end).
pub(super) fn get<const N: usize>(buf: &[u8], at: usize) -> [u8; N] {
    *buf.get(at..).and_then(<[u8]>::first_chunk).expect("in-bounds header field")
}

pub(super) fn u64_at(buf: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(get(buf, at))
}

/// `YYYY-MM-DD` → `yyyymmdd`, for valid calendar dates only.
pub(super) fn encode_date(s: &str) -> Option<u32> {
    let b = s.as_bytes();
    if b.len() != 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<u32>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let month = time::Month::try_from(u8::try_from(m).ok()?).ok()?;
    time::Date::from_calendar_date(i32::try_from(y).ok()?, month, u8::try_from(d).ok()?).ok()?;
    Some(y * 10_000 + m * 100 + d)
}

pub(super) fn decode_date(v: u32) -> Option<String> {
    let s = format!("{:04}-{:02}-{:02}", v / 10_000, v / 100 % 100, v % 100);
    (encode_date(&s) == Some(v)).then_some(s)
}

/// A section's position in the file and its descriptor.
pub(super) struct Layout {
    pub(super) meta_len: u32,
    pub(super) offsets: Vec<u64>,
    /// Offset of the checksum = end of the last bit array.
    pub(super) bits_end: u64,
}

impl Layout {
    pub(super) fn new(meta_len: u32, sections: impl Iterator<Item = Params>) -> Layout {
        let mut at = HEADER_LEN as u64 + pad64(u64::from(meta_len));
        let offsets = sections
            .map(|p| {
                let o = at;
                at += p.bytes();
                o
            })
            .collect();
        Layout { meta_len, offsets, bits_end: at }
    }

    pub(super) fn file_len(&self) -> u64 {
        self.bits_end + TRAILER_LEN
    }
}

/// The header bytes for these values (the one encoder; the loader re-encodes to check that
/// every reserved and padding byte is zero).
pub(super) fn encode_header(
    header: &FilterHeader,
    sections: &[SectionInfo],
    layout: &Layout,
) -> Vec<u8> {
    let mut h = vec![0u8; HEADER_LEN];
    put(&mut h, off::MAGIC, &MAGIC);
    let (version, prf) = match header.prf {
        Prf::Keyed => (FORMAT_VERSION, PRF_KEYED_BLAKE3_128),
        Prf::Oprf(pk) => {
            put(&mut h, off::OPRF_PK, &pk.0);
            (FORMAT_VERSION_OPRF, PRF_OPRF_RISTRETTO255_SHA512)
        }
    };
    put(&mut h, off::VERSION, &version.to_le_bytes());
    put(&mut h, off::HEADER_LEN, &(HEADER_LEN as u16).to_le_bytes());
    put(&mut h, off::PRF, &[prf]);
    put(&mut h, off::POSITION, &[POSITION_BLOCKED512_MULSHIFT_9BIT]);
    put(&mut h, off::LAYOUT, &[LAYOUT_BLOCKED_512]);
    put(&mut h, off::ROLE, &[header.role.code()]);
    put(&mut h, off::SECTIONS, &[sections.len() as u8]);
    put(&mut h, off::CREATED, &header.created_unix.to_le_bytes());
    let date = header.snapshot_date.as_deref().and_then(encode_date).unwrap_or(0);
    put(&mut h, off::SNAPSHOT, &date.to_le_bytes());
    put(&mut h, off::META_LEN, &layout.meta_len.to_le_bytes());
    put(&mut h, off::KEY_ID, &header.key_id);
    put(&mut h, off::TOOL, header.tool_version.as_bytes());
    put(&mut h, off::LABEL, header.label.as_bytes());
    for (i, (s, &offset)) in sections.iter().zip(&layout.offsets).enumerate() {
        let e = off::TABLE + i * off::ENTRY_LEN;
        put(&mut h, e + off::E_KIND, &[s.kind.tag()]);
        put(&mut h, e + off::E_K, &[s.params.k as u8]);
        put(&mut h, e + off::E_BLOCKS, &s.params.blocks.to_le_bytes());
        put(&mut h, e + off::E_INSERTED, &s.inserted.to_le_bytes());
        put(&mut h, e + off::E_TARGET, &s.target_fpr.to_le_bytes());
        put(&mut h, e + off::E_ACHIEVED, &s.achieved_fpr.to_le_bytes());
        put(&mut h, e + off::E_OFFSET, &offset.to_le_bytes());
    }
    h
}

pub(super) fn valid_fpr(p: f64) -> bool {
    (0.0..=1.0).contains(&p)
}

/// Classifies the first 8 bytes: `Ok(())` for the magic, `Err(Some(how))` for a magic
/// mangled by a known text-mode or 7-bit transfer, `Err(None)` for anything else.
pub(super) fn check_magic(first: &[u8]) -> Result<(), Option<&'static str>> {
    if first.starts_with(&MAGIC) {
        return Ok(());
    }
    let Some((&first, rest)) = first.split_first() else {
        return Err(None);
    };
    let Some(rest) = rest.strip_prefix(b"LMF") else {
        return Err(None);
    };
    Err(Some(if first == 0x09 {
        "high bit stripped by a 7-bit transfer"
    } else if rest.starts_with(b"\n\x1a\n") {
        "CRLF converted to LF"
    } else if rest.starts_with(b"\r\r\n") || rest.starts_with(b"\r\n\x1a\r\n") {
        "LF converted to CRLF"
    } else {
        return Err(None);
    }))
}

/// A descriptor's fields, each checked against its bounds.
pub(super) fn parse_section(
    path: &Path,
    e: &[u8; off::ENTRY_LEN],
) -> Result<SectionInfo, FilterError> {
    let oob = |what| FilterError::OutOfBounds { path: path.into(), what };
    let tag = e[off::E_KIND];
    let kind = Kind::from_tag(tag).ok_or(FilterError::UnknownEnum {
        path: path.into(),
        what: "identifier kind",
        value: tag,
    })?;
    let k = u32::from(e[off::E_K]);
    let blocks = u64_at(e, off::E_BLOCKS);
    let params = Params { k, blocks };
    match params.check() {
        Err(ParamsError::K(_)) => return Err(oob("k (bits per token) outside 1..=16")),
        Err(ParamsError::Blocks(_)) => return Err(oob("block count outside 1..=2^34")),
        Ok(()) => {}
    }
    let target_fpr = f64::from_le_bytes(get(e, off::E_TARGET));
    let achieved_fpr = f64::from_le_bytes(get(e, off::E_ACHIEVED));
    if !valid_fpr(target_fpr) || !valid_fpr(achieved_fpr) {
        return Err(oob("false-positive rate outside [0, 1]"));
    }
    let inserted = u64_at(e, off::E_INSERTED);
    Ok(SectionInfo { kind, params, inserted, target_fpr, achieved_fpr })
}

/// A zero-padded UTF-8 field.
pub(super) fn parse_text(
    path: &Path,
    field: &[u8],
    what: &'static str,
) -> Result<String, FilterError> {
    let text = field.split(|&b| b == 0).next().unwrap_or_default();
    String::from_utf8(text.to_vec()).map_err(|_| FilterError::Malformed { path: path.into(), what })
}

/// Every header check except the length and the magic, in the documented order.
pub(super) fn parse_header(
    path: &Path,
    h: &[u8; HEADER_LEN],
) -> Result<(FilterHeader, Vec<SectionInfo>, Layout), FilterError> {
    let p = || path.to_path_buf();
    let found = u16::from_le_bytes(get(h, off::VERSION));
    let prf_code = match found {
        FORMAT_VERSION => PRF_KEYED_BLAKE3_128,
        FORMAT_VERSION_OPRF => PRF_OPRF_RISTRETTO255_SHA512,
        _ => {
            return Err(FilterError::UnsupportedVersion {
                path: p(),
                found,
                supported: FORMAT_VERSION_OPRF,
            })
        }
    };
    if usize::from(u16::from_le_bytes(get(h, off::HEADER_LEN))) != HEADER_LEN {
        return Err(FilterError::OutOfBounds { path: p(), what: "header length is not 4096" });
    }
    for (value, what, known) in [
        (h[off::PRF], "PRF", prf_code),
        (h[off::POSITION], "position scheme", POSITION_BLOCKED512_MULSHIFT_9BIT),
        (h[off::LAYOUT], "layout", LAYOUT_BLOCKED_512),
    ] {
        if value != known {
            return Err(FilterError::UnknownEnum { path: p(), what, value });
        }
    }
    let role = Role::from_code(h[off::ROLE]).ok_or(FilterError::UnknownEnum {
        path: p(),
        what: "role",
        value: h[off::ROLE],
    })?;
    let count = usize::from(h[off::SECTIONS]);
    if count == 0 || count > MAX_SECTIONS {
        return Err(FilterError::OutOfBounds { path: p(), what: "section count outside 1..=16" });
    }
    let meta_len = u32::from_le_bytes(get(h, off::META_LEN));
    if meta_len > MAX_METADATA {
        return Err(FilterError::OutOfBounds { path: p(), what: "metadata length over 16 MiB" });
    }
    let mut sections = Vec::with_capacity(count);
    for i in 0..count {
        let at = off::TABLE + i * off::ENTRY_LEN;
        let e = h
            .get(at..)
            .and_then(<[u8]>::first_chunk)
            .ok_or(FilterError::OutOfBounds { path: p(), what: "section table" })?;
        let s = parse_section(path, e)?;
        if sections.iter().any(|o: &SectionInfo| o.kind == s.kind) {
            return Err(FilterError::DuplicateSection { path: p(), kind: s.kind });
        }
        sections.push(s);
    }
    let layout = Layout::new(meta_len, sections.iter().map(|s| s.params));
    for (i, &offset) in layout.offsets.iter().enumerate() {
        if u64_at(h, off::TABLE + i * off::ENTRY_LEN + off::E_OFFSET) != offset {
            return Err(FilterError::OutOfBounds { path: p(), what: "section offset" });
        }
    }
    let date = u32::from_le_bytes(get(h, off::SNAPSHOT));
    let snapshot_date = match date {
        0 => None,
        v => Some(
            decode_date(v).ok_or(FilterError::Malformed { path: p(), what: "snapshot date" })?,
        ),
    };
    let key_id = get(h, off::KEY_ID);
    let prf = match found {
        FORMAT_VERSION => Prf::Keyed,
        _ => {
            let pk = crate::oprf::PublicKey(get(h, off::OPRF_PK));
            if !pk.is_valid() {
                return Err(FilterError::Malformed { path: p(), what: "OPRF public key" });
            }
            if pk.id() != key_id {
                return Err(FilterError::Malformed {
                    path: p(),
                    what: "key id does not belong to the OPRF public key",
                });
            }
            Prf::Oprf(pk)
        }
    };
    let header = FilterHeader {
        key_id,
        prf,
        created_unix: u64_at(h, off::CREATED),
        tool_version: parse_text(path, &get::<{ off::TOOL_LEN }>(h, off::TOOL), "tool version")?,
        label: parse_text(path, &get::<{ off::LABEL_LEN }>(h, off::LABEL), "label")?,
        snapshot_date,
        role,
    };
    let canonical = encode_header(&header, &sections, &layout);
    if let Some(at) = canonical.iter().zip(h).position(|(a, b)| a != b) {
        return Err(FilterError::Reserved { path: p(), offset: at as u64 });
    }
    Ok((header, sections, layout))
}
