//! Opening a filter file: every check before any allocation, then map, checksum, metadata.

use std::fs::{self, File};
use std::io::{self, Read, Seek};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::header::{check_magic, get, pad64, parse_header};
use super::{FilterError, FilterHeader, Metadata, SectionInfo, HEADER_LEN, MAGIC, TRAILER_LEN};
use crate::filter::bloom::{Block, Bloom, BloomRef};
use crate::filter::params::BLOCK_BYTES;
use crate::ident::Kind;
use crate::token::KeyId;

/// Default for the largest filter file loaded: 64 GiB (a filter of several billion
/// identifiers at 1e-6 FPR; the format itself allows 1 TiB per section).
pub const DEFAULT_MAX_FILTER_LEN: u64 = 64 << 30;

/// The largest filter file loaded by [`OpenOptions::default`], set once from the command
/// line's `--max-filter-gib` ([`set_max_filter_len`]).
static MAX_FILTER_LEN: AtomicU64 = AtomicU64::new(DEFAULT_MAX_FILTER_LEN);

/// Sets the largest filter file that [`OpenOptions::default`] loads (process-wide).
pub fn set_max_filter_len(bytes: u64) {
    MAX_FILTER_LEN.store(bytes, Ordering::Relaxed);
}

/// A file of at least this many bytes must have at least an eighth of them allocated on disk:
/// a sparse file (holes, e.g. a crafted header with `truncate -s 1T`) is refused before it is
/// hashed, instead of hashing a terabyte of zeros.
const SPARSE_CHECK_FROM: u64 = 64 << 20;

/// How to open a filter file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenOptions {
    /// Largest file length accepted (default: [`DEFAULT_MAX_FILTER_LEN`] or the value given
    /// to [`set_max_filter_len`]); checked against the header before anything is mapped.
    pub max_len: u64,
    /// Verify the xxh3-128 checksum over the whole file (default true; costs one pass).
    pub verify_checksum: bool,
    /// Memory-map the file (default true). A mapped file that another process truncates or
    /// rewrites in place can crash the reader (SIGBUS) or change answers; leakmatch's own
    /// writers replace files by rename and never do that. Set false to read into memory.
    pub mmap: bool,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            max_len: MAX_FILTER_LEN.load(Ordering::Relaxed),
            verify_checksum: true,
            mmap: true,
        }
    }
}

enum Backing {
    Mmap(memmap2::Mmap),
    Owned(Vec<Block>),
}

/// An opened, validated filter file.
pub struct FilterFile {
    /// The path it was opened from.
    pub path: PathBuf,
    /// The header's descriptive fields.
    pub header: FilterHeader,
    /// The sections, in file order.
    pub sections: Vec<SectionInfo>,
    /// The metadata section.
    pub meta: Metadata,
    /// Length of the file in bytes.
    pub file_len: u64,
    offsets: Vec<u64>,
    /// End of the bit arrays: where the checksum trailer starts.
    bits_end: u64,
    backing: Backing,
}

impl std::fmt::Debug for FilterFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FilterFile")
            .field("path", &self.path)
            .field("header", &self.header)
            .field("sections", &self.sections)
            .field("file_len", &self.file_len)
            .finish_non_exhaustive()
    }
}

/// Reads up to `buf.len()` bytes; returns how many (fewer only at end of file).
fn read_up_to(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while let Some(rest) = buf.get_mut(got..).filter(|r| !r.is_empty()) {
        match file.read(rest) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Maps the file, or reads it into 64-byte-aligned memory. `len` has been validated.
fn load(file: &mut File, len: u64, mmap: bool) -> io::Result<Backing> {
    if mmap {
        // SAFETY: the mapping is read-only; it stays valid as long as no process truncates
        // or rewrites the file in place while it is open (documented on `OpenOptions::mmap`;
        // leakmatch itself only ever replaces filter files by rename).
        let map = unsafe { memmap2::Mmap::map(&*file)? };
        // Advice only: lets the kernel map the bit arrays with 2 MiB pages where the page
        // cache holds the file in 2 MiB folios (and read it so on a cache miss). Probes are
        // random over the whole filter, so 4 KiB pages make nearly every probe a TLB miss
        // (benches/README.md, session 6: −18 % user CPU of a 4-kind scan).
        #[cfg(target_os = "linux")]
        let _ = map.advise(memmap2::Advice::HugePage);
        if map.len() as u64 == len && (map.as_ptr() as usize).is_multiple_of(64) {
            return Ok(Backing::Mmap(map));
        }
    }
    let mut blocks = vec![Block::ZERO; len.div_ceil(BLOCK_BYTES) as usize];
    file.rewind()?;
    let bytes = bytemuck::cast_slice_mut::<Block, u8>(&mut blocks);
    file.read_exact(bytes.get_mut(..len as usize).unwrap_or_default())?;
    Ok(Backing::Owned(blocks))
}

/// The path of a metadata field that did not decode, e.g. `kinds.kvnr.valid`, naming only
/// what cannot be data: a map key that is not a short `[a-z0-9_+]` word is shown as `?`
/// (serde's own message may quote the value, so it is not shown at all).
fn field_name(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let word = |k: &str| {
        k.len() <= 32
            && k.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_+:".contains(&b))
    };
    let parts: Vec<String> = path
        .iter()
        .map(|s| match s {
            Segment::Seq { index } => index.to_string(),
            Segment::Map { key } if word(key) => key.clone(),
            Segment::Enum { variant } if word(variant) => variant.clone(),
            _ => "?".to_string(),
        })
        .collect();
    if parts.is_empty() {
        "(top level)".into()
    } else {
        parts.join(".")
    }
}

/// Refuses a large file most of whose length is holes (see [`SPARSE_CHECK_FROM`]).
fn check_not_sparse(path: &Path, file: &File, len: u64) -> Result<(), FilterError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let meta =
            file.metadata().map_err(|source| FilterError::Io { path: path.into(), source })?;
        let allocated = meta.blocks().saturating_mul(512);
        if len >= SPARSE_CHECK_FROM && allocated < len / 8 {
            return Err(FilterError::Sparse { path: path.into(), len, allocated });
        }
    }
    #[cfg(not(unix))]
    let _ = (path, file, len);
    Ok(())
}

/// The header of `path` after the file-type, magic and size checks; and the file's length.
fn read_header(path: &Path, file: &mut File) -> Result<([u8; HEADER_LEN], u64), FilterError> {
    let io_err = |source| FilterError::Io { path: path.into(), source };
    let meta = file.metadata().map_err(io_err)?;
    if !meta.is_file() {
        return Err(FilterError::NotRegularFile { path: path.into() });
    }
    let mut head = [0u8; HEADER_LEN];
    let got = read_up_to(file, &mut head).map_err(io_err)?;
    let actual = meta.len();
    let read = head.get(..got).unwrap_or_default();
    match check_magic(read.get(..MAGIC.len()).unwrap_or(read)) {
        Ok(()) => {}
        Err(None) if got < MAGIC.len() && MAGIC.starts_with(read) => {}
        Err(None) => return Err(FilterError::BadMagic { path: path.into() }),
        Err(Some(how)) => return Err(FilterError::TextModeMangled { path: path.into(), how }),
    }
    if got < HEADER_LEN {
        let expected = HEADER_LEN as u64 + TRAILER_LEN;
        return Err(FilterError::Truncated { path: path.into(), expected, actual });
    }
    Ok((head, actual))
}

impl FilterFile {
    /// Opens and validates a filter file; the checks and their order are listed in
    /// `docs/filter-format.md`. Nothing proportional to the sizes claimed by the header is
    /// allocated or mapped before the real file length has been found equal to them.
    pub fn open(path: &Path, opts: &OpenOptions) -> Result<FilterFile, FilterError> {
        let io_err = |source| FilterError::Io { path: path.into(), source };
        // Check the type before opening: opening a FIFO for reading would block.
        if !fs::metadata(path).map_err(io_err)?.is_file() {
            return Err(FilterError::NotRegularFile { path: path.into() });
        }
        let mut file = File::open(path).map_err(io_err)?;
        let (head, actual) = read_header(path, &mut file)?;
        let (header, sections, layout) = parse_header(path, &head)?;
        let expected = layout.file_len();
        if actual < expected {
            return Err(FilterError::Truncated { path: path.into(), expected, actual });
        }
        if actual > expected {
            return Err(FilterError::Padded { path: path.into(), expected, actual });
        }
        if expected > opts.max_len {
            return Err(FilterError::TooLarge {
                path: path.into(),
                len: expected,
                max: opts.max_len,
            });
        }
        check_not_sparse(path, &file, expected)?;
        let backing = load(&mut file, expected, opts.mmap).map_err(io_err)?;
        let mut out = FilterFile {
            path: path.into(),
            header,
            sections,
            meta: Metadata::default(),
            file_len: expected,
            offsets: layout.offsets.clone(),
            bits_end: layout.bits_end,
            backing,
        };
        if opts.verify_checksum {
            out.verify_checksum()?;
        }
        out.meta = out.parse_metadata(layout.meta_len)?;
        Ok(out)
    }

    /// The whole file.
    fn bytes(&self) -> &[u8] {
        match &self.backing {
            Backing::Mmap(m) => m,
            Backing::Owned(v) => {
                let all = bytemuck::cast_slice(v);
                all.get(..self.file_len as usize).unwrap_or(all)
            }
        }
    }

    fn verify_checksum(&self) -> Result<(), FilterError> {
        let (body, rest) = self.bytes().split_at(self.bits_end as usize);
        let stored = u128::from_le_bytes(get(rest, 0));
        if xxhash_rust::xxh3::xxh3_128(body) != stored {
            return Err(FilterError::Checksum { path: self.path.clone() });
        }
        Ok(())
    }

    fn parse_metadata(&self, meta_len: u32) -> Result<Metadata, FilterError> {
        let start = HEADER_LEN;
        let end = start + meta_len as usize;
        let padded = start + pad64(u64::from(meta_len)) as usize;
        let bytes = self.bytes();
        let truncated = || FilterError::Truncated {
            path: self.path.clone(),
            expected: padded as u64,
            actual: bytes.len() as u64,
        };
        let (text, padding) = (bytes.get(start..end), bytes.get(end..padded));
        let (Some(text), Some(padding)) = (text, padding) else {
            return Err(truncated());
        };
        if let Some(at) = padding.iter().position(|&b| b != 0) {
            return Err(FilterError::Reserved {
                path: self.path.clone(),
                offset: (end + at) as u64,
            });
        }
        let mut de = serde_json::Deserializer::from_slice(text);
        serde_path_to_error::deserialize(&mut de).map_err(|e| FilterError::Metadata {
            path: self.path.clone(),
            field: field_name(e.path()),
            byte: e.inner().column() as u64,
        })
    }

    /// The descriptor of `kind`'s section.
    pub fn section_info(&self, kind: Kind) -> Option<&SectionInfo> {
        self.sections.iter().find(|s| s.kind == kind)
    }

    /// A view of `kind`'s bit array, or `None` if the file has no such section.
    pub fn section(&self, kind: Kind) -> Option<BloomRef<'_>> {
        let i = self.sections.iter().position(|s| s.kind == kind)?;
        let params = self.sections.get(i)?.params;
        let start = *self.offsets.get(i)? as usize;
        let bytes = self.bytes().get(start..start + params.bytes() as usize)?;
        // Aligned: the backing starts on a 64-byte boundary and offsets are multiples of 64.
        BloomRef::new(params, bytemuck::cast_slice(bytes))
    }

    /// An owned copy of `kind`'s section, e.g. to merge into.
    pub fn to_bloom(&self, kind: Kind) -> Option<Bloom> {
        let view = self.section(kind)?;
        Bloom::from_blocks(view.params(), view.blocks().to_vec())
    }

    /// Refuses a key other than the one the filter was built with, naming both key ids.
    pub fn check_key(&self, key_id: &KeyId) -> Result<(), FilterError> {
        if &self.header.key_id == key_id {
            return Ok(());
        }
        Err(FilterError::KeyMismatch {
            path: self.path.clone(),
            file_key_id: hex::encode(self.header.key_id),
            key_id: hex::encode(key_id),
        })
    }

    /// Checks the keyed-BLAKE3 MAC over the whole file (constant-time comparison), hashing
    /// on all rayon threads.
    pub fn verify_mac(&self, mac_key: &[u8; 32]) -> Result<(), FilterError> {
        let (body, mac) = self.bytes().split_at(self.file_len as usize - 32);
        let stored = blake3::Hash::from(get::<32>(mac, 0));
        if blake3::Hasher::new_keyed(mac_key).update_rayon(body).finalize() != stored {
            return Err(FilterError::Mac { path: self.path.clone() });
        }
        Ok(())
    }

    /// Checks the MAC of a file opened without its checksum; only when the MAC fails, the
    /// checksum too, to tell damage ([`FilterError::Checksum`]) from another key or
    /// tampering ([`FilterError::Mac`]). The MAC covers every byte the checksum does, so a
    /// file whose MAC holds needs no second pass: one pass over a large filter instead of
    /// two (`benches/README.md` has the load times).
    pub fn verify(&self, mac_key: &[u8; 32]) -> Result<(), FilterError> {
        self.verify_mac(mac_key).map_err(|mac| self.verify_checksum().err().unwrap_or(mac))
    }
}
