//! CLI tests: one binary, a small work-dir helper (xsv's `Workdir`, fd's `TestEnv`).

mod workdir;

mod build_inspect;
mod compare;
mod forensics;
mod keygen;
mod scan;
mod shards;
mod spark;
