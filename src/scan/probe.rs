//! The scan's sink: probing batches of records' tokens against the filters' sections.

// Reviewed (#11): per-kind fixed arrays indexed by `Kind::index()` and loop `i` over `KINDS`;
// `tally.filters[f]` has one entry per probed filter (built from the same list).
#![allow(clippy::indexing_slicing)]

use super::{Batch, Sink, Tokens};
use crate::filter::{BloomRef, FilterFile};
use crate::ident::Kind;
use crate::tally::{FilterTally, RowBound, Tally, KINDS};

/// How many records ahead of the one being tested [`Prober::probe`] prefetches blocks.
pub const PREFETCH_AHEAD: usize = 6;

/// The filters' sections, ready to probe the records of one input (its chunks share the
/// duplicate sample's admission bound, see [`crate::tally::RowSample::insert_bounded`]).
pub struct Prober<'f> {
    /// Per filter: the section of each kind it has, indexed by [`Kind::index`].
    filters: Vec<[Option<BloomRef<'f>>; KINDS]>,
    /// Whether matching records' positions are collected (`--emit-matches`).
    collect: bool,
    /// Admission bound of the input's duplicate sample.
    row_bound: RowBound,
    /// Distinct matching tokens counted exactly per filter and kind up to this many.
    exact_distinct: u64,
    /// Whether the CPU has AVX-512F, for [`BloomRef::contains_avx512`].
    avx512: bool,
}

impl<'f> Prober<'f> {
    /// A prober of `filters` (no match collection, default exact-distinct bound).
    pub fn new(filters: &'f [FilterFile]) -> Prober<'f> {
        let filters =
            filters.iter().map(|f| std::array::from_fn(|i| f.section(Kind::ALL[i]))).collect();
        Prober {
            filters,
            collect: false,
            row_bound: RowBound::default(),
            exact_distinct: crate::sketch::DEFAULT_EXACT_LIMIT,
            #[cfg(target_arch = "x86_64")]
            avx512: std::arch::is_x86_feature_detected!("avx512f"),
            #[cfg(not(target_arch = "x86_64"))]
            avx512: false,
        }
    }

    /// Count distinct matching tokens exactly up to `limit` per filter and kind
    /// (`--exact-distinct`; a HyperLogLog past it, see [`crate::sketch`]).
    pub fn exact_distinct(mut self, limit: u64) -> Self {
        self.exact_distinct = limit;
        self
    }

    /// Also collect each matching record's position and hits into [`Tally::matches`].
    pub fn collect_matches(mut self, on: bool) -> Self {
        self.collect = on;
        self
    }

    /// Probes a batch of records' tokens against every filter and counts hits: first all
    /// prefetches, then all tests. Also samples each row's token set for the duplicate count.
    pub fn probe(&self, tally: &mut Tally, batch: &Batch) {
        for tokens in &batch.tokens {
            if let Some(h) = row_hash(tokens) {
                tally.row_sample.insert_bounded(h, &self.row_bound);
            }
        }
        let mut hits = Vec::new();
        let prefetch = |sections: &[Option<BloomRef<'_>>; KINDS], tokens: &Tokens| {
            for (section, token) in sections.iter().zip(tokens) {
                if let (Some(bloom), Some(t)) = (section, token) {
                    bloom.prefetch(*t);
                }
            }
        };
        for (f, sections) in self.filters.iter().enumerate() {
            // Software pipeline: the blocks of record i + AHEAD are requested while record i
            // is tested, so a bounded number of misses is in flight, each with time to land.
            for tokens in batch.tokens.iter().take(PREFETCH_AHEAD) {
                prefetch(sections, tokens);
            }
            for (i, (tokens, pos)) in batch.tokens.iter().zip(&batch.positions).enumerate() {
                if let Some(ahead) = batch.tokens.get(i + PREFETCH_AHEAD) {
                    prefetch(sections, ahead);
                }
                let ft = &mut tally.filters[f];
                let kinds = probe_record(sections, ft, tokens, self.exact_distinct, self.avx512);
                if kinds != 0 {
                    ft.count_categories(batch.categories.get(i).copied().unwrap_or(0));
                }
                if self.collect && kinds != 0 {
                    hits.push(crate::tally::MatchHit { pos: *pos, filter: f as u32, kinds });
                }
            }
        }
        if !hits.is_empty() {
            hits.sort_by_key(|m| (m.pos.byte, m.filter));
            crate::tally::merge_matches(&mut tally.matches, &hits);
        }
    }
}

/// A hash of all tokens of a row (`None` for a row without any): equal token sets, equal hash.
#[inline]
fn row_hash(tokens: &Tokens) -> Option<u64> {
    let mut h = 0u64;
    let mut any = false;
    for (i, t) in tokens.iter().enumerate() {
        if let Some(t) = t {
            any = true;
            // Tokens are PRF outputs: fold them position-dependently, then mix.
            h = (h ^ (*t as u64) ^ ((*t >> 64) as u64).rotate_left(i as u32 + 1))
                .wrapping_mul(0x9e37_79b9_7f4a_7c15)
                .rotate_left(29);
        }
    }
    any.then_some(h)
}

/// Probes one record's tokens against one filter's sections; returns the bit set of the kinds
/// that hit (bit [`Kind::index`]).
#[inline]
fn probe_record(
    sections: &[Option<BloomRef<'_>>; KINDS],
    ft: &mut FilterTally,
    tokens: &Tokens,
    exact_distinct: u64,
    avx512: bool,
) -> u16 {
    let (mut kinds, mut independent, mut probed) = (0u16, 0, false);
    for (i, (section, token)) in sections.iter().zip(tokens).enumerate() {
        let (Some(bloom), Some(t)) = (section, token) else { continue };
        probed = true;
        ft.probed[i] += 1;
        if contains(bloom, *t, avx512) {
            ft.hits[i] += 1;
            ft.distinct[i].insert(*t as u64, exact_distinct);
            kinds |= 1 << i;
            independent += usize::from(Kind::ALL[i].independent());
        }
    }
    ft.rows_probed += u64::from(probed);
    ft.matched_any += u64::from(kinds != 0);
    ft.matched_two_plus += u64::from(independent >= 2);
    for pair in [Kind::KvnrNameDob, Kind::EmailNameDob] {
        let (a, b) = pair.parts().expect("a pair kind");
        let both = kinds & (1 << a.index()) != 0 && kinds & (1 << b.index()) != 0;
        if both && sections[pair.index()].is_some() && tokens[pair.index()].is_some() {
            ft.pair_both[pair.index()] += 1;
            ft.pair_missed[pair.index()] += u64::from(kinds & (1 << pair.index()) == 0);
        }
    }
    kinds
}

/// Whether `bloom` may hold `token`: [`BloomRef::contains`], with AVX-512F when `avx512`.
#[inline]
fn contains(bloom: &BloomRef<'_>, token: crate::token::Token, avx512: bool) -> bool {
    #[cfg(target_arch = "x86_64")]
    if avx512 {
        // SAFETY: `avx512` is true only if the CPU has AVX-512F (`Prober::new`).
        return unsafe { bloom.contains_avx512(token) };
    }
    let _ = avx512;
    bloom.contains(token)
}

impl Sink for Prober<'_> {
    fn batch(&self, tally: &mut Tally, batch: &Batch) {
        self.probe(tally, batch)
    }
}
