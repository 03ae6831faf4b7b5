//! Progress by bytes on stderr, only on a terminal; the closing throughput line.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A byte progress bar that is hidden unless stderr is a terminal and not `--quiet`.
pub struct Progress {
    bar: ProgressBar,
    start: Instant,
    quiet: bool,
}

impl Progress {
    pub fn new(total_bytes: u64, quiet: bool, what: &str) -> Progress {
        let bar = if quiet || !std::io::stderr().is_terminal() {
            ProgressBar::hidden()
        } else {
            let bar =
                ProgressBar::with_draw_target(Some(total_bytes), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
                )
                .expect("static template")
                .progress_chars("=> "),
            );
            bar.set_prefix(what.to_string());
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        };
        Progress { bar, start: Instant::now(), quiet }
    }

    /// Called by workers as chunks finish.
    pub fn inc(&self, bytes: u64) {
        self.bar.inc(bytes);
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
                "leakmatch: {verb} {:.1} MB, {} rows in {secs:.2} s ({:.1} MB/s, {:.0} rows/s)",
                bytes as f64 / 1e6,
                crate::report::text::thousands(rows),
                bytes as f64 / 1e6 / secs.max(1e-9),
                rows as f64 / secs.max(1e-9)
            );
        }
        secs
    }
}
