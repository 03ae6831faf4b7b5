//! Key files (`src/token.rs`, `Key::load`): any bytes in a 0600 regular file.
//!
//! Oracle: the file is accepted exactly when it is at most 1024 bytes of UTF-8 whose trimmed
//! text is 64 hex digits, and then the key is the one those digits spell (same key id and MAC
//! key); a refusal is the one fixed message naming the path, never the file's text.
#![no_main]

use std::os::unix::fs::PermissionsExt;
use std::sync::OnceLock;

use leakmatch::token::Key;
use libfuzzer_sys::fuzz_target;

fn dir() -> &'static tempfile::TempDir {
    static D: OnceLock<tempfile::TempDir> = OnceLock::new();
    D.get_or_init(|| tempfile::tempdir().unwrap())
}

/// The key these bytes spell by the documented rule, if any.
fn expected(data: &[u8]) -> Option<[u8; 32]> {
    if data.len() > 1024 {
        return None;
    }
    let t = std::str::from_utf8(data).ok()?.trim();
    if t.len() != 64 || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&t[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

fuzz_target!(|data: &[u8]| {
    let path = dir().path().join("k");
    std::fs::write(&path, data).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    match (Key::load(&path), expected(data)) {
        (Ok(k), Some(bytes)) => {
            let want = Key::from_bytes(bytes);
            assert_eq!(k.id(), want.id());
            assert_eq!(k.mac_key(), want.mac_key());
        }
        (Err(e), None) => {
            // Always the one fixed message, naming the file only.
            assert!(matches!(e, leakmatch::token::KeyError::Format { .. }), "{e}");
            let want = format!("{}: not a leakmatch key (expected 64 hex digits)", path.display());
            assert_eq!(e.to_string(), want);
        }
        (Ok(_), None) => panic!("a file that is not a key was accepted"),
        (Err(e), Some(_)) => panic!("a valid key file was refused: {e}"),
    }
});
