//! Streaming: gzip (one or two members), zstd (one or two frames), UTF-16 LE/BE decoding and
//! the block cutting of streamed inputs, fed through a reader that returns few bytes per call.
//!
//! Oracles:
//! - the decoded stream of an encoded payload is exactly the payload (for UTF-16, its text as
//!   UTF-8), and the digest counted every raw byte;
//! - a streamed input cut into blocks of a few bytes gives the same records, values and byte
//!   offsets as the same text held in memory and read as one chunk, both through
//!   `StreamChunks` directly and through `Source::stream`;
//! - arbitrary raw bytes (broken gzip/zstd, odd BOMs) give records or an error, never a panic.
#![no_main]

use std::io::{self, Read, Write};

use leakmatch::dump::{decoded, Layout, SharedDigest, Source, StreamChunks, StreamError};
use libfuzzer_sys::fuzz_target;

#[path = "common/mod.rs"]
mod common;

/// Hands out at most `step` bytes per `read`.
struct Trickle {
    data: Vec<u8>,
    at: usize,
    step: usize,
}

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.step).min(self.data.len() - self.at);
        buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

fn trickle(data: Vec<u8>, step: usize) -> Box<dyn Read + Send> {
    Box::new(Trickle { data, at: 0, step })
}

fn gzip(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in parts {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(p).unwrap();
        out.extend(e.finish().unwrap());
    }
    out
}

fn zstd(parts: &[&[u8]]) -> Vec<u8> {
    parts.iter().flat_map(|p| zstd::encode_all(*p, 1).unwrap()).collect()
}

fn utf16(text: &str, le: bool) -> Vec<u8> {
    let mut out = if le { vec![0xFF, 0xFE] } else { vec![0xFE, 0xFF] };
    for u in text.encode_utf16() {
        out.extend_from_slice(&if le { u.to_le_bytes() } else { u.to_be_bytes() });
    }
    out
}

/// Bytes the decoder would treat as packed or UTF-16 if they came first.
fn looks_packed_or_utf16(text: &[u8]) -> bool {
    text.starts_with(&[0x1F, 0x8B])
        || text.starts_with(&[0x28, 0xB5, 0x2F, 0xFD])
        || text.starts_with(&[0xFF, 0xFE])
        || text.starts_with(&[0xFE, 0xFF])
}

fuzz_target!(|data: &[u8]| {
    let [mode, block, step, cut, payload @ ..] = data else { return };
    let block = 1 + usize::from(*block % 64);
    let step = 1 + usize::from(*step % 16);
    let cut = usize::from(*cut).min(payload.len());
    let (a, b) = payload.split_at(cut);
    let text_of_payload = String::from_utf8_lossy(payload).into_owned();
    // The raw stream and, where one is known, the text it must decode to.
    let (raw, expected): (Vec<u8>, Option<Vec<u8>>) = match mode % 8 {
        0 => (payload.to_vec(), (!looks_packed_or_utf16(payload)).then(|| payload.to_vec())),
        1 => (gzip(&[payload]), Some(payload.to_vec())),
        2 => (gzip(&[a, b]), Some(payload.to_vec())),
        3 => (zstd(&[payload]), Some(payload.to_vec())),
        4 => (zstd(&[a, b]), Some(payload.to_vec())),
        5 => (utf16(&text_of_payload, true), Some(text_of_payload.clone().into_bytes())),
        6 => (utf16(&text_of_payload, false), Some(text_of_payload.clone().into_bytes())),
        _ => (payload.to_vec(), None),
    };
    // Decoded text that itself starts like UTF-16 is decoded again: no exact oracle then.
    let expected = expected.filter(|t| {
        mode % 8 >= 5 || !t.starts_with(&[0xFF, 0xFE]) && !t.starts_with(&[0xFE, 0xFF])
    });

    // 1. Decoding.
    let digest = SharedDigest::default();
    let text = match decoded(trickle(raw.clone(), step), digest.clone()) {
        Ok((mut r, _)) => {
            let mut out = Vec::new();
            match r.read_to_end(&mut out) {
                Ok(_) => Some(out),
                Err(_) => {
                    assert!(expected.is_none(), "decoding a valid stream failed");
                    None
                }
            }
        }
        Err(_) => {
            assert!(expected.is_none(), "opening a valid stream failed");
            None
        }
    };
    if let (Some(t), Some(e)) = (&text, &expected) {
        assert!(t == e, "decoded text differs from the payload");
        assert_eq!(digest.lock().unwrap().len, raw.len() as u64, "raw bytes not all counted");
    }

    // 2. Block cutting: streamed (small blocks, short reads) == in memory (one chunk).
    let src = Source::stream("fuzz".as_ref(), trickle(raw, step), None);
    let Some(text) = expected.or(text) else {
        // Still read whatever the source gives: no panic.
        if let Ok(src) = src {
            if let Ok(layout) = Layout::detect(src.head(), None, &[]) {
                let _ = common::rows_of(&layout, src.chunks(&layout, block));
            }
            let _ = src.finish();
        }
        return;
    };
    let Ok(layout) = Layout::detect(&text, None, &[]) else { return };
    let memory = common::rows_of(&layout, layout.chunks(&text, usize::MAX));
    let start = layout.dialect.body_start.min(text.len());
    let body = text[start..].to_vec();
    let chunks = StreamChunks::new(
        &layout,
        Vec::new(),
        start as u64,
        trickle(body, step),
        block,
        StreamError::default(),
    );
    let streamed = common::rows_of(&layout, chunks);
    assert_eq!(memory, streamed, "streamed records differ from the records in memory");
    let src = src.expect("a stream that decodes opens");
    let layout2 = Layout::detect(src.head(), None, &[]).expect("same head, same detection");
    assert_eq!(layout2.format, layout.format);
    let via_source = common::rows_of(&layout2, src.chunks(&layout2, block));
    assert_eq!(memory, via_source, "Source::stream records differ from the records in memory");
    src.finish().expect("a stream that decoded finishes");
});
