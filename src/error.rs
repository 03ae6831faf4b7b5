//! Exit codes and the mapping from errors to them (DESIGN §8).
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success (also: stdout closed early by a pipe reader) |
//! | 1 | runtime failure (I/O error while writing, out of memory, internal error) |
//! | 2 | usage error or unusable input (bad flag, bad key file, bad filter, bad dump) |
//! | 3 | `scan --alert-above RATE`: the lower bound of the matched-row rate exceeds RATE |

use std::io;

use crate::config::UsageError;
use crate::dump::DumpError;
use crate::filter::FilterError;
use crate::token::KeyError;

pub const SUCCESS: u8 = 0;
pub const FAILURE: u8 = 1;
pub const USAGE: u8 = 2;
pub const ALERT: u8 = 3;

/// The exit code for an error: 2 when any error in its chain is a usage error or names an
/// unusable input, 1 otherwise.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    let unusable = err.chain().any(|e| {
        e.is::<UsageError>()
            || e.is::<KeyError>()
            || e.is::<FilterError>()
            || e.is::<DumpError>()
            || e.downcast_ref::<crate::oprf::client::ClientError>().is_some_and(|c| c.unusable())
            || e.downcast_ref::<crate::oprf::server::ServerError>()
                .is_some_and(|s| matches!(s, crate::oprf::server::ServerError::Clients { .. }))
    });
    if unusable {
        USAGE
    } else {
        FAILURE
    }
}

/// Whether the error is a closed pipe on stdout (`leakmatch scan ... | head`): not a failure.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain()
        .filter_map(|e| e.downcast_ref::<io::Error>())
        .any(|e| e.kind() == io::ErrorKind::BrokenPipe)
}
