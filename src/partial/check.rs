//! What a partial must satisfy before it is merged: a partial is a file anyone may have
//! written, so its counts are checked against each other (no more hits than probes, one
//! distinct sketch per kind, ...) and every sum of counts is overflow-checked. A partial that
//! fails is refused naming the file and the field, never a value.

use std::path::Path;

use super::{Partial, PartialError};
use crate::tally::{Tally, KINDS};

/// Largest partial file read: 1 GiB. A partial holds counts and sketches (a few MB for the
/// largest scans); anything bigger, `/dev/zero` or an endless FIFO is refused without being
/// held in memory.
pub const MAX_PARTIAL_LEN: u64 = 1 << 30;

/// Checks the internal consistency of a parsed partial.
pub fn check(path: &Path, p: &Partial) -> Result<(), PartialError> {
    let bad = |what: String| PartialError::Inconsistent { path: path.into(), what };
    for (i, inp) in p.inputs.iter().enumerate() {
        let t = &inp.tally;
        let at = |field: &str| format!("input {i}: {field}");
        if t.filters.len() != p.filters.len() {
            return Err(bad(at("tally.filters has another length than filters")));
        }
        if t.birth_years.len() != Tally::new(0).birth_years.len() {
            return Err(bad(at("tally.birth_years has the wrong length")));
        }
        if let Some(r) = inp.range {
            if r.start > r.end || r.end > inp.input.bytes {
                return Err(bad(at("range outside the input")));
            }
        }
        for (k, c) in t.kinds.iter().enumerate() {
            let invalid = c.invalid.iter().try_fold(0u64, |a, &b| a.checked_add(b));
            if invalid.and_then(|n| n.checked_add(c.valid)).is_none_or(|n| n > c.present) {
                return Err(bad(at(&format!("tally.kinds[{k}]: valid + invalid > present"))));
            }
        }
        for (f, ft) in t.filters.iter().enumerate() {
            let at = |field: &str| at(&format!("tally.filters[{f}].{field}"));
            if ft.distinct.len() != KINDS {
                return Err(bad(at("distinct: not one sketch per kind")));
            }
            if ft.hits.iter().zip(&ft.probed).any(|(h, p)| h > p) {
                return Err(bad(at("hits > probed")));
            }
            if ft.pair_missed.iter().zip(&ft.pair_both).any(|(m, b)| m > b) {
                return Err(bad(at("pair_missed > pair_both")));
            }
            if ft.matched_two_plus > ft.matched_any || ft.matched_any > ft.rows_probed {
                return Err(bad(at("matched_two_plus > matched_any > rows_probed")));
            }
            if ft.rows_probed > t.records {
                return Err(bad(at("rows_probed > records")));
            }
        }
        if !t.row_sample.is_well_formed() {
            return Err(bad(at("tally.row_sample: larger than its bound")));
        }
    }
    Ok(())
}

/// Every counter of a tally that merging adds, in a fixed order.
fn counters(t: &Tally) -> impl Iterator<Item = u64> + '_ {
    let kinds = t.kinds.iter().flat_map(|c| [c.present, c.valid].into_iter().chain(c.invalid));
    let filters = t.filters.iter().flat_map(|f| {
        f.hits.into_iter().chain(f.probed).chain(f.pair_both).chain(f.pair_missed).chain([
            f.matched_any,
            f.matched_two_plus,
            f.rows_probed,
        ])
    });
    [t.records, t.row_sample.rows]
        .into_iter()
        .chain(t.malformed)
        .chain(kinds)
        .chain(filters)
        .chain(t.birth_years.iter().copied())
}

/// [`Tally::merge`] after checking that no sum overflows; `None` (and `total` unchanged) if
/// one would.
pub fn checked_merge(total: &mut Tally, t: &Tally) -> Option<()> {
    let fits = total.filters.len() == t.filters.len()
        && total.birth_years.len() == t.birth_years.len()
        && counters(total).zip(counters(t)).all(|(a, b)| a.checked_add(b).is_some());
    if !fits {
        return None;
    }
    total.merge(t);
    Some(())
}
