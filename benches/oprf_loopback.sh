#!/usr/bin/env bash
# Whole-scan cost of OPRF tokens: a 330,000-row leak x 4 kinds scanned with the keyed PRF
# (local key), with the OPRF evaluated locally (data owner), and through `leakmatch
# key-server` over loopback (client and server on this machine, sharing its cores).
# Usage: benches/oprf_loopback.sh [CUSTOMERS] [LEAK]   (release build in target/release)
set -euo pipefail
customers=${1:-250000}
leak=${2:-330000}
bin=${LEAKMATCH_BIN:-$(dirname "$0")/../target/release/leakmatch}
bin=$(realpath "$bin")
dir=$(mktemp -d)
trap 'kill "${server:-}" 2>/dev/null || true; rm -rf "$dir"' EXIT
cd "$dir"
"$bin" generate --out-dir g --customers "$customers" --leak "$leak" --seed 42 >/dev/null 2>&1
"$bin" keygen --out k
kinds=kvnr,email,phone,name_dob
t() { local s=$(date +%s.%N); "$@" >/dev/null; echo "$(echo "$(date +%s.%N) - $s" | bc)"; }
echo "build keyed:        $(t "$bin" build --quiet --key-file k --kinds $kinds --out keyed.lmf g/customers.csv) s"
echo "build OPRF (local): $(t "$bin" build --quiet --oprf --key-file k --kinds $kinds --out oprf.lmf g/customers.csv) s"
echo "scan keyed:         $(t "$bin" scan --quiet --json --key-file k --filter keyed.lmf g/leak.csv) s"
echo "scan OPRF (local):  $(t "$bin" scan --quiet --json --key-file k --filter oprf.lmf g/leak.csv) s"
token=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
echo "bench $token" > clients; chmod 600 clients
echo "$token" > token; chmod 600 token
"$bin" key-server --key-file k --clients clients --listen 127.0.0.1:0 --budget 100000000 \
  --audit-log audit.jsonl 2> server.log &
server=$!
for _ in $(seq 50); do grep -q listening server.log && break; sleep 0.1; done
url=$(grep -o 'http://127.0.0.1:[0-9]*' server.log)
s=$(date +%s.%N)
"$bin" scan --json --key-server "$url" --key-server-token-file token --filter oprf.lmf g/leak.csv > remote.json
echo "scan OPRF (service over loopback): $(echo "$(date +%s.%N) - $s" | bc) s"
"$bin" scan --quiet --json --key-file k --filter oprf.lmf g/leak.csv > local.json
python3 -c 'import json; r, l = (json.load(open(f))["filters"][0]["matched_any"] for f in ("remote.json", "local.json")); print("matched_any: service", r, "local", l); assert r == l'
echo "evaluations logged: $(python3 -c 'import json; print(sum(json.loads(l)["evaluated"] for l in open("audit.jsonl")))')"
