//! Streamed inputs: stdin, pipes, `--no-mmap` files, `.gz`/`.zst` and UTF-16 text.
//!
//! A stream is read in blocks and cut at record boundaries with the layout's cutter
//! ([`super::Layout::split`]), so memory stays bounded by a few blocks whatever the input size:
//!
//! ```text
//! raw bytes ─► Hashing (SHA-256 + count of the raw bytes) ─► gzip / zstd decoder (by magic
//! bytes, not by name) ─► UTF-16 → UTF-8 (by BOM) ─► head (detection sample) + blocks ─► chunks
//! ```
//!
//! Chunks of a stream are owned ([`Chunk::bytes`] is `Cow::Owned`); their byte offsets count
//! the decoded text. A record with no boundary within [`STREAM_LIMIT`] bytes (a 100 MB line
//! without a newline) is handed on as its first `MAX_RECORD + 1` bytes plus a `\n`, which every
//! reader counts as one oversized record, and the rest of it is read and dropped up to its `\n`.

// Reviewed (#11): `..n` and `start..` are counts returned by `read` into the same buffer (never
// above its length) and the fill level of `out`/`pending`.
#![allow(clippy::indexing_slicing)]

use std::borrow::Cow;
use std::io::{self, Read};
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use super::chunk::MAX_RECORD;
use super::{Chunk, Layout};

/// Decoded bytes read at the start of a stream for detection.
pub const HEAD_LEN: usize = 1 << 20;

/// Pending bytes without a record boundary after which the record is cut as oversized.
pub const STREAM_LIMIT: usize = 2 * MAX_RECORD + (4 << 20);

/// The SHA-256 and length of the raw bytes read so far.
#[derive(Default)]
pub struct RawDigest {
    hasher: Sha256,
    /// Raw bytes read.
    pub len: u64,
}

impl RawDigest {
    /// Hex SHA-256 of the raw bytes read so far.
    pub fn hex(&self) -> String {
        hex::encode(self.hasher.clone().finalize())
    }
}

/// Shared between the reader that feeds it and the source that reports it.
pub type SharedDigest = Arc<Mutex<RawDigest>>;

/// Hashes and counts every raw byte read through it.
struct Hashing<R> {
    inner: R,
    digest: SharedDigest,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut d = self.digest.lock().unwrap_or_else(|e| e.into_inner());
        d.hasher.update(&buf[..n]);
        d.len += n as u64;
        Ok(n)
    }
}

/// What the first bytes of a raw stream say about its packing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Packing {
    /// Plain bytes.
    Plain,
    /// gzip (`1F 8B`), one or more members.
    Gzip,
    /// Zstandard (`28 B5 2F FD`).
    Zstd,
}

impl Packing {
    /// Name in reports (`plain`, `gzip`, `zstd`).
    pub fn name(self) -> &'static str {
        match self {
            Packing::Plain => "plain",
            Packing::Gzip => "gzip",
            Packing::Zstd => "zstd",
        }
    }

    /// Detects the packing from the magic bytes.
    pub fn detect(start: &[u8]) -> Packing {
        if start.starts_with(&[0x1F, 0x8B]) {
            Packing::Gzip
        } else if start.starts_with(&[0x28, 0xB5, 0x2F, 0xFD]) {
            Packing::Zstd
        } else {
            Packing::Plain
        }
    }
}

/// Reads up to `n` bytes (fewer only at the end of the input).
pub fn read_up_to(r: &mut dyn Read, n: usize) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(n.min(HEAD_LEN));
    r.take(n as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

/// Largest zstd window accepted, as a power of two: 2^27 = 128 MiB, the most `zstd -19`
/// and `zstd --long` use (libzstd's own default decoder limit is 2^27 too). A frame
/// declaring a larger window is refused before its window is allocated, so a small file
/// cannot make the decoder grow to gigabytes.
pub const ZSTD_WINDOW_LOG_MAX: u32 = 27;

/// A zstd decoder over every frame of `raw` (concatenated frames are read whole, skippable
/// frames skipped), each frame's window bounded by [`ZSTD_WINDOW_LOG_MAX`].
fn zstd_reader<R: Read + Send>(raw: R) -> io::Result<impl Read + Send> {
    let mut d = zstd::stream::read::Decoder::new(raw)?;
    d.window_log_max(ZSTD_WINDOW_LOG_MAX)?;
    Ok(WindowChecked(d))
}

/// Rewrites libzstd's "Frame requires too much memory for decoding" as the window limit it is.
struct WindowChecked<R>(R);

impl<R: Read> Read for WindowChecked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf).map_err(|e| {
            if e.to_string().contains("too much memory") {
                let mib = (1u64 << ZSTD_WINDOW_LOG_MAX) >> 20;
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("zstd frame declares a window larger than {mib} MiB"),
                )
            } else {
                e
            }
        })
    }
}

/// What a stream was decoded from: its packing and, for UTF-16 text, the encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decoding {
    /// Plain, gzip or zstd.
    pub packing: Packing,
    /// `Some` when the text was UTF-16 (by its BOM) and is read as UTF-8.
    pub utf16: Option<&'static encoding_rs::Encoding>,
}

/// Wraps a raw reader: hashing, decompression by magic bytes, UTF-16 decoding by BOM.
/// Returns the decoded text reader and what it was decoded from.
pub fn decoded(
    raw: Box<dyn Read + Send>,
    digest: SharedDigest,
) -> io::Result<(Box<dyn Read + Send>, Decoding)> {
    let mut hashing = Hashing { inner: raw, digest };
    let magic = read_up_to(&mut hashing, 4)?;
    let packing = Packing::detect(&magic);
    let raw = io::Cursor::new(magic).chain(hashing);
    let mut text: Box<dyn Read + Send> = match packing {
        Packing::Plain => Box::new(raw),
        Packing::Gzip => Box::new(flate2::read::MultiGzDecoder::new(io::BufReader::new(raw))),
        Packing::Zstd => Box::new(zstd_reader(raw)?),
    };
    let bom = read_up_to(&mut text, 2)?;
    let utf16 = match bom.as_slice() {
        [0xFF, 0xFE] => Some(encoding_rs::UTF_16LE),
        [0xFE, 0xFF] => Some(encoding_rs::UTF_16BE),
        _ => None,
    };
    let decoding = Decoding { packing, utf16 };
    Ok(match utf16 {
        Some(enc) => (
            Box::new(Utf16 {
                inner: text,
                decoder: enc.new_decoder(),
                pending: bom,
                out: Vec::new(),
                at: 0,
                eof: false,
            }),
            decoding,
        ),
        None => (Box::new(io::Cursor::new(bom).chain(text)), decoding),
    })
}

/// Decodes UTF-16 (the BOM is still in `pending`) to UTF-8 while reading.
struct Utf16 {
    inner: Box<dyn Read + Send>,
    decoder: encoding_rs::Decoder,
    pending: Vec<u8>,
    out: Vec<u8>,
    at: usize,
    eof: bool,
}

impl Read for Utf16 {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at >= self.out.len() {
            if self.eof {
                return Ok(0);
            }
            let mut block = std::mem::take(&mut self.pending);
            let start = block.len();
            block.resize(start + 64 * 1024, 0);
            let n = self.inner.read(&mut block[start..])?;
            block.truncate(start + n);
            self.eof = n == 0;
            self.out.clear();
            self.at = 0;
            let mut s = String::with_capacity(block.len() * 3 / 2 + 16);
            let need = self.decoder.max_utf8_buffer_length(block.len()).unwrap_or(0);
            s.reserve(need);
            let _ = self.decoder.decode_to_string(&block, &mut s, self.eof);
            self.out.extend_from_slice(s.as_bytes());
        }
        let n = buf.len().min(self.out.len() - self.at);
        buf[..n].copy_from_slice(&self.out[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// Where a streamed read ended badly; kept by the source until [`super::Source::finish`].
pub type StreamError = Arc<Mutex<Option<io::Error>>>;

/// Cuts a decoded stream into owned, record-aligned chunks.
pub struct StreamChunks<'a> {
    layout: &'a Layout,
    reader: Box<dyn Read + Send + 'a>,
    /// Decoded bytes not yet handed out; starts at a record boundary.
    pending: Vec<u8>,
    /// Offset of `pending[0]` in the decoded stream.
    offset: u64,
    /// The cutter's context at `pending[0]` (SQL statement header, else empty).
    context: Vec<u8>,
    block: usize,
    eof: bool,
    error: StreamError,
}

impl<'a> StreamChunks<'a> {
    /// Chunks of `head` (the bytes already read, from the body start on) followed by `reader`.
    pub fn new(
        layout: &'a Layout,
        head: Vec<u8>,
        offset: u64,
        reader: Box<dyn Read + Send + 'a>,
        block: usize,
        error: StreamError,
    ) -> Self {
        let block = block.max(1);
        StreamChunks {
            layout,
            reader,
            pending: head,
            offset,
            context: layout.initial_context(),
            block,
            eof: false,
            error,
        }
    }

    /// Reads one more block into `pending`; sets `eof` at the end or on an error (kept).
    fn fill(&mut self) {
        let start = self.pending.len();
        self.pending.resize(start + self.block, 0);
        let mut got = 0;
        while got < self.block {
            match self.reader.read(&mut self.pending[start + got..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    *self.error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                    self.eof = true;
                    break;
                }
            }
        }
        self.pending.truncate(start + got);
    }

    /// Hands out `pending[..end]` with the current context in front; keeps the rest.
    fn emit(&mut self, end: usize, strays: usize, next_context: Vec<u8>) -> Chunk<'static> {
        let rest = self.pending.split_off(end);
        let mut body = std::mem::replace(&mut self.pending, rest);
        let prefix = std::mem::replace(&mut self.context, next_context);
        let base = self.offset;
        let span = end;
        self.offset += end as u64;
        if !prefix.is_empty() {
            body.splice(0..0, prefix);
        }
        Chunk { base, bytes: Cow::Owned(body), strays, span }
    }

    /// A record without a boundary within [`STREAM_LIMIT`]: hand on its start as an oversized
    /// record and drop the rest of it up to and including its `\n`.
    fn cut_oversized(&mut self) -> Chunk<'static> {
        let keep = MAX_RECORD + 1;
        let mut tail = self.pending.split_off(keep);
        let mut dropped = 0u64;
        loop {
            if let Some(k) = memchr::memchr(b'\n', &tail) {
                tail.drain(..=k);
                dropped += k as u64 + 1;
                break;
            }
            dropped += tail.len() as u64;
            tail.clear();
            if self.eof {
                break;
            }
            std::mem::swap(&mut self.pending, &mut tail);
            self.fill();
            std::mem::swap(&mut self.pending, &mut tail);
        }
        self.pending.push(b'\n');
        let end = self.pending.len();
        let chunk = self.emit(end, 0, self.layout.initial_context());
        // The `\n` pushed stands for the real one dropped; the offset moves past the record.
        self.offset += dropped - 1;
        self.pending = tail;
        chunk
    }
}

impl<'a> Iterator for StreamChunks<'a> {
    type Item = Chunk<'a>;

    fn next(&mut self) -> Option<Chunk<'a>> {
        loop {
            if !self.eof && self.pending.len() < self.block {
                self.fill();
                continue;
            }
            if self.pending.is_empty() {
                return None;
            }
            let split = self.layout.split(&self.pending, &self.context, self.eof);
            if split.end > 0 {
                return Some(self.emit(split.end, split.strays, split.context));
            }
            if self.eof {
                let end = self.pending.len();
                return Some(self.emit(end, split.strays, Vec::new()));
            }
            if self.pending.len() >= STREAM_LIMIT {
                return Some(self.cut_oversized());
            }
            self.fill();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn decode_all(raw: Vec<u8>) -> (Vec<u8>, Packing, String, u64) {
        let digest = SharedDigest::default();
        let (mut r, decoding) = decoded(Box::new(io::Cursor::new(raw)), digest.clone()).unwrap();
        let packing = decoding.packing;
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        let d = digest.lock().unwrap();
        (out, packing, d.hex(), d.len)
    }

    #[test]
    fn gzip_and_zstd_are_found_by_magic_bytes_and_hashed_raw() {
        let text = b"email\na@b.de\n".repeat(100);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&text).unwrap();
        let gz = gz.finish().unwrap();
        let (out, packing, sha, len) = decode_all(gz.clone());
        assert_eq!((out, packing, len), (text.clone(), Packing::Gzip, gz.len() as u64));
        assert_eq!(sha, hex::encode(Sha256::digest(&gz)));
        let (out, packing, _, _) = decode_all(text.clone());
        assert_eq!((out, packing), (text, Packing::Plain));
    }

    #[test]
    fn concatenated_zstd_frames_and_gzip_members_are_read_whole() {
        let (a, b) = (b"email\na@b.de\n".repeat(50), b"c@d.de\n".repeat(70));
        let mut zst = zstd::encode_all(&a[..], 1).unwrap();
        zst.extend(zstd::encode_all(&b[..], 1).unwrap());
        let mut gz = Vec::new();
        for part in [&a, &b] {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(part).unwrap();
            gz.extend(e.finish().unwrap());
        }
        let whole = [a, b].concat();
        for raw in [zst, gz] {
            let len = raw.len() as u64;
            let (out, _, _, read) = decode_all(raw);
            assert_eq!((out, read), (whole.clone(), len));
        }
    }

    /// A zstd frame header declaring a window of 2^`log` bytes, then one raw block `a\n`.
    fn zstd_frame_with_window(log: u32) -> Vec<u8> {
        let exponent = (log - 10) as u8;
        let mut f = vec![0x28, 0xB5, 0x2F, 0xFD, 0x00, exponent << 3];
        let block = 1u32 | (2 << 3); // last block, raw, 2 bytes
        f.extend_from_slice(&block.to_le_bytes()[..3]);
        f.extend_from_slice(b"a\n");
        f
    }

    #[test]
    fn zstd_frame_declaring_a_huge_window_is_refused_on_every_frame() {
        let (out, ..) = decode_all(zstd_frame_with_window(20));
        assert_eq!(out, b"a\n", "the crafted frame is valid with a small window");
        for log in [ZSTD_WINDOW_LOG_MAX + 1, 30, 41] {
            let alone = zstd_frame_with_window(log);
            let second = [zstd_frame_with_window(20), zstd_frame_with_window(log)].concat();
            for raw in [alone, second] {
                let digest = SharedDigest::default();
                let err = decoded(Box::new(io::Cursor::new(raw)), digest)
                    .and_then(|(mut r, _)| r.read_to_end(&mut Vec::new()))
                    .unwrap_err();
                assert_eq!(err.to_string(), "zstd frame declares a window larger than 128 MiB");
            }
        }
    }

    #[test]
    fn line_longer_than_the_stream_limit_is_one_oversized_record_and_dropped() {
        use crate::dump::{Event, Format};
        let mut data = b"{\"email\":\"a@b.de\"}\n".to_vec();
        data.extend(std::iter::repeat_n(b'x', STREAM_LIMIT + 12345));
        data.extend_from_slice(b"\n{\"email\":\"c@d.de\"}\n");
        let layout = Layout::detect(&data[..100], Some(Format::JsonLines), &[]).unwrap();
        let reader = Box::new(io::Cursor::new(data.clone()));
        let chunks =
            StreamChunks::new(&layout, Vec::new(), 0, reader, 1 << 16, StreamError::default());
        let mut r = layout.reader();
        let (mut seen, mut max_chunk) = (Vec::new(), 0);
        for c in chunks {
            max_chunk = max_chunk.max(c.bytes.len());
            r.read(&c.bytes, c.base, &mut |e| match e {
                Event::Record(_, p) => seen.push(("record", p.byte)),
                Event::Skipped(_, p) => seen.push(("skipped", p.byte)),
                Event::Flawed(..) => {}
            })
            .unwrap();
        }
        let last = (data.len() - 19) as u64;
        assert_eq!(seen, vec![("record", 0), ("skipped", 19), ("record", last)]);
        assert!(max_chunk <= STREAM_LIMIT + (1 << 16), "bounded: {max_chunk}");
    }

    #[test]
    fn utf16_with_bom_is_decoded_to_utf8() {
        let mut le = vec![0xFF, 0xFE];
        let mut be = vec![0xFE, 0xFF];
        for u in "KVNR;Name\nA123456780;Müller\n".encode_utf16() {
            le.extend_from_slice(&u.to_le_bytes());
            be.extend_from_slice(&u.to_be_bytes());
        }
        for raw in [le, be] {
            let (out, ..) = decode_all(raw);
            assert_eq!(out, "KVNR;Name\nA123456780;Müller\n".as_bytes());
        }
    }
}
