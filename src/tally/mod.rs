//! Mergeable counters: what workers return and what the report is computed from.
//!
//! Every field is a sum, a maximum or a set union, so tallies of chunks, files or shards merge
//! associatively and commutatively: the result of a scan does not depend on how the work was
//! cut. Nothing here holds a value from the input: counts, positions and tokens' sketches only.

// Reviewed (#11): fixed `[_; KINDS]`/`[_; MALFORMED]` arrays indexed by enum indices or loops over
// those counts; `distinct` has KINDS sketches (built so, and checked when a partial is read).
#![allow(clippy::indexing_slicing)]

mod desc;
mod rows;

pub use desc::{ByteRange, ColumnUse, Coverage, FilterDesc, InputReport, SectionDesc};
pub use rows::merge_matches;

use serde::{Deserialize, Serialize};

use crate::dump::Malformed;
use crate::ident::{Flaw, Kind, Outcome};

/// Number of kinds (dense index by [`Kind::index`]).
pub const KINDS: usize = Kind::ALL.len();

/// Validity counts of one kind's values.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindCounts {
    /// Rows where the kind's fields were non-empty.
    pub present: u64,
    /// Values that normalised to a valid identifier.
    pub valid: u64,
    /// Invalid values by [`Flaw::index`].
    pub invalid: [u64; Flaw::ALL.len()],
}

impl KindCounts {
    /// Counts one outcome.
    #[inline]
    pub fn add(&mut self, o: Outcome) {
        match o {
            Outcome::Empty => {}
            Outcome::Valid => {
                self.present += 1;
                self.valid += 1;
            }
            Outcome::Invalid(f) => {
                self.present += 1;
                self.invalid[f.index()] += 1;
            }
        }
    }

    /// Adds another tally's counts.
    pub fn merge(&mut self, o: &KindCounts) {
        self.present += o.present;
        self.valid += o.valid;
        for (a, b) in self.invalid.iter_mut().zip(o.invalid) {
            *a += b;
        }
    }

    /// Invalid values of all flaws.
    pub fn invalid_total(&self) -> u64 {
        self.invalid.iter().sum()
    }
}

/// Hits of one filter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FilterTally {
    /// Hits per kind, by [`Kind::index`].
    pub hits: [u64; KINDS],
    /// Valid values probed per kind (a kind the filter lacks is not probed).
    pub probed: [u64; KINDS],
    /// Rows with at least one hit.
    pub matched_any: u64,
    /// Rows with hits of two or more independent kinds (exact `kvnr`, `email`, `phone`,
    /// `name_dob`, `iban`): false positive ≈ p², the "strong matches".
    pub matched_two_plus: u64,
    /// Rows with at least one valid probed value (the denominator of the matched-row rate).
    pub rows_probed: u64,
    /// Distinct matching tokens per kind.
    pub distinct: Vec<crate::sketch::Distinct>,
    /// Per pair kind (by [`Kind::index`]): rows where both parts hit and the pair was probed.
    #[serde(default)]
    pub pair_both: [u64; KINDS],
    /// Per pair kind: of [`FilterTally::pair_both`], rows where the pair missed (recombined).
    #[serde(default)]
    pub pair_missed: [u64; KINDS],
    /// Matched rows (a hit of any kind) with a non-empty value of each GDPR category, by
    /// index in `crate::dump::categories::CATEGORIES`.
    #[serde(default)]
    pub category_rows: [u64; CATEGORIES],
}

/// Number of GDPR data categories (`crate::dump::categories::CATEGORIES`).
pub const CATEGORIES: usize = crate::dump::categories::CATEGORIES.len();

impl FilterTally {
    /// An empty tally.
    pub fn new() -> FilterTally {
        FilterTally {
            hits: [0; KINDS],
            probed: [0; KINDS],
            matched_any: 0,
            matched_two_plus: 0,
            rows_probed: 0,
            distinct: (0..KINDS).map(|_| crate::sketch::Distinct::new()).collect(),
            pair_both: [0; KINDS],
            pair_missed: [0; KINDS],
            category_rows: [0; CATEGORIES],
        }
    }

    /// Counts one matched row's categories (bit `c` of `mask`: category `c` present).
    #[inline]
    pub fn count_categories(&mut self, mask: u8) {
        let mut m = mask;
        while m != 0 {
            let c = m.trailing_zeros() as usize;
            if let Some(n) = self.category_rows.get_mut(c) {
                *n += 1;
            }
            m &= m - 1;
        }
    }

    /// Adds another tally's counts and merges its distinct sets.
    pub fn merge(&mut self, o: &FilterTally) {
        for i in 0..KINDS {
            self.hits[i] += o.hits[i];
            self.probed[i] += o.probed[i];
            self.distinct[i].merge(&o.distinct[i]);
            self.pair_both[i] += o.pair_both[i];
            self.pair_missed[i] += o.pair_missed[i];
        }
        for (a, b) in self.category_rows.iter_mut().zip(o.category_rows) {
            *a += b;
        }
        self.matched_any += o.matched_any;
        self.matched_two_plus += o.matched_two_plus;
        self.rows_probed += o.rows_probed;
    }
}

impl Default for FilterTally {
    fn default() -> Self {
        FilterTally::new()
    }
}

/// A position in an input: 1-based record and line, 0-based byte offset.
///
/// While a chunk is read, `record` and `line` are relative to the chunk numbered `chunk`;
/// [`Tally::absolute_positions`] makes them file-wide once every chunk's counts are known.
/// Positions order by byte offset, which is file-wide from the start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pos {
    /// Record number: 1-based once file-wide, chunk-relative while the chunk is read.
    pub record: u64,
    /// Line number: 1-based once file-wide, chunk-relative while the chunk is read.
    pub line: u64,
    /// 0-based byte offset from the start of the input (always file-wide).
    pub byte: u64,
    /// The chunk `record` and `line` are relative to (not serialised; 0 once file-wide).
    #[serde(skip)]
    pub chunk: usize,
}

impl PartialOrd for Pos {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Pos {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.byte.cmp(&other.byte)
    }
}

/// Per-chunk counts, to turn chunk-relative positions into file-wide ones.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChunkCounts {
    /// Records in the chunk.
    pub records: u64,
    /// Lines in the chunk.
    pub lines: u64,
}

/// Everything one scan (of a chunk, a file, all files) counted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tally {
    /// Records read (header excluded, blank lines excluded).
    pub records: u64,
    /// Malformed records by [`Malformed`] (as index), with the first position seen.
    pub malformed: [u64; Malformed::ALL.len()],
    /// The first position of each reason (earliest by byte offset); `None` when it did not occur.
    pub first_malformed: [Option<Pos>; Malformed::ALL.len()],
    /// Validity per kind, by [`Kind::index`].
    pub kinds: [KindCounts; KINDS],
    /// One per filter, in the order filters were given.
    pub filters: Vec<FilterTally>,
    /// Valid birth years of the dump's rows (index = year − 1900).
    pub birth_years: Vec<u64>,
    /// Sample of rows' combined token sets, for the duplicate count ([`RowSample`]).
    #[serde(default)]
    pub row_sample: RowSample,
    /// Matching records' positions and what hit, sorted by (byte, filter); only collected for
    /// `--emit-matches` (see [`crate::scan::Prober::collect_matches`]).
    #[serde(default)]
    pub matches: Vec<MatchHit>,
}

pub use rows::{MatchHit, RowBound, RowSample, ROW_SAMPLE};

impl Tally {
    /// An empty tally for `filters` filters.
    pub fn new(filters: usize) -> Tally {
        Tally {
            records: 0,
            malformed: [0; Malformed::ALL.len()],
            first_malformed: [None; Malformed::ALL.len()],
            kinds: Default::default(),
            filters: (0..filters).map(|_| FilterTally::new()).collect(),
            birth_years: vec![0; 200],
            row_sample: RowSample::default(),
            matches: Vec::new(),
        }
    }

    /// Counts a malformed record at `pos`.
    pub fn malformed_at(&mut self, why: Malformed, pos: Pos) {
        let i = why as usize;
        self.malformed[i] += 1;
        if self.first_malformed[i].is_none_or(|p| pos < p) {
            self.first_malformed[i] = Some(pos);
        }
    }

    /// Total malformed records.
    pub fn malformed_total(&self) -> u64 {
        self.malformed.iter().sum()
    }

    /// Makes chunk-relative positions file-wide (1-based record and line). `chunks[i]` are the
    /// counts of chunk `i`; `lines_before_body` the lines of the header.
    pub fn absolute_positions(&mut self, chunks: &[ChunkCounts], lines_before_body: u64) {
        for p in self.first_malformed.iter_mut().flatten() {
            let before = &chunks[..p.chunk.min(chunks.len())];
            p.record += before.iter().map(|c| c.records).sum::<u64>() + 1;
            p.line += lines_before_body + before.iter().map(|c| c.lines).sum::<u64>() + 1;
            p.chunk = 0;
        }
        rows::absolute_match_positions(&mut self.matches, chunks, lines_before_body);
    }

    /// Merges `o` into `self`. Associative and commutative.
    pub fn merge(&mut self, o: &Tally) {
        self.records += o.records;
        for i in 0..Malformed::ALL.len() {
            self.malformed[i] += o.malformed[i];
            self.first_malformed[i] = match (self.first_malformed[i], o.first_malformed[i]) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        for (a, b) in self.kinds.iter_mut().zip(&o.kinds) {
            a.merge(b);
        }
        for (a, b) in self.filters.iter_mut().zip(&o.filters) {
            a.merge(b);
        }
        for (a, b) in self.birth_years.iter_mut().zip(&o.birth_years) {
            *a += b;
        }
        self.row_sample.merge(&o.row_sample);
        rows::merge_matches(&mut self.matches, &o.matches);
    }
}
