//! CLI tests: one binary, a small work-dir helper (xsv's `Workdir`, fd's `TestEnv`).

mod workdir;

mod build_inspect;
mod keygen;
mod scan;
mod compare;
mod shards;
mod spark;
