//! Writing a filter file atomically, with its checksum and MAC.

use std::io::{self, Write};
use std::path::Path;

use xxhash_rust::xxh3::Xxh3Default;

use super::header::{encode_date, encode_header, off, pad64, valid_fpr, Layout};
use super::{FilterError, FilterHeader, Metadata, SectionInfo, MAX_METADATA, MAX_SECTIONS};
use crate::filter::bloom::Bloom;

/// Checks what [`write_filter`] is given; returns the error text.
fn check_input(header: &FilterHeader, sections: &[SectionInfo]) -> Result<(), String> {
    if sections.is_empty() || sections.len() > MAX_SECTIONS {
        return Err(format!("{} sections (1..={MAX_SECTIONS} allowed)", sections.len()));
    }
    for (i, s) in sections.iter().enumerate() {
        if sections.iter().take(i).any(|o| o.kind == s.kind) {
            return Err(format!("two sections for kind {}", s.kind));
        }
        s.params.check().map_err(|e| format!("section {}: {e}", s.kind))?;
        if !valid_fpr(s.target_fpr) || !valid_fpr(s.achieved_fpr) {
            return Err(format!("section {}: FPR outside [0, 1]", s.kind));
        }
    }
    let text = |name: &str, s: &str, max: usize| {
        if s.len() > max || s.contains('\0') {
            Err(format!("{name} longer than {max} bytes or containing NUL"))
        } else {
            Ok(())
        }
    };
    text("tool version", &header.tool_version, off::TOOL_LEN)?;
    text("label", &header.label, off::LABEL_LEN)?;
    match header.snapshot_date.as_deref() {
        Some(d) if encode_date(d).is_none() => {
            Err("snapshot date is not a valid YYYY-MM-DD".into())
        }
        _ => Ok(()),
    }
}

/// Writes a filter file atomically through [`crate::output::write`]: a temporary file in the
/// target's directory is written, fsynced and renamed over `path` (then the directory is
/// fsynced). On any error the temporary file is removed and `path` is untouched: never a
/// partial file. The file gets mode 0600 on Unix; a device or FIFO is written into, a
/// directory refused. Returns the number of bytes written.
///
/// Each section's bits are written while other threads hash them. A section given by value
/// (`B = Bloom`) is freed as it is written ([`Bloom::drain_bytes`]), so a build's arrays give
/// their memory back for the file's page cache (fresh memory is slow to touch in a VM;
/// just-freed memory is not), and the memory in use stays at about one filter.
pub fn write_filter<B: SectionBits>(
    path: &Path,
    header: &FilterHeader,
    sections: impl IntoIterator<Item = (SectionInfo, B)>,
    meta: &Metadata,
    mac_key: &[u8; 32],
) -> Result<u64, FilterError> {
    let invalid = |what: String| FilterError::InvalidInput { path: path.into(), what };
    let sections: Vec<(SectionInfo, B)> = sections.into_iter().collect();
    let infos: Vec<SectionInfo> = sections.iter().map(|(s, _)| *s).collect();
    check_input(header, &infos).map_err(invalid)?;
    for (s, b) in &sections {
        let b = b.bloom();
        if s.params != b.params() {
            let (kind, declared, actual) = (s.kind, s.params, b.params());
            return Err(FilterError::GeometryMismatch {
                path: path.into(),
                kind,
                declared,
                actual,
            });
        }
    }
    let json = serde_json::to_vec(meta).map_err(|e| invalid(e.to_string()))?;
    let meta_len = u32::try_from(json.len())
        .ok()
        .filter(|&l| l <= MAX_METADATA)
        .ok_or_else(|| invalid("metadata larger than 16 MiB".into()))?;
    let layout = Layout::new(meta_len, infos.iter().map(|s| s.params));
    let head = encode_header(header, &infos, &layout);

    let padding = vec![0u8; (pad64(u64::from(meta_len)) - u64::from(meta_len)) as usize];
    crate::output::write(path, &[], |w| {
        let mut out = Sink::new(w, mac_key);
        out.write(&head)?;
        out.write(&json)?;
        out.write(&padding)?;
        for (_, bits) in sections {
            bits.write_out(&mut |piece| out.write_large(piece))?;
        }
        out.finish()
    })?;
    Ok(layout.file_len())
}

/// A section's bit array as [`write_filter`] takes it: borrowed (`&Bloom`), or owned (`Bloom`)
/// and then freed piece by piece as it is written.
pub trait SectionBits {
    /// The filter.
    fn bloom(&self) -> &Bloom;

    /// Hands the bit array's bytes to `write`, in order, and drops what is owned.
    fn write_out(self, write: &mut dyn FnMut(&[u8]) -> io::Result<()>) -> io::Result<()>;
}

/// The pieces an owned section is written and freed in: large enough to amortise a rayon join
/// per piece, small enough that little of the file's page cache needs fresh memory.
const PIECE: usize = 16 << 20;

impl SectionBits for Bloom {
    fn bloom(&self) -> &Bloom {
        self
    }

    fn write_out(self, write: &mut dyn FnMut(&[u8]) -> io::Result<()>) -> io::Result<()> {
        self.drain_bytes(PIECE, write)
    }
}

impl SectionBits for &Bloom {
    fn bloom(&self) -> &Bloom {
        self
    }

    fn write_out(self, write: &mut dyn FnMut(&[u8]) -> io::Result<()>) -> io::Result<()> {
        write(bytemuck::cast_slice(self.blocks()))
    }
}

/// Writes bytes while feeding the checksum and the MAC.
struct Sink<W: Write> {
    out: W,
    xxh: Xxh3Default,
    mac: blake3::Hasher,
}

impl<W: Write> Sink<W> {
    fn new(out: W, mac_key: &[u8; 32]) -> Self {
        Sink { out, xxh: Xxh3Default::new(), mac: blake3::Hasher::new_keyed(mac_key) }
    }

    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.xxh.update(bytes);
        self.mac.update(bytes);
        self.out.write_all(bytes)
    }

    /// [`Sink::write`], with the checksum and the MAC computed by two rayon tasks while this
    /// thread writes: the same bytes in the same order, so the same digests.
    fn write_large(&mut self, bytes: &[u8]) -> io::Result<()> {
        let Sink { out, xxh, mac } = self;
        rayon::in_place_scope(|s| {
            s.spawn(|_| xxh.update(bytes));
            s.spawn(|_| {
                mac.update(bytes);
            });
            out.write_all(bytes)
        })
    }

    /// Appends the checksum and the MAC over it, and flushes.
    fn finish(mut self) -> io::Result<()> {
        let sum = self.xxh.digest128().to_le_bytes();
        self.mac.update(&sum);
        self.out.write_all(&sum)?;
        self.out.write_all(self.mac.finalize().as_bytes())?;
        self.out.flush()
    }
}
