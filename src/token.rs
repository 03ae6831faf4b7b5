//! Keys, purpose-separated subkeys and the keyed PRF that turns identifiers into tokens.
//!
//! A [`Key`] is 32 random bytes kept in a file readable by its owner only. Three subkeys are
//! derived from it with BLAKE3's key derivation mode, one per purpose, so that no output of
//! one use can be replayed in another:
//!
//! | purpose | context string | use |
//! |---|---|---|
//! | tokens | `leakmatch 2026-11 token prf v1` | SipHash-2-4-128 (first 16 bytes) over `kind tag ‖ normalised value` |
//! | filter MAC | `leakmatch 2026-11 filter mac v1` | keyed BLAKE3 over a whole filter file |
//! | key id | `leakmatch 2026-11 key id v1` | first 16 bytes name the key in filter headers |
//!
//! A [`Token`] is the 128-bit output of SipHash-2-4 (Aumasson & Bernstein 2012, a PRF by
//! design) keyed with the token subkey. Pair kinds (`kvnr+name_dob`) combine the two parts'
//! tokens with xxh3-128 instead of a second PRF call: the inputs are already secret and
//! uniformly distributed, so a fast mixing function suffices (see [`pair`]).
//!
//! Why SipHash-2-4-128 and not keyed BLAKE3 or HMAC-SHA-256: the PRF is the costliest step
//! per record. On 11–40-byte inputs (`benches/hotpaths.rs`, group `prf`) SipHash-2-4-128 takes
//! about a fifth of the time of keyed BLAKE3 and HMAC-SHA-256 (figures in `benches/README.md`),
//! which is what lets a scan run at parse speed. Its security suffices for the threat here:
//! the attacker holds filters (tokens' bit positions), not the key; testing one candidate
//! identifier needs the PRF output, and the 128-bit key (derived from the 256-bit master key)
//! cannot be searched. No attack on full SipHash-2-4 better than key search is known. The
//! master key, key id and MAC keep using BLAKE3, where speed does not matter.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::ident::Kind;

/// A token: 128 pseudorandom bits standing for one normalised identifier.
pub type Token = u128;

const CTX_TOKEN: &str = "leakmatch 2026-11 token prf v1";
const CTX_MAC: &str = "leakmatch 2026-11 filter mac v1";
const CTX_KEY_ID: &str = "leakmatch 2026-11 key id v1";

/// The environment variable naming the key file when `--key-file` is not given.
pub const KEY_FILE_ENV: &str = "LEAKMATCH_KEY_FILE";

/// Errors while creating or loading a key. They name the file, never the key.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// An I/O error on the key file.
    #[error("{path}: {source}")]
    Io {
        /// The key file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// Writing the key would overwrite something that exists at the path.
    #[error(
        "{path}: already exists; refusing to overwrite a key (remove it first if you mean to)"
    )]
    Exists {
        /// The key file.
        path: PathBuf,
    },
    /// The key file is readable by group or others.
    #[error(
        "{path}: key file is readable by group or others (mode {mode:04o}); run `chmod 600 {path}`"
    )]
    Permissions {
        /// The key file.
        path: PathBuf,
        /// The file's permission bits.
        mode: u32,
    },
    /// The key file is a directory, FIFO, device, ...
    #[error("{path}: not a regular file; a key file must be one")]
    NotRegular {
        /// The key file.
        path: PathBuf,
    },
    /// The file is not 64 hex digits.
    #[error("{path}: not a leakmatch key (expected 64 hex digits)")]
    Format {
        /// The key file.
        path: PathBuf,
    },
    /// Neither `--key-file` nor [`KEY_FILE_ENV`] names a key file.
    #[error("no key given: pass --key-file FILE or set {KEY_FILE_ENV}")]
    Missing,
}

/// The secret key. Its `Debug` output never shows the bytes; they are zeroized on drop.
#[derive(Clone)]
pub struct Key {
    bytes: [u8; 32],
}

impl Drop for Key {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.bytes);
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key {{ id: {} }}", hex::encode(self.id()))
    }
}

/// The 16-byte key id stored in filter headers.
pub type KeyId = [u8; 16];

impl Key {
    /// Creates a key from the operating system's random source.
    pub fn generate() -> io::Result<Key> {
        let mut bytes = [0u8; 32];
        getrandom::getrandom(&mut bytes).map_err(io::Error::other)?;
        Ok(Key { bytes })
    }

    /// A key from known bytes (tests, benchmarks, `demo`).
    pub fn from_bytes(bytes: [u8; 32]) -> Key {
        Key { bytes }
    }

    /// Writes the key as 64 hex digits and a newline to a new file with mode 0600, atomically
    /// ([`crate::output::write_new`]). Refuses to overwrite anything that exists at `path`.
    pub fn write_new(&self, path: &Path) -> Result<(), KeyError> {
        use crate::output::OutputError;
        let text = zeroize::Zeroizing::new(format!("{}\n", hex::encode(self.bytes)));
        crate::output::write_new(path, text.as_bytes()).map_err(|e| match e {
            OutputError::Io { source, .. } => KeyError::Io { path: path.into(), source },
            _ => KeyError::Exists { path: path.into() },
        })
    }

    /// Loads a key file, refusing one that group or others may read (as OpenSSH does). The
    /// file is opened with `O_NONBLOCK` and must be a regular file (a FIFO would block
    /// forever); its text and the decoded bytes are zeroized when dropped.
    pub fn load(path: &Path) -> Result<Key, KeyError> {
        use std::io::Read;
        let io_err = |e| KeyError::Io { path: path.into(), source: e };
        let mut opts = fs::OpenOptions::new();
        opts.read(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.custom_flags(libc::O_NONBLOCK);
        }
        let file = opts.open(path).map_err(io_err)?;
        let meta = file.metadata().map_err(io_err)?;
        if !meta.is_file() {
            return Err(KeyError::NotRegular { path: path.into() });
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o7777;
            if mode & 0o077 != 0 {
                return Err(KeyError::Permissions { path: path.into(), mode });
            }
        }
        let mut text = zeroize::Zeroizing::new(Vec::with_capacity(1025));
        file.take(1025).read_to_end(&mut text).map_err(io_err)?;
        if text.len() > 1024 {
            return Err(KeyError::Format { path: path.into() });
        }
        let text =
            std::str::from_utf8(&text).map_err(|_| KeyError::Format { path: path.into() })?;
        let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(text.trim(), &mut *bytes)
            .map_err(|_| KeyError::Format { path: path.into() })?;
        Ok(Key { bytes: *bytes })
    }

    /// Loads the key from `path` or, when `None`, from `$LEAKMATCH_KEY_FILE`.
    pub fn load_from(path: Option<&Path>) -> Result<Key, KeyError> {
        match path {
            Some(p) => Key::load(p),
            None => match std::env::var_os(KEY_FILE_ENV) {
                Some(p) if !p.is_empty() => Key::load(Path::new(&p)),
                _ => Err(KeyError::Missing),
            },
        }
    }

    /// The key id: names the key without revealing it.
    pub fn id(&self) -> KeyId {
        let d = blake3::derive_key(CTX_KEY_ID, &self.bytes);
        d[..16].try_into().expect("16 of 32 bytes")
    }

    /// A subkey for another purpose, named by a context string unique to it (the OPRF key of
    /// [`crate::oprf`] is derived this way); zeroized when dropped.
    pub fn derive_subkey(&self, context: &str) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(blake3::derive_key(context, &self.bytes))
    }

    /// The subkey for filter MACs; zeroized when dropped.
    pub fn mac_key(&self) -> Zeroizing<[u8; 32]> {
        self.derive_subkey(CTX_MAC)
    }

    /// A tokenizer holding the token subkey (the first 128 bits of the derived key; the
    /// derived bytes are zeroized, the copy inside the SipHash state is not reachable).
    pub fn tokenizer(&self) -> Tokenizer {
        let sub = self.derive_subkey(CTX_TOKEN);
        let key = Zeroizing::new(*sub.first_chunk::<16>().expect("16 of 32 bytes"));
        Tokenizer::with_key(&key)
    }
}

/// Turns normalised identifiers into tokens. Cheap to copy (one per worker).
#[derive(Clone)]
pub struct Tokenizer {
    /// The SipHash-2-4-128 state keyed with the token subkey, before any input.
    init: [u64; 4],
    /// The CPU has AVX-512F and AVX-512VL, for [`Tokenizer::tokens4`].
    lanes: bool,
}

/// Longest value [`Tokenizer::tokens4`] hashes in vector lanes (8 message words with the
/// tag and the length byte); a longer one goes through [`Tokenizer::token`].
const LANE_VALUE_MAX: usize = 55;

impl fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Tokenizer { .. }")
    }
}

impl Tokenizer {
    /// SipHash-2-4-128 keyed with a 128-bit key (little-endian halves `k0 ‖ k1`).
    fn with_key(key: &[u8; 16]) -> Tokenizer {
        let (k0, k1) = key.split_at(8);
        let half = |h: &[u8]| u64::from_le_bytes(*h.first_chunk().expect("8 of 16 bytes"));
        let (k0, k1) = (half(k0), half(k1));
        Tokenizer {
            // The initial state of SipHash-128: `v1` is also XORed with 0xee.
            init: [
                k0 ^ 0x736f_6d65_7073_6575,
                k1 ^ 0x646f_7261_6e64_6f83,
                k0 ^ 0x6c79_6765_6e65_7261,
                k1 ^ 0x7465_6462_7974_6573,
            ],
            #[cfg(target_arch = "x86_64")]
            lanes: std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512vl"),
            #[cfg(not(target_arch = "x86_64"))]
            lanes: false,
        }
    }

    /// Whether [`Tokenizer::tokens4`] computes in vector lanes on this CPU.
    pub fn has_lanes(&self) -> bool {
        self.lanes
    }

    /// [`Tokenizer::token`] of four values at once: on a CPU with AVX-512VL the four
    /// SipHash states run side by side in the 64-bit lanes of vector registers (a record's
    /// base kinds are hashed together; one scalar SipHash leaves most of the core idle on
    /// its chain of dependent additions and rotations). Equal to four scalar calls
    /// (property test).
    #[inline]
    pub fn tokens4(&self, kinds: [Kind; 4], values: [&[u8]; 4]) -> [Token; 4] {
        #[cfg(target_arch = "x86_64")]
        if self.lanes && values.iter().all(|v| v.len() <= LANE_VALUE_MAX) {
            let mut words = [[0u64; 8]; 4];
            let mut steps = [0usize; 4];
            for (((s, w), k), v) in steps.iter_mut().zip(&mut words).zip(kinds).zip(values) {
                *s = message_words(k.tag(), v, w);
            }
            // SAFETY: `lanes` is true only if the CPU has AVX-512F and AVX-512VL.
            return unsafe { lanes::tokens4(&self.init, &words, steps) };
        }
        let mut out = [0; 4];
        for ((o, k), v) in out.iter_mut().zip(kinds).zip(values) {
            *o = self.token(k, v);
        }
        out
    }

    /// The token of a normalised value of `kind`: SipHash-2-4-128 over `tag ‖ value`.
    ///
    /// One pass over the message as it lies, without copying it behind the tag: word 0 is the
    /// tag and the value's first 7 bytes, word `i` the 8 bytes at `8i − 1`, the last partial
    /// word the value's last bytes (one load of its last 8). The same function as the
    /// `siphasher` crate's `SipHasher24` fed `write_u8(tag)`, `write(value)`, `finish128()`
    /// (a property test holds them equal), in about 50 fewer instructions per token.
    #[inline]
    pub fn token(&self, kind: Kind, value: &[u8]) -> Token {
        let mut v = self.init;
        for_each_word(kind.tag(), value, |m| compress(&mut v, m));
        v[2] ^= 0xee;
        (0..4).for_each(|_| sip_round(&mut v));
        let h1 = v[0] ^ v[1] ^ v[2] ^ v[3];
        v[1] ^= 0xdd;
        (0..4).for_each(|_| sip_round(&mut v));
        let h2 = v[0] ^ v[1] ^ v[2] ^ v[3];
        u128::from(h1) | u128::from(h2) << 64
    }
}

/// Calls `f` with each SipHash message word of `tag ‖ value` in order, read where the value
/// lies: word 0 is the tag and the value's first 7 bytes, word `i` the 8 bytes at `8i − 1`,
/// the last the value's remaining bytes (one load of its last 8) with the length byte.
#[inline(always)]
fn for_each_word(tag: u8, value: &[u8], mut f: impl FnMut(u64)) {
    let n = value.len();
    let len = n + 1;
    let tail = if n < 8 {
        let mut buf = [0u8; 8];
        buf[0] = tag;
        for (b, &x) in buf.iter_mut().skip(1).zip(value) {
            *b = x;
        }
        let word = u64::from_le_bytes(buf);
        if len < 8 {
            word
        } else {
            f(word);
            0
        }
    } else {
        let load = |at: usize| {
            let word = value.get(at..).and_then(<[u8]>::first_chunk);
            u64::from_le_bytes(*word.expect("8 bytes: at + 8 <= n"))
        };
        f(u64::from(tag) | load(0) << 8);
        for i in 1..len / 8 {
            f(load(8 * i - 1));
        }
        match len % 8 {
            0 => 0,
            r => load(n - 8) >> (64 - 8 * r),
        }
    };
    f(((len as u64 & 0xff) << 56) | tail);
}

/// The SipHash message words of `tag ‖ value` (at most [`LANE_VALUE_MAX`] bytes of value are
/// read) into `out`; returns how many.
fn message_words(tag: u8, value: &[u8], out: &mut [u64; 8]) -> usize {
    let value = value.get(..LANE_VALUE_MAX).unwrap_or(value);
    let mut n = 0;
    // At most 56 bytes of message: 7 full words and the last, `out`'s 8.
    for_each_word(tag, value, |m| {
        if let Some(w) = out.get_mut(n) {
            *w = m;
        }
        n += 1;
    });
    n
}

/// One message word into the SipHash-2-4 state: two rounds.
#[inline(always)]
fn compress(v: &mut [u64; 4], m: u64) {
    v[3] ^= m;
    sip_round(v);
    sip_round(v);
    v[0] ^= m;
}

/// SipHash-2-4-128 of four messages in the four 64-bit lanes of AVX-512VL registers.
// Reviewed (#11): lane indices are `0..4` over `[_; 4]` arrays, word indices `j < last ≤ 8`
// over `[u64; 8]`.
#[cfg(target_arch = "x86_64")]
#[allow(clippy::indexing_slicing, clippy::needless_range_loop)]
mod lanes {
    use std::arch::x86_64::{
        __m256i, _mm256_add_epi64, _mm256_extract_epi64, _mm256_mask_blend_epi64, _mm256_rol_epi64,
        _mm256_set1_epi64x, _mm256_set_epi64x, _mm256_xor_si256,
    };

    /// The tokens of four messages of `steps[i]` words each (`words[i]`, the last with the
    /// length byte), from the keyed initial state `init`. A lane whose message has ended
    /// keeps its state (masked blend) while the others go on; all finish together.
    #[target_feature(enable = "avx512f,avx512vl")]
    pub fn tokens4(init: &[u64; 4], words: &[[u64; 8]; 4], steps: [usize; 4]) -> [u128; 4] {
        let mut v = init.map(|x| _mm256_set1_epi64x(x as i64));
        let last = steps.iter().copied().max().unwrap_or(0).min(8);
        for j in 0..last {
            let w = |i: usize| words[i][j] as i64;
            let m = _mm256_set_epi64x(w(3), w(2), w(1), w(0));
            let mut next = v;
            next[3] = _mm256_xor_si256(next[3], m);
            round(&mut next);
            round(&mut next);
            next[0] = _mm256_xor_si256(next[0], m);
            let active = (0..4).fold(0u8, |k, i| k | u8::from(j < steps[i]) << i);
            for (s, n) in v.iter_mut().zip(next) {
                *s = _mm256_mask_blend_epi64(active, *s, n);
            }
        }
        v[2] = _mm256_xor_si256(v[2], _mm256_set1_epi64x(0xee));
        (0..4).for_each(|_| round(&mut v));
        let h1 = _mm256_xor_si256(_mm256_xor_si256(v[0], v[1]), _mm256_xor_si256(v[2], v[3]));
        v[1] = _mm256_xor_si256(v[1], _mm256_set1_epi64x(0xdd));
        (0..4).for_each(|_| round(&mut v));
        let h2 = _mm256_xor_si256(_mm256_xor_si256(v[0], v[1]), _mm256_xor_si256(v[2], v[3]));
        let lane = |h: __m256i| {
            [
                _mm256_extract_epi64::<0>(h) as u64,
                _mm256_extract_epi64::<1>(h) as u64,
                _mm256_extract_epi64::<2>(h) as u64,
                _mm256_extract_epi64::<3>(h) as u64,
            ]
        };
        let (lo, hi) = (lane(h1), lane(h2));
        std::array::from_fn(|i| u128::from(lo[i]) | u128::from(hi[i]) << 64)
    }

    /// SipRound on four states.
    #[inline]
    #[target_feature(enable = "avx512f,avx512vl")]
    fn round(v: &mut [__m256i; 4]) {
        v[0] = _mm256_add_epi64(v[0], v[1]);
        v[1] = _mm256_xor_si256(_mm256_rol_epi64::<13>(v[1]), v[0]);
        v[0] = _mm256_rol_epi64::<32>(v[0]);
        v[2] = _mm256_add_epi64(v[2], v[3]);
        v[3] = _mm256_xor_si256(_mm256_rol_epi64::<16>(v[3]), v[2]);
        v[0] = _mm256_add_epi64(v[0], v[3]);
        v[3] = _mm256_xor_si256(_mm256_rol_epi64::<21>(v[3]), v[0]);
        v[2] = _mm256_add_epi64(v[2], v[1]);
        v[1] = _mm256_xor_si256(_mm256_rol_epi64::<17>(v[1]), v[2]);
        v[2] = _mm256_rol_epi64::<32>(v[2]);
    }
}

/// SipRound (Aumasson and Bernstein, 2012).
#[inline(always)]
fn sip_round(v: &mut [u64; 4]) {
    v[0] = v[0].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(13) ^ v[0];
    v[0] = v[0].rotate_left(32);
    v[2] = v[2].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(16) ^ v[2];
    v[0] = v[0].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(21) ^ v[0];
    v[2] = v[2].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(17) ^ v[2];
    v[2] = v[2].rotate_left(32);
}

/// Combines the tokens of a pair kind's two parts into the pair's token.
///
/// `a` and `b` are PRF outputs (secret, uniform); xxh3-128 over both with the pair kind's tag
/// as seed mixes them into a token that depends on both and on their order.
#[inline]
pub fn pair(kind: Kind, a: Token, b: Token) -> Token {
    let mut buf = [0u8; 32];
    buf[..16].copy_from_slice(&a.to_le_bytes());
    buf[16..].copy_from_slice(&b.to_le_bytes());
    xxhash_rust::xxh3::xxh3_128_with_seed(&buf, u64::from(kind.tag()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_depend_on_key_kind_and_value() {
        let k1 = Key::from_bytes([1; 32]).tokenizer();
        let k2 = Key::from_bytes([2; 32]).tokenizer();
        let t = k1.token(Kind::Kvnr, b"A123456780");
        assert_eq!(t, k1.token(Kind::Kvnr, b"A123456780"));
        assert_ne!(t, k2.token(Kind::Kvnr, b"A123456780"));
        assert_ne!(t, k1.token(Kind::Email, b"A123456780"));
        assert_ne!(t, k1.token(Kind::Kvnr, b"A123456781"));
    }

    #[test]
    fn key_id_and_subkeys_differ_from_each_other_and_the_key() {
        let key = Key::from_bytes([7; 32]);
        assert_ne!(key.id()[..], key.mac_key()[..16]);
        assert_ne!(*key.mac_key(), [7; 32]);
        assert!(!format!("{key:?}").contains("0707"));
    }

    proptest::proptest! {
        #[test]
        fn token_is_siphash_2_4_128_of_tag_and_value_as_the_siphasher_crate_computes_it(
            key: [u8; 16],
            kind in proptest::sample::select(Kind::ALL.to_vec()),
            value in proptest::collection::vec(proptest::num::u8::ANY, 0..80),
        ) {
            use siphasher::sip128::{Hasher128, SipHasher24};
            use std::hash::Hasher;
            let mut h = SipHasher24::new_with_key(&key);
            h.write_u8(kind.tag());
            h.write(&value);
            let want = h.finish128().as_u128();
            proptest::prop_assert_eq!(Tokenizer::with_key(&key).token(kind, &value), want);
        }
    }

    proptest::proptest! {
        #[test]
        fn four_tokens_at_once_are_four_tokens(
            key: [u8; 16],
            kinds in proptest::array::uniform4(proptest::sample::select(Kind::ALL.to_vec())),
            values in proptest::array::uniform4(
                proptest::collection::vec(proptest::num::u8::ANY, 0..70),
            ),
        ) {
            let t = Tokenizer::with_key(&key);
            let refs = [&values[0][..], &values[1][..], &values[2][..], &values[3][..]];
            let want: [Token; 4] = std::array::from_fn(|i| t.token(kinds[i], refs[i]));
            proptest::prop_assert_eq!(t.tokens4(kinds, refs), want);
        }
    }

    #[test]
    fn pair_is_ordered() {
        assert_ne!(pair(Kind::KvnrNameDob, 1, 2), pair(Kind::KvnrNameDob, 2, 1));
        assert_ne!(pair(Kind::KvnrNameDob, 1, 2), pair(Kind::EmailNameDob, 1, 2));
    }

    #[cfg(unix)]
    #[test]
    fn key_file_round_trip_and_permission_check() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k");
        let key = Key::generate().unwrap();
        key.write_new(&p).unwrap();
        assert_eq!(fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(Key::load(&p).unwrap().id(), key.id());
        assert!(matches!(key.write_new(&p), Err(KeyError::Exists { .. })));
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        let err = Key::load(&p).unwrap_err();
        assert!(matches!(err, KeyError::Permissions { mode: 0o640, .. }));
        assert!(err.to_string().contains("chmod 600"));
    }
}
