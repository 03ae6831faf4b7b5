#!/usr/bin/env python3
"""Regenerates the samples from a synthetic leak (`leakmatch generate`, never real data).

    leakmatch generate --out-dir /tmp/gen --customers 300 --leak 40 --seed 11
    cp /tmp/gen/customers.csv samples/ && python3 samples/make.py /tmp/gen

Writes one file per format and dialect and its NAME.truth.json sidecar: records and malformed
as written, hits per kind from the generator's truth.json (the true overlap; the filter's
false-positive rate of 1e-6 makes a false hit on 40 rows unlikely), valid per kind from a scan
of the generator's own leak.csv (given as --valid JSON, see below). Kinds a format does not
carry are left out.
"""
import csv, gzip, io, json, random, sys

gen = sys.argv[1]
valid_all = json.loads(sys.argv[2])  # {"kvnr": n, ...} from scanning leak.csv
truth = json.load(open(f"{gen}/truth.json"))
rows = list(csv.reader(open(f"{gen}/leak.csv", encoding="utf-8"), delimiter=";"))
header, body = rows[0], rows[1:]
KINDS = ["kvnr", "email", "phone", "name_dob"]
rng = random.Random(7)


def sidecar(name, kinds, records=len(body), malformed=0):
    t = {"records": records, "malformed": malformed,
         "valid": {k: valid_all[k] for k in kinds},
         "hits": {k: truth["matches"][k] for k in kinds}}
    json.dump(t, open(f"{name}.truth.json", "w"), indent=2, sort_keys=True)
    open(f"{name}.truth.json", "a").write("\n")


def text_csv(delim, head=True):
    out = io.StringIO()
    w = csv.writer(out, delimiter=delim, lineterminator="\r\n" if delim == "," else "\n")
    if head:
        w.writerow(header)
    w.writerows(body)
    return out.getvalue()


open("leak_semicolon_utf8.csv", "w", encoding="utf-8", newline="").write(text_csv(";"))
sidecar("leak_semicolon_utf8.csv", KINDS)
def cp1252_safe(text):
    """Letters Windows-1252 lacks (ł, ő, ...) as their base letter, as the name folding does."""
    import unicodedata
    out = []
    for ch in text:
        try:
            ch.encode("cp1252")
            out.append(ch)
        except UnicodeEncodeError:
            base = {"ł": "l", "Ł": "L", "đ": "d", "Đ": "D"}.get(ch)
            out.append(base or unicodedata.normalize("NFKD", ch)[0])
    return "".join(out)


open("leak_comma_cp1252.csv", "w", encoding="cp1252", newline="").write(cp1252_safe(text_csv(",")))
sidecar("leak_comma_cp1252.csv", KINDS)
open("leak.tsv", "w", encoding="utf-8", newline="").write(text_csv("\t"))
sidecar("leak.tsv", KINDS)
# Headerless: names are not sniffed (any text is a name), so name_dob is not carried.
open("leak_headerless.csv", "w", encoding="utf-8", newline="").write(text_csv(";", head=False))
sidecar("leak_headerless.csv", ["kvnr", "email", "phone"])
with open("leak_nested.jsonl", "w", encoding="utf-8") as f:
    for r in body:
        d = dict(zip(header, r))
        f.write(json.dumps({"id": rng.randrange(10**6), "versichertennummer": d["Versichertennummer"],
                            "person": {"nachname": d["Nachname"], "vorname": d["Vorname"],
                                       "geburtsdatum": d["Geburtsdatum"]},
                            "contact": {"mail": d["E-Mail"], "telefon": d["Telefon"]}},
                           ensure_ascii=False) + "\n")
sidecar("leak_nested.jsonl", KINDS)
with open("combo.txt", "w", encoding="utf-8") as f:
    with_mail = [r for r in body if r[4]]
    for i, r in enumerate(with_mail):
        pw = "".join(rng.choice("abcdefXYZ0123456789:;|!") for _ in range(10))
        f.write(f"{r[4]}{':;|'[i % 3]}{pw}\n")
sidecar("combo.txt", ["email"], records=len(with_mail))


def sql_str(v):
    return "NULL" if v == "" else "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'"


with open("mysql_insert.sql", "w", encoding="utf-8") as f:
    f.write("-- MySQL dump 10.13  Distrib 8.0.36\n/*!40101 SET NAMES utf8mb4 */;\n")
    f.write("CREATE TABLE `versicherte` (\n  `id` int NOT NULL,\n" +
            "".join(f"  `{c}` varchar(100) DEFAULT NULL,\n" for c in header) + "  PRIMARY KEY (`id`)\n);\n")
    for start in range(0, len(body), 15):
        tuples = ",".join("(" + ",".join([str(start + i)] + [sql_str(v) for v in r]) + ")"
                          for i, r in enumerate(body[start:start + 15]))
        f.write(f"INSERT INTO `versicherte` VALUES {tuples};\n")
sidecar("mysql_insert.sql", KINDS)
with open("postgres_copy.sql", "w", encoding="utf-8") as f:
    f.write("--\n-- PostgreSQL database dump\n--\nSET client_encoding = 'UTF8';\n\n")
    f.write("COPY public.kunden (id, " + ", ".join(f'"{c}"' for c in header) + ") FROM stdin;\n")
    for i, r in enumerate(body):
        f.write("\t".join([str(i)] + [v if v else "\\N" for v in r]) + "\n")
    f.write("\\.\n")
sidecar("postgres_copy.sql", KINDS)
plain = open("leak_semicolon_utf8.csv", "rb").read()
open("leak_semicolon_utf8.csv.gz", "wb").write(gzip.compress(plain, mtime=0))
sidecar("leak_semicolon_utf8.csv.gz", KINDS)
# leak.tsv.zst: `zstd leak.tsv -o leak.tsv.zst`, sidecar copied from leak.tsv.truth.json.
# leak.tsv.zst: `zstd leak.tsv -o leak.tsv.zst`; its sidecar is a copy of leak.tsv.truth.json.
