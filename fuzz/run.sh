#!/bin/sh
# Runs every fuzz target for SECONDS each (default 600), one after the other, at low priority
# (nice 19, or $NICE).
# Stable Rust only: RUSTC_BOOTSTRAP lets cargo-fuzz pass its nightly flags; no sanitizer.
# The whole libFuzzer output of each run goes to fuzz/logs/TARGET.log; the last status line and
# any finding are printed. Usage: fuzz/run.sh [SECONDS] [TARGET...]
set -eu
cd "$(dirname "$0")"
secs=${1:-600}
[ $# -gt 0 ] && shift
targets=${*:-csv jsonl combo sql filter filter_struct decode sniff range partial keyfile normalise}
for t in $targets; do
    echo "== $t: ${secs}s"
    mkdir -p logs
    rc=0
    RUSTC_BOOTSTRAP=1 nice -n "${NICE:-19}" cargo fuzz run --sanitizer none "$t" -- \
        -max_total_time="$secs" -rss_limit_mb=4096 -max_len=65536 >"logs/$t.log" 2>&1 || rc=$?
    grep -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE)' "logs/$t.log" | tail -n 1
    grep -E 'panicked|^SUMMARY|Test unit written|^==[0-9]+== ERROR' "logs/$t.log" || true
    echo "exit $rc"
done
