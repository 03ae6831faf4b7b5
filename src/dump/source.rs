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
//! is immune to truncation, at the cost of one copy and memory equal to the file size.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use std::borrow::Cow;

use super::{DumpError, Layout};

/// A record-aligned piece of an input, handed to one worker.
pub struct Chunk<'a> {
    /// Offset of the chunk's first byte in the input.
    pub base: u64,
    /// The chunk's bytes: borrowed from an input in memory, owned when streamed.
    pub bytes: Cow<'a, [u8]>,
    /// Stray quotes (or other recovered syntax errors) found while cutting it.
    pub strays: usize,
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
    /// Bytes read into memory (stdin, `--no-mmap`, empty and non-regular files).
    Owned(Vec<u8>),
}

impl Source {
    /// Opens `path` for reading; `-` means stdin.
    ///
    /// A directory is refused with [`DumpError::IsDirectory`]. A regular file is memory-mapped
    /// when `mmap` is true (see the module docs for the truncation risk), else read. Empty files
    /// give an empty slice (mapping zero bytes is an error on most systems). Other file types
    /// (pipes, character devices) are read to the end.
    ///
    /// Stdin is read fully into memory for now; streaming stdin and pipes chunk by chunk
    /// (DESIGN §5) comes with the streaming reader.
    pub fn open(path: &Path, mmap: bool) -> Result<Source, DumpError> {
        let io_err = |source: io::Error| DumpError::Io { path: path.to_path_buf(), source };
        if path.as_os_str() == "-" {
            let mut buf = Vec::new();
            io::stdin().lock().read_to_end(&mut buf).map_err(io_err)?;
            return Ok(Source::owned(path, buf));
        }
        let meta = std::fs::metadata(path).map_err(io_err)?;
        if meta.is_dir() {
            return Err(DumpError::IsDirectory { path: path.to_path_buf() });
        }
        let mut file = File::open(path).map_err(io_err)?;
        if !meta.is_file() || meta.len() == 0 || !mmap {
            let mut buf = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
            file.read_to_end(&mut buf).map_err(io_err)?;
            return Ok(Source::owned(path, buf));
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

    /// Wraps bytes already in memory (tests, decompressed input).
    pub fn from_bytes(path: impl Into<PathBuf>, bytes: Vec<u8>) -> Source {
        Source { path: path.into(), data: Data::Owned(bytes) }
    }

    fn owned(path: &Path, bytes: Vec<u8>) -> Source {
        Source::from_bytes(path, bytes)
    }

    /// All bytes of the input.
    pub fn bytes(&self) -> &[u8] {
        match &self.data {
            Data::Mapped(map) => map,
            Data::Owned(vec) => vec,
        }
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.bytes().len()
    }

    /// True for an empty input.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
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

    /// The bytes available for detecting the layout (the whole input when it is in memory).
    pub fn head(&self) -> &[u8] {
        self.bytes()
    }

    /// The input's record-aligned chunks of about `target` bytes, cut lazily as `layout`
    /// says. Chunks of an input in memory borrow from it.
    pub fn chunks<'a>(
        &'a self,
        layout: &'a Layout,
        target: usize,
    ) -> Box<dyn Iterator<Item = Chunk<'a>> + Send + 'a> {
        Box::new(layout.chunks(self.bytes(), target).map(|(range, strays)| Chunk {
            base: range.start as u64,
            bytes: Cow::Borrowed(&self.bytes()[range]),
            strays,
        }))
    }

    /// Tells the source that `chunk` has been read: its pages of a mapped file are released
    /// (see [`Source::release`]).
    pub fn done(&self, chunk: &Chunk<'_>) {
        if let Cow::Borrowed(b) = &chunk.bytes {
            let start = chunk.base as usize;
            self.release(start..start + b.len());
        }
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

    #[test]
    fn debug_output_never_shows_content() {
        let src = Source::from_bytes("x.csv", b"A123456780".to_vec());
        assert!(!format!("{src:?}").contains("A123456780"));
    }
}
