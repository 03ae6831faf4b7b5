//! Exit codes, the usage error, and how an error chain is printed as one line.
//! Which code an error chain gets is decided at the top, in [`crate::commands::exit_code`].
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success (also: stdout closed early by a pipe reader) |
//! | 1 | runtime failure (an output that cannot be written, out of memory, internal error) |
//! | 2 | usage error or unusable input (bad flag, bad key file, bad filter, bad dump; an output that is an input, a directory or a block device) |
//! | 3 | `scan --alert-above RATE`: the lower bound of the matched-row rate exceeds RATE |

use std::io;

pub const SUCCESS: u8 = 0;
pub const FAILURE: u8 = 1;
pub const USAGE: u8 = 2;
pub const ALERT: u8 = 3;

/// A usage error: exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The one line printed for an error: its cause chain joined by `: `, leaving out a cause
/// whose text the message before it already holds (`{path}: {source}` variants), so that no
/// operating-system text is printed twice.
pub fn render(err: &anyhow::Error) -> String {
    let mut line = String::new();
    let mut last = String::new();
    for e in err.chain() {
        let text = e.to_string();
        if text.is_empty() || last.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
        last = text;
    }
    line.replace('\n', " ")
}

/// Whether the error is a closed pipe on stdout (`leakmatch scan ... | head`): not a failure.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain()
        .filter_map(|e| e.downcast_ref::<io::Error>())
        .any(|e| e.kind() == io::ErrorKind::BrokenPipe)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::KeyError;

    #[test]
    fn operating_system_text_is_printed_once() {
        let os = io::Error::from_raw_os_error(2);
        let err = anyhow::Error::new(KeyError::Io { path: "/k".into(), source: os })
            .context("loading the key");
        let line = render(&err);
        assert_eq!(line.matches("os error 2").count(), 1, "{line}");
        assert!(line.starts_with("loading the key: /k: "), "{line}");
        let plain = anyhow::Error::new(io::Error::from_raw_os_error(2)).context("writing x");
        assert_eq!(render(&plain).matches("os error 2").count(), 1);
    }
}
