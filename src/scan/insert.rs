//! The build's sink: inserting batches of records' tokens into one filter section per kind.
//!
//! Workers share the sections. An insert with `fetch_or` is a locked, serialising instruction
//! per word of the block (up to 8 per token), and it was most of a build's CPU. So each
//! section is cut into partitions, ranges of consecutive blocks with one lock each; a worker
//! buffers its tokens per section and partition and, once [`BUFFERED`] are waiting, takes the
//! partition's lock and inserts them with plain loads and stores
//! ([`AtomicBloom::insert_exclusive`]). A block belongs to exactly one partition, so no two
//! threads ever write it at once, and bits are only set, so the filter is the same whatever
//! the order: bit for bit the filter of inserting every token one after the other (tested
//! below).

// Reviewed (#11): `tokens` is a `[_; KINDS]` array, `i` a kind index; a partition index is a
// block index shifted so that it stays below `locks.len()` (see `Section::new`), and
// `buffers[s]` has one list per partition of section `s`.
#![allow(clippy::indexing_slicing)]

use std::sync::{Mutex, PoisonError};

use super::{Batch, Sink};
use crate::filter::bloom::block_index;
use crate::filter::{AtomicBloom, Bloom, Params};
use crate::ident::Kind;
use crate::tally::Tally;
use crate::token::Token;

/// Tokens a worker holds per section and partition before it inserts them.
const BUFFERED: usize = 256;
/// Partitions per section, at least (fewer when the section has fewer blocks).
const PARTITIONS: u64 = 64;
/// How many tokens ahead of the one inserted a partition's insert prefetches blocks.
const AHEAD: usize = 16;

/// One section being filled: its filter and one lock per partition.
struct Section {
    kind: Kind,
    bloom: AtomicBloom,
    /// A block's partition is its index shifted right by this much.
    shift: u32,
    locks: Vec<Mutex<()>>,
}

impl Section {
    fn new(kind: Kind, params: Params) -> Section {
        // The smallest shift that leaves at most PARTITIONS partitions of 2^shift blocks.
        let per = params.blocks.div_ceil(PARTITIONS).max(1);
        let shift = u64::BITS - (per - 1).leading_zeros();
        let parts = ((params.blocks - 1) >> shift) + 1;
        let locks = (0..parts).map(|_| Mutex::new(())).collect();
        Section { kind, bloom: AtomicBloom::new(params), shift, locks }
    }

    #[inline]
    fn partition(&self, token: Token) -> usize {
        block_index(token, self.bloom.params().blocks) >> self.shift
    }

    /// Inserts `tokens`, all of partition `p`, holding its lock.
    fn insert_all(&self, p: usize, tokens: &[Token]) {
        let _only_writer = self.locks[p].lock().unwrap_or_else(PoisonError::into_inner);
        for &t in tokens.iter().take(AHEAD) {
            self.bloom.prefetch(t);
        }
        for (i, &t) in tokens.iter().enumerate() {
            if let Some(&ahead) = tokens.get(i + AHEAD) {
                self.bloom.prefetch(ahead);
            }
            self.bloom.insert_exclusive(t);
        }
    }
}

/// Tokens waiting to be inserted, per section and partition.
type Buffers = Vec<Vec<Vec<Token>>>;

/// One shared Bloom filter per kind, filled by partitions (module docs); memory is the
/// filters plus at most 256 buffered tokens per worker, section and partition.
pub struct Inserter {
    sections: Vec<Section>,
    /// Per rayon worker (by thread index): its buffered tokens. Only that worker locks its
    /// own, so the lock costs one uncontended acquire per batch.
    buffers: Vec<Mutex<Buffers>>,
}

impl Inserter {
    /// Empty sections of the given kinds and geometries.
    pub fn new(sections: impl IntoIterator<Item = (Kind, Params)>) -> Inserter {
        let sections: Vec<Section> =
            sections.into_iter().map(|(k, p)| Section::new(k, p)).collect();
        let empty = || sections.iter().map(|s| vec![Vec::new(); s.locks.len()]).collect();
        let buffers =
            (0..rayon::current_num_threads().max(1)).map(|_| Mutex::new(empty())).collect();
        Inserter { sections, buffers }
    }

    /// The filled sections, in the order given to [`Inserter::new`]: every worker's buffered
    /// tokens inserted first.
    pub fn into_sections(self) -> Vec<(Kind, Bloom)> {
        for buffers in self.buffers {
            let buffers = buffers.into_inner().unwrap_or_else(PoisonError::into_inner);
            for (section, parts) in self.sections.iter().zip(&buffers) {
                for (p, tokens) in parts.iter().enumerate() {
                    section.insert_all(p, tokens);
                }
            }
        }
        self.sections.into_iter().map(|s| (s.kind, s.bloom.into_bloom())).collect()
    }
}

impl Sink for Inserter {
    /// Buffers the batch's tokens; inserts a partition's once 256 are waiting.
    fn batch(&self, _: &mut Tally, batch: &Batch) {
        let slot = rayon::current_thread_index().unwrap_or(0) % self.buffers.len();
        let mut buffers = self.buffers[slot].lock().unwrap_or_else(PoisonError::into_inner);
        for (section, parts) in self.sections.iter().zip(buffers.iter_mut()) {
            let i = section.kind.index();
            for t in batch.tokens.iter().filter_map(|tokens| tokens[i]) {
                let p = section.partition(t);
                let waiting = &mut parts[p];
                waiting.push(t);
                if waiting.len() >= BUFFERED {
                    section.insert_all(p, waiting);
                    waiting.clear();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tally::KINDS;
    use rayon::prelude::*;

    fn tokens(n: usize, seed: u64) -> Vec<Token> {
        let mut x = seed;
        (0..n)
            .map(|_| {
                x = x
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                u128::from(x) << 64 | u128::from(x.rotate_left(23) ^ 0x9e37_79b9_7f4a_7c15)
            })
            .collect()
    }

    /// Sections filled by `Inserter` from many threads in batches, against a `Bloom` filled
    /// one token after the other: the same bits.
    fn same_bits_as_sequential(blocks: u64, n: usize) {
        let params = Params::new(7, blocks).unwrap();
        let kinds = [Kind::Kvnr, Kind::Email];
        let all: Vec<Vec<Token>> = (0..2).map(|s| tokens(n, 11 + s)).collect();
        let inserter = Inserter::new(kinds.map(|k| (k, params)));
        (0..n).collect::<Vec<_>>().par_chunks(37).for_each(|rows| {
            let mut batch = Batch::with_capacity(rows.len());
            for &r in rows {
                let mut t = [None; KINDS];
                t[Kind::Kvnr.index()] = Some(all[0][r]);
                // Some records without an e-mail token.
                t[Kind::Email.index()] = (r % 5 != 0).then_some(all[1][r]);
                batch.tokens.push(t);
            }
            inserter.batch(&mut Tally::new(0), &batch);
        });
        let filled = inserter.into_sections();
        for (s, (kind, bloom)) in filled.iter().enumerate() {
            assert_eq!(*kind, kinds[s]);
            let mut want = Bloom::new(params);
            all[s].iter().enumerate().filter(|(r, _)| s == 0 || r % 5 != 0).for_each(|(_, &t)| {
                want.insert(t);
            });
            assert!(bloom.blocks() == want.blocks(), "{kind:?}: {blocks} blocks, {n} tokens");
        }
    }

    #[test]
    fn partitioned_inserts_from_many_threads_set_the_bits_of_sequential_inserts() {
        // Many partitions, tokens left in buffers at the end; one block (one partition);
        // a block count that is not a multiple of the partition size.
        same_bits_as_sequential(4096, 200_000);
        same_bits_as_sequential(1, 3_000);
        same_bits_as_sequential(1_000_003, 50_000);
    }

    #[test]
    fn partitions_are_consecutive_block_ranges_below_the_lock_count() {
        for blocks in [1u64, 2, 63, 64, 65, 1000, 1 << 20, (1 << 20) + 1, 11_390_177] {
            let s = Section::new(Kind::Kvnr, Params::new(7, blocks).unwrap());
            assert!(s.locks.len() as u64 <= PARTITIONS, "{blocks}: {} locks", s.locks.len());
            assert_eq!((blocks - 1) >> s.shift, s.locks.len() as u64 - 1, "{blocks}");
            for t in tokens(2000, blocks) {
                assert!(s.partition(t) < s.locks.len());
            }
        }
    }
}
