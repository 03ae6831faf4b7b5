//! The `--html` report. Placeholder replaced below.
