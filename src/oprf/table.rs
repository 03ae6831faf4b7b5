//! Where a build's or scan's OPRF tokens come from: evaluated locally with the OPRF key (the
//! data owner), or through the key service in two passes over each input (anyone else).
//!
//! The two passes: the first reads the input with a [`Collector`] as token source and keeps
//! each distinct normalised value once (in memory, in this process only); the values are then
//! evaluated by the key service in blinded batches ([`super::client`]); the second pass is the
//! ordinary build or scan with the resulting [`TokenTable`] as token source. Repeated values
//! are evaluated once, so the budget counts distinct values. Both passes read the same bytes
//! (the input is opened twice, so stdin and pipes cannot be used); a value the first pass did
//! not see is counted ([`TokenTable::missing`]) and turned into an error.

// Reviewed (#11): the shard index is `% SHARDS`.
#![allow(clippy::indexing_slicing)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::OprfKey;
use crate::ident::Kind;
use crate::token::{Key, Token, Tokenizer};

/// OPRF tokens for the scan pipeline ([`crate::scan::TokenSource::Oprf`]).
pub enum OprfTokens {
    /// Evaluated locally with the OPRF key (the data owner's build or scan).
    Local(OprfKey),
    /// First pass: record each distinct value, return a placeholder token.
    Collect(Collector),
    /// Second pass: look the values up.
    Table(TokenTable),
}

impl OprfTokens {
    /// The token of a normalised value of `kind`.
    pub fn token(&self, kind: Kind, value: &[u8]) -> Token {
        match self {
            OprfTokens::Local(k) => k.evaluate(kind, value),
            OprfTokens::Collect(c) => {
                c.add(kind, value);
                0
            }
            OprfTokens::Table(t) => t.get(kind, value),
        }
    }
}

const SHARDS: usize = 64;

/// One collected value: its local hash, kind and normalised bytes.
pub type Value = (u128, Kind, Box<[u8]>);
type Shard = Mutex<HashMap<u128, (Kind, Box<[u8]>)>>;

/// The distinct values of a first pass, keyed by a local SipHash-2-4-128 under a random key
/// (collision-resistant against a dump crafted to collide: the key is never known outside).
pub struct Collector {
    local: Tokenizer,
    shards: Vec<Shard>,
}

impl Collector {
    /// An empty collector with a fresh random local key.
    pub fn new() -> std::io::Result<Collector> {
        Ok(Collector {
            local: Key::generate()?.tokenizer(),
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        })
    }

    fn add(&self, kind: Kind, value: &[u8]) {
        let h = self.local.token(kind, value);
        let mut shard = self.shards[(h as usize) % SHARDS].lock().expect("no panics under lock");
        shard.entry(h).or_insert_with(|| (kind, value.into()));
    }

    /// Distinct values collected.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().expect("unpoisoned").len()).sum()
    }

    /// True when nothing was collected.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values (local hash, kind, value) in a deterministic order, and the local hasher.
    pub fn into_values(self) -> (Tokenizer, Vec<Value>) {
        let mut all: Vec<_> = self
            .shards
            .into_iter()
            .flat_map(|s| s.into_inner().expect("unpoisoned"))
            .map(|(h, (k, v))| (h, k, v))
            .collect();
        all.sort_unstable_by_key(|e| e.0);
        (self.local, all)
    }
}

/// The tokens of the values a first pass collected.
pub struct TokenTable {
    local: Tokenizer,
    tokens: HashMap<u128, Token>,
    missing: AtomicU64,
}

impl TokenTable {
    /// A table from the collector's hasher and `(local hash, token)` pairs.
    pub fn new(local: Tokenizer, tokens: impl IntoIterator<Item = (u128, Token)>) -> TokenTable {
        TokenTable { local, tokens: tokens.into_iter().collect(), missing: AtomicU64::new(0) }
    }

    fn get(&self, kind: Kind, value: &[u8]) -> Token {
        match self.tokens.get(&self.local.token(kind, value)) {
            Some(t) => *t,
            None => {
                self.missing.fetch_add(1, Ordering::Relaxed);
                0
            }
        }
    }

    /// Values looked up that the first pass had not collected (the input changed between
    /// the passes).
    pub fn missing(&self) -> u64 {
        self.missing.load(Ordering::Relaxed)
    }
}

/// Shared handle, as the pipeline holds it.
pub type Shared = Arc<OprfTokens>;
