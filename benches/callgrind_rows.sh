#!/bin/sh
# Instructions per leak row of a scan, under callgrind (repeatable whatever the load).
#
#   benches/callgrind_rows.sh [BINARY] [WORKDIR]
#
# Generates (once, in WORKDIR, default /tmp/lm-callgrind) 1M customers and a 300k-row leak
# (seed 42), builds a KVNR-only and a 4-kind filter, and runs `scan -j 1 --json` of the leak
# against each under valgrind. Prints the inclusive instructions of `scan::run_chunks`
# (reading, chunking, parsing, normalising, tokenising, probing, merging the tallies) per row,
# and the whole program's minus the input's SHA-256 (valgrind hides SHA-NI, so its SHA-256
# is the software one) per row. The reports are kept as WORKDIR/report.{f1,f4}.json.
set -eu
B=$(realpath "${1:-target/release/leakmatch}")
W=${2:-/tmp/lm-callgrind}
mkdir -p "$W" && cd "$W"
[ -f d/leak.csv ] || "$B" -q generate --out-dir d --customers 1000000 --leak 300000
[ -f k.key ] || "$B" -q keygen --out k.key
[ -f f1.lmf ] || "$B" -q build --key-file k.key --out f1.lmf --kinds kvnr d/customers.csv
[ -f f4.lmf ] || "$B" -q build --key-file k.key --out f4.lmf --kinds kvnr,email,phone,name_dob d/customers.csv
for f in f1 f4; do
  valgrind --tool=callgrind --callgrind-out-file="cg.$f" \
    "$B" -q scan -j 1 --key-file k.key --filter "$f.lmf" d/leak.csv --json > "report.$f.json" 2>/dev/null
  callgrind_annotate --inclusive=yes --threshold=100 "cg.$f" 2>/dev/null | python3 -c '
import re, sys
label, rows, total, fns = sys.argv[1], 300000, 0, {}
for line in sys.stdin:
    m = re.match(r"\s*([\d,]+) \([\s\d.]+%\)\s+(.*)$", line)
    if not m:
        continue
    n, rest = int(m.group(1).replace(",", "")), m.group(2)
    if rest.startswith("PROGRAM"):
        total = n
    elif rest.endswith("]"):
        name = re.sub(r" \(\d+x\)$", "", re.sub(r" \[.*\]$", "", rest)).split(":", 1)[-1]
        fns[name] = max(fns.get(name, 0), n)
sha = next((v for k, v in fns.items() if k.endswith("sha256_of")), 0)
run = fns.get("leakmatch::scan::run_chunks", 0)
print(f"{label}: run_chunks {run / rows:,.0f} per row; whole program minus SHA-256 {(total - sha) / rows:,.0f} per row")
' "$f"
done
