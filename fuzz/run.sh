#!/bin/sh
# Runs every fuzz target for SECONDS each (default 600), one after the other, at low priority.
# Stable Rust only: RUSTC_BOOTSTRAP lets cargo-fuzz pass its nightly flags; no sanitizer.
# Usage: fuzz/run.sh [SECONDS] [TARGET...]
set -eu
cd "$(dirname "$0")"
secs=${1:-600}
[ $# -gt 0 ] && shift
targets=${*:-csv jsonl combo sql filter}
for t in $targets; do
    echo "== $t: ${secs}s"
    RUSTC_BOOTSTRAP=1 nice -n 19 cargo fuzz run --sanitizer none "$t" -- \
        -max_total_time="$secs" -rss_limit_mb=4096 -max_len=65536 2>&1 | tail -n 12
done
