//! Bit arrays of a blocked Bloom filter and the mapping from a token to its probe.
//!
//! # Positions (position scheme 1, `blocked512-mulshift-9bit`)
//!
//! A token is 128 uniform bits (a PRF output), split into `lo` (low 64 bits) and `hi`.
//! - Block: `(lo × blocks) >> 64` (Lemire's multiply-shift reduction; no division, bias
//!   below `blocks / 2^64`).
//! - Bits: word 0 is `hi`, word `i ≥ 1` is `mix64(hi + i·γ)` (splitmix64: γ =
//!   0x9E3779B97F4A7C15 and Stafford's "Mix13" finalizer). Each word yields seven 9-bit
//!   positions, taken from its low bits upwards; `k ≤ 16` needs at most three words.
//!   Positions are drawn with replacement, as the FPR formula in [`super::params`] assumes.
//! - Bit `p` of a block is bit `p % 64` (LSB first) of word `p / 64`.
//!
//! A probe precomputes the eight word masks of a token (for inserts); `contains` tests the
//! positions in the one cache line directly, seven at a time, and stops at the first group
//! with a clear bit.

// Reviewed (#11): block indices come from `block_index` (mul-shift onto `0..blocks`, the array's
// length) and bit positions are masked to 512 bits of a `[u64; 8]` block; ones-tables have 513
// entries.
#![allow(clippy::indexing_slicing)]

use std::sync::atomic::{AtomicU64, Ordering};

use super::params::{Params, BLOCK_BITS};
use crate::token::Token;
use bits::{AtomicBlocks, Bits};

mod bits;

/// One 512-bit block: a 64-byte cache line of eight little-endian words.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C, align(64))]
pub struct Block(pub [u64; 8]);

// SAFETY: `Block` is `repr(C)` around `[u64; 8]`: 64 bytes, alignment 64, no padding, and
// every bit pattern is a valid value; all-zero is the empty block.
unsafe impl bytemuck::Zeroable for Block {}
// SAFETY: as above; `Block` is `Copy + 'static` and has no padding or invalid bit patterns.
unsafe impl bytemuck::Pod for Block {}

impl Block {
    /// The empty block.
    pub const ZERO: Block = Block([0; 8]);

    /// Number of bits set.
    #[inline]
    pub fn ones(&self) -> u32 {
        self.0.iter().map(|w| w.count_ones()).sum()
    }
}

/// The two sections given to [`Bloom::union_with`] differ in geometry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot merge filters of different geometry ({left} vs {right})")]
pub struct GeometryMismatch {
    /// The geometry merged into.
    pub left: Params,
    /// The geometry merged from.
    pub right: Params,
}

/// The location of a token in a filter of given [`Params`]: its block and eight word masks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Probe {
    /// Block index, `< params.blocks`.
    pub block: usize,
    /// Bits to test or set in each of the block's eight words.
    pub masks: [u64; 8],
}

/// splitmix64's increment: 2^64 / φ.
const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// Stafford's "Mix13" variant of the MurmurHash3 finalizer, as used by splitmix64: a
/// bijection on 64-bit words with full avalanche.
#[inline]
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Sets the `count ≤ 7` bits whose 9-bit positions are the low 9-bit groups of `word`.
#[inline(always)]
fn set_bits(masks: &mut [u64; 8], word: u64, count: u32) {
    for i in 0..count {
        let pos = (word >> (9 * i)) as usize & (BLOCK_BITS as usize - 1);
        masks[pos >> 6] |= 1u64 << (pos & 63);
    }
}

/// Whether the `count ≤ 7` bits whose positions are the low 9-bit groups of `word` are all
/// set in `block` (the test [`set_bits`] prepares for).
#[inline(always)]
fn all_set(block: &Block, word: u64, count: u32) -> bool {
    let mut missing = 0u64;
    for i in 0..count {
        let pos = (word >> (9 * i)) as usize & (BLOCK_BITS as usize - 1);
        missing |= !block.0[pos >> 6] >> (pos & 63) & 1;
    }
    missing == 0
}

/// [`all_set`] with AVX-512F, the block's eight words in `words`: lane `i < count` holds
/// position `i` (bits `9i..9i + 9` of `word`), picks its word and tests its bit.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[inline]
fn all_set_avx512(words: std::arch::x86_64::__m512i, word: u64, count: u32) -> bool {
    use std::arch::x86_64::*;
    let shifts = _mm512_setr_epi64(0, 9, 18, 27, 36, 45, 54, 63);
    let pos = _mm512_srlv_epi64(_mm512_set1_epi64(word as i64), shifts);
    let pos = _mm512_and_si512(pos, _mm512_set1_epi64(i64::from(BLOCK_BITS) - 1));
    let picked = _mm512_permutexvar_epi64(_mm512_srli_epi64::<6>(pos), words);
    let bits = _mm512_srlv_epi64(picked, _mm512_and_si512(pos, _mm512_set1_epi64(63)));
    let lanes = ((1u32 << count.min(8)) - 1) as __mmask8;
    _mm512_mask_testn_epi64_mask(lanes, bits, _mm512_set1_epi64(1)) == 0
}

/// The block index of `token` in a filter of `blocks` blocks: multiply-shift reduction of the
/// token's low 64 bits (Lemire 2019), the same as [`Probe::new`] computes.
#[inline]
pub fn block_index(token: Token, blocks: u64) -> usize {
    ((u128::from(token as u64) * u128::from(blocks)) >> 64) as usize
}

/// Asks the CPU to start loading `block` into the cache (a hint: no effect on results).
///
/// Batches of probes issue all their prefetches first and test afterwards, so the cache
/// misses of one batch overlap instead of queueing (`benches/README.md` has the gain).
#[inline(always)]
fn prefetch_block<T>(block: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: prefetching is a hint; the pointer comes from a live reference.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>((block as *const T).cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = block;
}

impl Probe {
    /// The probe of `token` in a filter of geometry `params` (scheme in the module docs).
    #[inline]
    pub fn new(params: Params, token: Token) -> Probe {
        let hi = (token >> 64) as u64;
        let block = block_index(token, params.blocks);
        let mut masks = [0u64; 8];
        let k = params.k;
        set_bits(&mut masks, hi, k.min(7));
        if k > 7 {
            set_bits(&mut masks, mix64(hi.wrapping_add(GAMMA)), (k - 7).min(7));
        }
        if k > 14 {
            set_bits(&mut masks, mix64(hi.wrapping_add(GAMMA.wrapping_mul(2))), k - 14);
        }
        Probe { block, masks }
    }

    /// Whether all of the probe's bits are set in `block`.
    #[inline]
    pub fn hits(&self, block: &Block) -> bool {
        let mut missing = 0u64;
        for i in 0..8 {
            missing |= self.masks[i] & !block.0[i];
        }
        missing == 0
    }
}

/// An owned blocked Bloom filter.
pub struct Bloom {
    params: Params,
    bits: Bits,
}

impl Clone for Bloom {
    /// A copy on the heap.
    fn clone(&self) -> Bloom {
        Bloom { params: self.params, bits: Bits::Heap(self.blocks().to_vec()) }
    }
}

impl PartialEq for Bloom {
    fn eq(&self, other: &Bloom) -> bool {
        self.params == other.params && self.blocks() == other.blocks()
    }
}

impl Eq for Bloom {}

impl std::fmt::Debug for Bloom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bloom")
            .field("params", &self.params)
            .field("blocks", &self.blocks())
            .finish()
    }
}

impl Bloom {
    /// An empty filter.
    ///
    /// # Panics
    /// If `params` fails [`Params::check`], or the bit array cannot be allocated.
    pub fn new(params: Params) -> Bloom {
        if let Err(e) = params.check() {
            panic!("Bloom::new: {e}");
        }
        Bloom { params, bits: Bits::Heap(vec![Block::ZERO; params.blocks as usize]) }
    }

    /// A filter from its bit array. `None` if the length is not `params.blocks` or `params`
    /// fails [`Params::check`].
    pub fn from_blocks(params: Params, blocks: Vec<Block>) -> Option<Bloom> {
        (params.check().is_ok() && blocks.len() as u64 == params.blocks)
            .then_some(Bloom { params, bits: Bits::Heap(blocks) })
    }

    /// The geometry.
    pub fn params(&self) -> Params {
        self.params
    }

    /// The bit array.
    pub fn blocks(&self) -> &[Block] {
        self.bits.as_slice()
    }

    /// Hands the bit array's bytes to `f` in order, in pieces of `piece` bytes (a multiple of
    /// 4 KiB), and frees the filter while it goes: a build's array (anonymous memory) piece by
    /// piece as `f` returns, a heap array at the end. Writing a filter file this way, the page
    /// cache of the file reuses the memory just freed: fresh memory is slow to touch in a VM.
    pub fn drain_bytes(
        self,
        piece: usize,
        f: &mut dyn FnMut(&[u8]) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        match self.bits {
            Bits::Heap(v) => f(bytemuck::cast_slice(&v)),
            Bits::Anon(a) => a.drain(piece, f),
        }
    }

    /// Adds a token.
    #[inline]
    pub fn insert(&mut self, token: Token) {
        let probe = Probe::new(self.params, token);
        let block = &mut self.bits.as_mut_slice()[probe.block];
        for i in 0..8 {
            block.0[i] |= probe.masks[i];
        }
    }

    /// Whether the token may be in the set (never false for an inserted token).
    #[inline]
    pub fn contains(&self, token: Token) -> bool {
        self.as_ref().contains(token)
    }

    /// A borrowed view, for the read-only operations shared with mapped files.
    #[inline]
    pub fn as_ref(&self) -> BloomRef<'_> {
        BloomRef { params: self.params, blocks: self.blocks() }
    }

    /// ORs `other` into `self`: afterwards `self` holds the union of both sets, exactly as
    /// if every token of both had been inserted. Both must have the same geometry (and,
    /// for a meaningful result, the same key).
    pub fn union_with(&mut self, other: BloomRef<'_>) -> Result<(), GeometryMismatch> {
        if self.params != other.params {
            return Err(GeometryMismatch { left: self.params, right: other.params });
        }
        for (a, b) in self.bits.as_mut_slice().iter_mut().zip(other.blocks) {
            for i in 0..8 {
                a.0[i] |= b.0[i];
            }
        }
        Ok(())
    }

    /// See [`BloomRef::achieved_fpr`].
    pub fn achieved_fpr(&self) -> f64 {
        self.as_ref().achieved_fpr()
    }

    /// See [`BloomRef::estimate_count`].
    pub fn estimate_count(&self) -> f64 {
        self.as_ref().estimate_count()
    }

    /// See [`BloomRef::ones`].
    pub fn ones(&self) -> u64 {
        self.as_ref().ones()
    }
}

/// A read-only view of a filter's bit array, e.g. a section of a memory-mapped file.
#[derive(Clone, Copy, Debug)]
pub struct BloomRef<'a> {
    params: Params,
    blocks: &'a [Block],
}

/// Contribution of a completely full block to [`BloomRef::estimate_count`]: the estimate
/// with half a bit still clear, `−(512/k)·ln(1/1024)`. The true load of a full block is
/// unbounded; this cap keeps the sum finite and is reached only by overfilled filters.
fn full_block_estimate(k: u32) -> f64 {
    f64::from(BLOCK_BITS) / f64::from(k) * (2.0 * f64::from(BLOCK_BITS)).ln()
}

impl<'a> BloomRef<'a> {
    /// A view of `blocks`. `None` if the length is not `params.blocks` or `params` fails
    /// [`Params::check`].
    pub fn new(params: Params, blocks: &'a [Block]) -> Option<BloomRef<'a>> {
        (params.check().is_ok() && blocks.len() as u64 == params.blocks)
            .then_some(BloomRef { params, blocks })
    }

    /// The geometry.
    pub fn params(&self) -> Params {
        self.params
    }

    /// The bit array.
    pub fn blocks(&self) -> &'a [Block] {
        self.blocks
    }

    /// Whether the token may be in the set: one block read, its bits tested straight from
    /// the position words (the same positions as [`Probe::new`]), seven at a time. A token
    /// that is not in the set fails the first seven with probability `1 − fill^7` (> 99 % at
    /// the optimal fill of about half), so the early return is well predicted.
    #[inline]
    pub fn contains(&self, token: Token) -> bool {
        let hi = (token >> 64) as u64;
        let block = &self.blocks[block_index(token, self.params.blocks)];
        let k = self.params.k;
        if !all_set(block, hi, k.min(7)) {
            return false;
        }
        if k > 7 && !all_set(block, mix64(hi.wrapping_add(GAMMA)), (k - 7).min(7)) {
            return false;
        }
        k <= 14 || all_set(block, mix64(hi.wrapping_add(GAMMA.wrapping_mul(2))), k - 14)
    }

    /// [`BloomRef::contains`] with AVX-512F: each group of seven positions is tested at once
    /// (the block in one register, its words permuted to the positions, shifted, tested):
    /// the same positions, the same answer, about a quarter of the instructions.
    ///
    /// # Safety
    /// The CPU must have AVX-512F: callers check once with
    /// `std::arch::is_x86_feature_detected!("avx512f")`.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    pub fn contains_avx512(&self, token: Token) -> bool {
        let hi = (token >> 64) as u64;
        let block = &self.blocks[block_index(token, self.params.blocks)];
        // SAFETY: `Block` is 64 bytes aligned to 64 (`repr(C, align(64))`): one aligned load.
        let words = unsafe { std::arch::x86_64::_mm512_load_si512(block.0.as_ptr().cast()) };
        let k = self.params.k;
        if !all_set_avx512(words, hi, k.min(7)) {
            return false;
        }
        if k > 7 && !all_set_avx512(words, mix64(hi.wrapping_add(GAMMA)), (k - 7).min(7)) {
            return false;
        }
        k <= 14 || all_set_avx512(words, mix64(hi.wrapping_add(GAMMA.wrapping_mul(2))), k - 14)
    }

    /// Starts loading the block `token` selects into the cache (a hint: no effect on results).
    #[inline]
    pub fn prefetch(&self, token: Token) {
        prefetch_block(&self.blocks[block_index(token, self.params.blocks)]);
    }

    /// Whether a precomputed probe hits (same geometry required).
    #[inline]
    pub fn hits(&self, probe: &Probe) -> bool {
        probe.hits(&self.blocks[probe.block])
    }

    /// Number of bits set.
    pub fn ones(&self) -> u64 {
        self.blocks.iter().map(|b| u64::from(b.ones())).sum()
    }

    /// The false-positive rate for a non-member token given the actual fill: the mean over
    /// blocks of `(X_b/512)^k`, `X_b` the bits set in block `b`. Exact, since a non-member
    /// picks a uniform block and `k` uniform positions with replacement.
    pub fn achieved_fpr(&self) -> f64 {
        let k = self.params.k as i32;
        let mut table = [0.0f64; BLOCK_BITS as usize + 1];
        for (x, t) in table.iter_mut().enumerate() {
            *t = (x as f64 / f64::from(BLOCK_BITS)).powi(k);
        }
        let sum: f64 = self.blocks.iter().map(|b| table[b.ones() as usize]).sum();
        sum / self.blocks.len() as f64
    }

    /// Estimated number of distinct tokens inserted: the Swamidass–Baldi estimator
    /// `−(m/k)·ln(1 − X/m)` (J. Chem. Inf. Model. 47, 2007) applied per block with m = 512
    /// and summed, as block loads differ. A full block contributes a capped value
    /// (`full_block_estimate`, 512·ln(1024)/k).
    pub fn estimate_count(&self) -> f64 {
        let k = f64::from(self.params.k);
        let m = f64::from(BLOCK_BITS);
        let mut table = [0.0f64; BLOCK_BITS as usize + 1];
        for (x, t) in table.iter_mut().enumerate() {
            *t = -(m / k) * (-(x as f64) / m).ln_1p();
        }
        table[BLOCK_BITS as usize] = full_block_estimate(self.params.k);
        self.blocks.iter().map(|b| table[b.ones() as usize]).sum()
    }
}

/// A block of atomic words, same size and alignment as [`Block`].
#[repr(C, align(64))]
struct AtomicBlock([AtomicU64; 8]);

const _: () = assert!(std::mem::size_of::<AtomicBlock>() == std::mem::size_of::<Block>());
const _: () = assert!(std::mem::align_of::<AtomicBlock>() == std::mem::align_of::<Block>());

/// A filter that many threads fill at once through `&self` (rayon workers during `build`).
/// Its bit array is anonymous memory, zero until touched and advised for huge pages
/// (`bits.rs`).
pub struct AtomicBloom {
    params: Params,
    blocks: AtomicBlocks,
}

impl AtomicBloom {
    /// An empty filter.
    ///
    /// # Panics
    /// If `params` fails [`Params::check`], or the bit array cannot be mapped.
    pub fn new(params: Params) -> AtomicBloom {
        if let Err(e) = params.check() {
            panic!("AtomicBloom::new: {e}");
        }
        let blocks = AtomicBlocks::zeroed(params.blocks as usize)
            .unwrap_or_else(|e| panic!("AtomicBloom::new: mapping the bit array: {e}"));
        AtomicBloom { params, blocks }
    }

    /// The geometry.
    pub fn params(&self) -> Params {
        self.params
    }

    /// Adds a token: `fetch_or` (relaxed) on the probe's non-zero words only. Bits are only
    /// ever set, so the order of inserts does not matter; the result is visible to other
    /// threads after they synchronise with this one (e.g. at the end of a rayon scope).
    #[inline]
    pub fn insert(&self, token: Token) {
        let probe = Probe::new(self.params, token);
        let block = &self.blocks.blocks()[probe.block];
        for (word, &mask) in block.0.iter().zip(&probe.masks) {
            if mask != 0 {
                word.fetch_or(mask, Ordering::Relaxed);
            }
        }
    }

    /// Adds a token as [`AtomicBloom::insert`] does, but with plain loads and stores of the
    /// probe's words (relaxed) instead of `fetch_or`, which on x86-64 is a locked, serialising
    /// instruction per word. Correct only while no other thread writes the same block: a
    /// concurrent insert into it could be lost (never memory-unsafe: the words are atomics).
    /// The build's inserter (`scan::Inserter`) holds the lock of the block's partition.
    #[inline]
    pub(crate) fn insert_exclusive(&self, token: Token) {
        let probe = Probe::new(self.params, token);
        let block = &self.blocks.blocks()[probe.block];
        for (word, &mask) in block.0.iter().zip(&probe.masks) {
            if mask != 0 {
                word.store(word.load(Ordering::Relaxed) | mask, Ordering::Relaxed);
            }
        }
    }

    /// Starts loading the block `token` selects into the cache.
    #[inline]
    pub fn prefetch(&self, token: Token) {
        prefetch_block(&self.blocks.blocks()[block_index(token, self.params.blocks)]);
    }

    /// The finished filter, in the same memory. We own `self`, so no other thread can still
    /// access the atomics.
    pub fn into_bloom(self) -> Bloom {
        Bloom { params: self.params, bits: Bits::Anon(self.blocks.into_blocks()) }
    }
}

#[cfg(test)]
mod tests;
