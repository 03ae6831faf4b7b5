//! CLI tests: one binary, a small work-dir helper (xsv's `Workdir`, fd's `TestEnv`).

mod workdir;

mod bad_input;
mod build_inspect;
mod compare;
mod forensics;
mod formats;
mod hostile;
mod key_server;
mod keygen;
mod layers;
mod normalise;
mod samples;
mod scan;
mod shards;
mod spark;
mod ui;
