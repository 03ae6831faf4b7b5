//! CLI tests: one binary, a small work-dir helper (xsv's `Workdir`, fd's `TestEnv`).

mod workdir;

mod build_inspect;
mod forensics;
mod keygen;
mod scan;
