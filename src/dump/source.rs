//! Where the bytes of a dump come from: a memory map, a read into memory, or stdin.
//!
//! # Why mmap, and its one risk
//!
//! Like ripgrep, leakmatch maps regular files by default: the parser works on one contiguous
//! `&[u8]`, chunks can be cut and handed to workers without copying, and the kernel reads
//! ahead (we ask for `madvise(MADV_SEQUENTIAL)` on unix). The risk: if another process
//! **truncates the file while it is mapped**, touching the vanished pages raises `SIGBUS` and
//! the process dies without an error message. Dumps are usually static evidence files, so the
//! map is the default; `--no-mmap` (`mmap = false` here) reads the file into memory instead and
//! streams the file instead (bounded memory) and is immune to the signal: a file that shrinks
//! under a streamed read ends the scan with [`DumpError::Shrunk`] (exit code 2).
//!
//! What leakmatch does about truncation of a mapped file: nothing can catch the `SIGBUS` (the
//! process dies, killed by signal 7, no report is written); if the scan survives (the vanished
//! pages were already read), [`Source::finish`] compares the file's length with the mapped
//! length and fails with [`DumpError::Shrunk`] instead of reporting counts of a file that
//! changed under it.
//!
//! # Streams
//!
//! Stdin (`-`), pipes and FIFOs, files read with `--no-mmap`, gzip and zstd files (found by
//! their magic bytes, whatever the name) and UTF-16 files (found by their BOM) are streamed:
//! see [`super::stream`]. Their SHA-256 is computed over the raw bytes while they are read and
//! is returned by [`Source::finish`] once the chunks are consumed.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use std::borrow::Cow;

use std::sync::Mutex;

use super::stream::{self, Decoding, Packing, SharedDigest, StreamChunks, StreamError};
use super::{DumpError, Layout};

/// A record-aligned piece of an input, handed to one worker.
pub struct Chunk<'a> {
    /// Offset of the chunk's first byte in the input.
    pub base: u64,
    /// The chunk's bytes: borrowed from an input in memory, owned when streamed.
    pub bytes: Cow<'a, [u8]>,
    /// Stray quotes (or other recovered syntax errors) found while cutting it.
    pub strays: usize,
    /// Bytes of the input the chunk covers (`bytes` may also hold a context in front).
    pub span: usize,
}

/// The bytes of one input, held for the duration of a scan.
pub struct Source {
    /// The path as given; `-` stands for stdin.
    pub path: PathBuf,
    data: Data,
}

/// How the bytes are held.
enum Data {
    /// A read-only memory map of a regular file.
    Mapped(memmap2::Mmap),
    /// Bytes in memory (tests, empty files).
    Owned(Vec<u8>),
    /// A stream read block by block (see the module docs).
    Stream(Streamed),
}

/// A streamed input: the detection sample and the rest, not yet read.
struct Streamed {
    /// The first [`stream::HEAD_LEN`] decoded bytes.
    head: Vec<u8>,
    /// The decoded reader after `head`; taken by [`Source::chunks`].
    rest: Mutex<Option<Box<dyn Read + Send>>>,
    digest: SharedDigest,
    error: StreamError,
    /// The length of a regular file when opened, to notice it shrinking.
    expected: Option<u64>,
    decoding: Decoding,
}

impl Source {
    /// Opens `path` for reading; `-` means stdin.
    ///
    /// A directory is refused with [`DumpError::IsDirectory`]. A plain (not compressed, not
    /// UTF-16) regular file is memory-mapped when `mmap` is true (see the module docs for the
    /// truncation risk). Everything else is streamed: stdin, pipes, FIFOs, devices, `--no-mmap`
    /// files, gzip/zstd and UTF-16 files. Empty files give an empty input.
    pub fn open(path: &Path, mmap: bool) -> Result<Source, DumpError> {
        let io_err = |source: io::Error| DumpError::Io { path: path.to_path_buf(), source };
        if path.as_os_str() == "-" {
            return Source::stream(path, Box::new(io::stdin()), None);
        }
        let meta = std::fs::metadata(path).map_err(io_err)?;
        if meta.is_dir() {
            return Err(DumpError::IsDirectory { path: path.to_path_buf() });
        }
        let mut file = File::open(path).map_err(io_err)?;
        if !meta.is_file() {
            return Source::stream(path, Box::new(file), None);
        }
        if meta.len() == 0 {
            return Ok(Source::owned(path, Vec::new()));
        }
        let mut magic = [0u8; 4];
        let n = file.read(&mut magic).map_err(io_err)?;
        let magic = magic.get(..n).unwrap_or_default();
        let utf16 = magic.starts_with(b"\xFF\xFE") || magic.starts_with(b"\xFE\xFF");
        let plain = Packing::detect(magic) == Packing::Plain && !utf16;
        if !mmap || !plain {
            let file = File::open(path).map_err(io_err)?;
            return Source::stream(path, Box::new(file), Some(meta.len()));
        }
        // SAFETY: the map is read-only and private to this process. Undefined behaviour
        // follows only if another process modifies or truncates the file while it is mapped;
        // that risk is documented above and avoided with `mmap = false` (`--no-mmap`).
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(io_err)?;
        #[cfg(unix)]
        {
            // Advice only: a refusal changes speed, never results.
            let _ = map.advise(memmap2::Advice::Sequential);
        }
        Ok(Source { path: path.to_path_buf(), data: Data::Mapped(map) })
    }

    /// Streams `raw` (see `super::stream`); reads the detection sample now.
    pub fn stream(
        path: &Path,
        raw: Box<dyn Read + Send>,
        expected: Option<u64>,
    ) -> Result<Source, DumpError> {
        let io_err = |source: io::Error| DumpError::Io { path: path.to_path_buf(), source };
        let digest = SharedDigest::default();
        let (mut text, decoding) = stream::decoded(raw, digest.clone()).map_err(io_err)?;
        let head = stream::read_up_to(&mut text, stream::HEAD_LEN).map_err(io_err)?;
        let data = Data::Stream(Streamed {
            head,
            rest: Mutex::new(Some(text)),
            digest,
            error: StreamError::default(),
            expected,
            decoding,
        });
        Ok(Source { path: path.to_path_buf(), data })
    }

    /// Wraps bytes already in memory (tests, decompressed input).
    pub fn from_bytes(path: impl Into<PathBuf>, bytes: Vec<u8>) -> Source {
        Source { path: path.into(), data: Data::Owned(bytes) }
    }

    fn owned(path: &Path, bytes: Vec<u8>) -> Source {
        Source::from_bytes(path, bytes)
    }

    /// All bytes of an input in memory; of a stream, only its head (the detection sample).
    pub fn bytes(&self) -> &[u8] {
        match &self.data {
            Data::Mapped(map) => map,
            Data::Owned(vec) => vec,
            Data::Stream(s) => &s.head,
        }
    }

    /// Length in bytes; of a stream, the raw bytes read so far (all of them after the scan).
    pub fn len(&self) -> usize {
        match &self.data {
            Data::Stream(s) => s.digest.lock().map_or(0, |d| d.len as usize),
            _ => self.bytes().len(),
        }
    }

    /// True for an empty input.
    pub fn is_empty(&self) -> bool {
        self.bytes().is_empty()
    }

    /// Scales a count over [`Source::head`] to the whole input: exact when the head is the
    /// whole input, extrapolated by length for a plain file, `None` for a longer stream of
    /// unknown length (stdin, pipes, compressed files).
    pub fn scale_from_head(&self, count: u64) -> Option<u64> {
        match &self.data {
            Data::Stream(s) if s.head.len() < stream::HEAD_LEN => Some(count),
            Data::Stream(s) => match (s.expected, s.decoding) {
                // Uncompressed. For UTF-16 the raw length is up to twice the decoded one:
                // the count is overestimated (a larger filter, never a fuller one).
                (Some(len), Decoding { packing: Packing::Plain, .. }) => {
                    Some((count as u128 * len as u128).div_ceil(s.head.len() as u128) as u64)
                }
                _ => None,
            },
            _ => Some(count),
        }
    }

    /// The input's length in raw bytes when known before it is read: the mapped or held
    /// bytes, or a streamed regular file's length on disk (compressed bytes for gzip/zstd).
    /// `None` for stdin, pipes and devices. Progress and throughput count the same raw bytes.
    pub fn expected_len(&self) -> Option<u64> {
        match &self.data {
            Data::Stream(s) => s.expected,
            _ => Some(self.bytes().len() as u64),
        }
    }

    /// Why `scan --range` / `plan` cannot cut this input by byte offsets, if they cannot: a
    /// range is a span of the file's raw bytes, which only a memory-mapped (or empty) plain
    /// file exposes. Offsets into a compressed file are not offsets into its text, and a
    /// stream (stdin, pipe, `--no-mmap`, UTF-16) is read once from its start.
    pub fn range_refusal(&self) -> Option<String> {
        match &self.data {
            Data::Stream(s) if s.decoding.packing != Packing::Plain => Some(format!(
                "{}-compressed: byte ranges of the file are not ranges of its text",
                s.decoding.packing.name()
            )),
            Data::Stream(s) if s.decoding.utf16.is_some() => {
                Some("UTF-16: byte ranges are cut in the decoded text, not the file".into())
            }
            Data::Stream(_) => Some(
                "streamed (stdin, a pipe or --no-mmap): only a memory-mapped regular file can be \
                 cut into byte ranges"
                    .into(),
            ),
            _ => None,
        }
    }

    /// True when the input is streamed (see the module docs).
    pub fn is_streamed(&self) -> bool {
        matches!(self.data, Data::Stream(_))
    }

    /// The compression found by magic bytes (`Plain` for inputs in memory).
    pub fn packing(&self) -> Packing {
        match &self.data {
            Data::Stream(s) => s.decoding.packing,
            _ => Packing::Plain,
        }
    }

    /// The encoding of a UTF-16 input (found by its BOM, read as UTF-8); `None` otherwise.
    pub fn utf16(&self) -> Option<&'static encoding_rs::Encoding> {
        match &self.data {
            Data::Stream(s) => s.decoding.utf16,
            _ => None,
        }
    }

    /// Call after the chunks are consumed. Fails if the stream broke off (I/O or
    /// decompression error) or the file shrank while it was read or mapped; otherwise returns
    /// the SHA-256 of a stream's raw bytes (`None` for inputs in memory: hash [`Source::bytes`]).
    pub fn finish(&self) -> Result<Option<String>, DumpError> {
        let path = self.path.clone();
        match &self.data {
            Data::Stream(s) => {
                if let Some(source) = s.error.lock().unwrap_or_else(|e| e.into_inner()).take() {
                    return Err(DumpError::Io { path, source });
                }
                let d = s.digest.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(expected) = s.expected.filter(|&e| d.len < e) {
                    return Err(DumpError::Shrunk { path, expected, read: d.len });
                }
                Ok(Some(d.hex()))
            }
            Data::Mapped(map) => {
                let now = std::fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0);
                if now < map.len() as u64 {
                    return Err(DumpError::Shrunk { path, expected: map.len() as u64, read: now });
                }
                Ok(None)
            }
            Data::Owned(_) => Ok(None),
        }
    }

    /// Tells the kernel that `range` has been read and will not be read again, so that its
    /// pages stop counting towards this process's resident memory: a scan of a 10 GB mapped
    /// file then holds only the chunks in flight, not the whole file. No effect on owned
    /// bytes; only whole pages inside `range` are released.
    pub fn release(&self, range: std::ops::Range<usize>) {
        #[cfg(unix)]
        if let Data::Mapped(map) = &self.data {
            const PAGE: usize = 4096;
            let start = range.start.div_ceil(PAGE) * PAGE;
            let end = (range.end / PAGE) * PAGE;
            if end > start {
                // SAFETY: DONTNEED on a read-only, file-backed mapping only drops the pages
                // from this process; a later read faults them in again from the page cache,
                // with the same contents. No reference into `range` is used after this call
                // (the caller has finished the chunk).
                let _ = unsafe {
                    map.unchecked_advise_range(
                        memmap2::UncheckedAdvice::DontNeed,
                        start,
                        end - start,
                    )
                };
            }
        }
        #[cfg(not(unix))]
        let _ = range;
    }

    /// The bytes available for detecting the layout (the whole input when it is in memory, the
    /// first `stream::HEAD_LEN` decoded bytes of a stream).
    pub fn head(&self) -> &[u8] {
        self.bytes()
    }

    /// The input's record-aligned chunks of about `target` bytes, cut lazily as `layout`
    /// says. Chunks of an input in memory borrow from it (except SQL chunks that start inside
    /// a statement); chunks of a stream are owned. A stream's chunks can be taken once.
    pub fn chunks<'a>(
        &'a self,
        layout: &'a Layout,
        target: usize,
    ) -> Box<dyn Iterator<Item = Chunk<'a>> + Send + 'a> {
        match &self.data {
            Data::Stream(s) => {
                let Some(rest) = s.rest.lock().unwrap_or_else(|e| e.into_inner()).take() else {
                    return Box::new(std::iter::empty());
                };
                let start = layout.dialect.body_start.min(s.head.len());
                let head = s.head.get(start..).unwrap_or_default().to_vec();
                let err = s.error.clone();
                let chunks = StreamChunks::new(layout, head, start as u64, rest, target, err);
                Box::new(chunks)
            }
            _ => layout.chunks(self.bytes(), target),
        }
    }

    /// Tells the source that `chunk` has been read: its pages of a mapped file are released
    /// (see [`Source::release`]).
    pub fn done(&self, chunk: &Chunk<'_>) {
        let start = chunk.base as usize;
        self.release(start..start + chunk.span);
    }

    /// True when the bytes are memory-mapped (and so exposed to the truncation risk).
    pub fn is_mapped(&self) -> bool {
        matches!(self.data, Data::Mapped(_))
    }
}

impl std::fmt::Debug for Source {
    /// Shows path, length and mode, never the content.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Source")
            .field("path", &self.path)
            .field("len", &self.len())
            .field("mapped", &self.is_mapped())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn refuses_directory_with_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = Source::open(dir.path(), true).unwrap_err();
        assert!(matches!(err, DumpError::IsDirectory { .. }));
        assert!(err.to_string().contains("directory"), "{err}");
    }

    #[test]
    fn empty_file_gives_empty_slice_with_and_without_mmap() {
        let file = tempfile::NamedTempFile::new().unwrap();
        for mmap in [true, false] {
            let src = Source::open(file.path(), mmap).unwrap();
            assert!(src.is_empty());
            assert_eq!(src.bytes(), b"");
        }
    }

    #[test]
    fn maps_regular_file_and_reads_it_without_mmap() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(b"a;b\n1;2\n").unwrap();
        let mapped = Source::open(file.path(), true).unwrap();
        let read = Source::open(file.path(), false).unwrap();
        assert!(mapped.is_mapped());
        assert!(!read.is_mapped());
        assert_eq!(mapped.bytes(), b"a;b\n1;2\n");
        assert_eq!(read.bytes(), mapped.bytes());
        assert_eq!(mapped.len(), 8);
    }

    #[test]
    fn missing_file_is_an_io_error_naming_the_path() {
        let err = Source::open(Path::new("/nonexistent/leak.csv"), true).unwrap_err();
        assert!(matches!(err, DumpError::Io { .. }));
        assert!(err.to_string().contains("/nonexistent/leak.csv"));
    }

    /// A file bigger than the stream head, truncated after open.
    fn shrinking_file() -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        let line = b"email\na@b.de\n".repeat(1000);
        for _ in 0..(3 * stream::HEAD_LEN / line.len()) {
            file.write_all(&line).unwrap();
        }
        file
    }

    #[test]
    fn streamed_file_truncated_while_read_fails_cleanly() {
        let file = shrinking_file();
        let src = Source::open(file.path(), false).unwrap();
        assert!(src.is_streamed());
        file.as_file().set_len(stream::HEAD_LEN as u64 + 10).unwrap();
        let layout = Layout::detect(src.head(), None, &[]).unwrap();
        let n: usize = src.chunks(&layout, 1 << 16).map(|c| c.bytes.len()).sum();
        assert!(n < 2 * stream::HEAD_LEN);
        let err = src.finish().unwrap_err();
        assert!(matches!(err, DumpError::Shrunk { .. }), "{err}");
        assert!(err.to_string().contains("shrank"), "{err}");
    }

    #[test]
    fn mapped_file_that_shrank_fails_at_finish() {
        let file = shrinking_file();
        let src = Source::open(file.path(), true).unwrap();
        assert!(src.is_mapped());
        // Touching the vanished pages would raise SIGBUS (see the module docs): not done here.
        file.as_file().set_len(10).unwrap();
        assert!(matches!(src.finish(), Err(DumpError::Shrunk { .. })));
    }

    #[test]
    fn streamed_digest_is_over_the_raw_bytes() {
        let file = shrinking_file();
        let raw = std::fs::read(file.path()).unwrap();
        let src = Source::open(file.path(), false).unwrap();
        let layout = Layout::detect(src.head(), None, &[]).unwrap();
        let n: usize = src.chunks(&layout, 1 << 16).map(|c| c.bytes.len()).sum();
        assert_eq!(n + layout.dialect.body_start, raw.len());
        use sha2::Digest;
        assert_eq!(src.finish().unwrap(), Some(hex::encode(sha2::Sha256::digest(&raw))));
        assert_eq!(src.len(), raw.len());
    }

    #[test]
    fn debug_output_never_shows_content() {
        let src = Source::from_bytes("x.csv", b"A123456780".to_vec());
        assert!(!format!("{src:?}").contains("A123456780"));
    }
}
