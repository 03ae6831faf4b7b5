#!/bin/sh
# Seeds the corpora of the structure-prefixed targets from samples/ (the corpus folder is not
# committed): each seed is a sample with the target's prefix bytes in front. Files already
# there are kept. Usage: fuzz/seeds.sh
set -eu
cd "$(dirname "$0")"
s=../samples
seed() { # target prefix-as-printf-escapes file...
    t=$1; p=$2; shift 2
    mkdir -p "corpus/$t"
    for f in "$@"; do
        out="corpus/$t/seed-$(basename "$f")"
        [ -e "$out" ] || { printf "$p"; head -c 60000 "$f"; } > "$out"
    done
}
# decode: mode, block, step, cut; modes 0 plain .. 6 UTF-16 BE, 7 raw.
for m in 0 1 2 3 4 5 6; do
    seed decode "\\00$m\\007\\003\\100" $s/leak.tsv
    mkdir -p corpus/decode; mv corpus/decode/seed-leak.tsv "corpus/decode/seed-$m-leak.tsv"
done
seed decode '\007\007\003\100' $s/leak.tsv.zst $s/leak_semicolon_utf8.csv.gz
seed sniff '\000' $s/*.csv $s/*.tsv $s/*.jsonl $s/*.sql $s/combo.txt
seed sniff '\011' $s/leak_headerless.csv
mv corpus/sniff/seed-leak_headerless.csv corpus/sniff/seed-map-leak_headerless.csv 2>/dev/null || true
printf '\011kvnr=1,email=2' > corpus/sniff/seed-map-only
seed range '\003\011\000\005\100\000\000\002\000\010' $s/leak.tsv $s/leak_semicolon_utf8.csv $s/leak_headerless.csv $s/leak_nested.jsonl $s/mysql_insert.sql $s/postgres_copy.sql $s/combo.txt
seed normalise '' /dev/null
for v in 'A123456780' ' a123 456 780' 'anna.schmidt@example.de' 'Name <A@B.DE>' '+49 (0)171 1234567' \
         '0171/1234567' 'DE89 3704 0044 0532 0130 00' '15.03.1961' '1961-03-15' 'Groß, Jörg' \
         "A123456780\tx@y.de\t0171 123\tMüller\tJürgen\t\t01.02.1970\tDE89370400440532013000"; do
    printf '%s' "$v" > "corpus/normalise/seed-$(printf '%s' "$v" | cksum | cut -d' ' -f1)"
done
rm -f corpus/normalise/seed-null
mkdir -p corpus/keyfile
printf '0707070707070707070707070707070707070707070707070707070707070707\n' > corpus/keyfile/seed-key
for f in seeds/partial/*; do [ -e "$f" ] && seed partial "" "$f"; done
