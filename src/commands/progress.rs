//! Progress by bytes on stderr, only on a terminal; the closing throughput line.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::dump::Source;

/// A byte progress bar that is hidden unless stderr is a terminal and not `--quiet`.
///
/// Position, total and the closing line count the same thing: raw bytes of the inputs as
/// they are on disk (of a gzip/zstd file its compressed bytes), in decimal units (MB = 10^6
/// bytes) everywhere.
pub struct Progress {
    bar: ProgressBar,
    start: Instant,
    quiet: bool,
}

impl Progress {
    /// `total_bytes`: `None` when the length is not known in advance (stdin, a pipe): the bar
    /// then shows bytes read and the rate only.
    pub fn new(total_bytes: Option<u64>, quiet: bool, what: &str) -> Progress {
        let bar = if quiet || !std::io::stderr().is_terminal() {
            ProgressBar::hidden()
        } else {
            let bar = ProgressBar::with_draw_target(total_bytes, ProgressDrawTarget::stderr());
            let template = match total_bytes {
                Some(_) => {
                    "{prefix} [{bar:40}] {decimal_bytes}/{decimal_total_bytes} \
                     {decimal_bytes_per_sec} eta {eta}"
                }
                None => "{prefix} {spinner} {decimal_bytes} {decimal_bytes_per_sec}",
            };
            bar.set_style(
                ProgressStyle::with_template(template)
                    .expect("static template")
                    .progress_chars("=> "),
            );
            bar.set_prefix(what.to_string());
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        };
        Progress { bar, start: Instant::now(), quiet }
    }

    /// Bytes counted so far.
    pub fn position(&self) -> u64 {
        self.bar.position()
    }

    /// The callback for workers as chunks of `source` finish: a mapped input advances by each
    /// chunk's bytes; a stream is set to the raw bytes read from it so far (its chunks hold
    /// decoded bytes, which for gzip/zstd or UTF-16 are not the bytes on disk).
    pub fn tracker<'a>(&'a self, source: &'a Source) -> impl Fn(u64) + Sync + 'a {
        let before = self.position();
        let streamed = source.is_streamed();
        move |b| {
            if streamed {
                self.bar.set_position(before + source.len() as u64);
            } else {
                self.bar.inc(b);
            }
        }
    }

    /// Seconds since the start.
    pub fn elapsed(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    /// Clears the bar and prints one throughput line (unless quiet).
    pub fn finish(&self, verb: &str, bytes: u64, rows: u64) -> f64 {
        self.bar.finish_and_clear();
        let secs = self.elapsed();
        if !self.quiet {
            eprintln!(
                "leakmatch: {verb} {:.1} MB, {} rows in {secs:.2} s ({:.1} MB/s, {} rows/s)",
                bytes as f64 / 1e6,
                crate::num::thousands(rows),
                bytes as f64 / 1e6 / secs.max(1e-9),
                crate::num::count(rows as f64 / secs.max(1e-9))
            );
        }
        secs
    }
}
