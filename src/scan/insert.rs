//! The build's sink: inserting batches of records' tokens into one filter section per kind.

// Reviewed (#11): `tokens` is a `[_; KINDS]` array, `i` a kind index.
#![allow(clippy::indexing_slicing)]

use super::{Batch, Sink};
use crate::filter::{AtomicBloom, Bloom, Params};
use crate::ident::Kind;
use crate::tally::Tally;

/// One shared atomic Bloom filter per kind; workers insert concurrently, so memory is the
/// filters plus a constant per worker.
pub struct Inserter {
    sections: Vec<(Kind, AtomicBloom)>,
}

impl Inserter {
    /// Empty sections of the given kinds and geometries.
    pub fn new(sections: impl IntoIterator<Item = (Kind, Params)>) -> Inserter {
        Inserter { sections: sections.into_iter().map(|(k, p)| (k, AtomicBloom::new(p))).collect() }
    }

    /// The filled sections, in the order given to [`Inserter::new`].
    pub fn into_sections(self) -> Vec<(Kind, Bloom)> {
        self.sections.into_iter().map(|(k, b)| (k, b.into_bloom())).collect()
    }
}

impl Sink for Inserter {
    /// Per kind: first every prefetch of the batch, then every insert, so that the cache
    /// misses of a batch overlap.
    fn batch(&self, _: &mut Tally, batch: &Batch) {
        for (kind, bloom) in &self.sections {
            let i = kind.index();
            for t in batch.tokens.iter().filter_map(|tokens| tokens[i]) {
                bloom.prefetch(t);
            }
            for t in batch.tokens.iter().filter_map(|tokens| tokens[i]) {
                bloom.insert(t);
            }
        }
    }
}
