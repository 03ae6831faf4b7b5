#!/usr/bin/env python3
"""The DuckDB side of `leakmatch bench --against-duckdb`: the same jobs in plain SQL.

    duckdb_jobs.py store DB CUSTOMERS.csv        customers normalised and stored once
    duckdb_jobs.py kvnr  DB LEAK.csv             leak rows whose KVNR is a stored customer's
    duckdb_jobs.py four  DB LEAK.csv             the same per kind: kvnr, email, phone, name+dob

Prints one JSON object: the job's wall and CPU seconds (the SQL only, without interpreter
start and import), the matches per kind, and this process's peak RSS in bytes. The normalisation is
the one a DuckDB user would write (trim, case, digits of the phone with 0 -> 49, both date
forms); it is close to leakmatch's but not identical, so the counts are shown, not compared.
Uses `duckdb` from PyPI (`leakmatch bench --against-duckdb` installs it into a venv).
"""

import json
import resource
import sys
import time

import duckdb

THREADS = None  # DuckDB's default: all cores.


def phone(col):
    digits = f"regexp_replace({col}, '[^0-9]', '', 'g')"
    return (
        f"CASE WHEN {digits} LIKE '00%' THEN substr({digits}, 3) "
        f"WHEN {digits} LIKE '0%' THEN '49' || substr({digits}, 2) ELSE {digits} END"
    )


def dob(col):
    return (
        f"coalesce(try_strptime({col}, '%Y-%m-%d'), try_strptime({col}, '%d.%m.%Y'))::DATE"
    )


def name(col):
    return f"lower(trim({col}))"


def read(path):
    # Every column as text, header names as given; the delimiter is sniffed.
    return f"read_csv('{path}', all_varchar = true, header = true)"


def store(con, path):
    con.execute("DROP TABLE IF EXISTS customers")
    con.execute(
        f"""CREATE TABLE customers AS SELECT
            upper(trim(kvnr)) AS kvnr,
            lower(trim(email)) AS email,
            {phone('phone')} AS phone,
            {name('last_name')} || '|' || {name('first_name')} || '|' || {dob('birth_date')} AS name_dob
        FROM {read(path)}"""
    )
    return {"rows": con.execute("SELECT count(*) FROM customers").fetchone()[0]}


LEAK_COLUMNS = {
    "kvnr": "upper(trim(Versichertennummer))",
    "email": 'lower(trim("E-Mail"))',
    "phone": phone("Telefon"),
    "name_dob": f"{name('Nachname')} || '|' || {name('Vorname')} || '|' || {dob('Geburtsdatum')}",
}


def matches(con, path, kinds):
    con.execute(
        f"CREATE TEMP TABLE leak AS SELECT "
        + ", ".join(f"{LEAK_COLUMNS[k]} AS {k}" for k in kinds)
        + f" FROM {read(path)}"
    )
    out = {}
    for k in kinds:
        out[k] = con.execute(
            f"SELECT count(*) FROM leak WHERE {k} IN (SELECT {k} FROM customers)"
        ).fetchone()[0]
    return out


def main():
    job, db, path = sys.argv[1:4]
    con = duckdb.connect(db)
    t = time.perf_counter()
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    if job == "store":
        result = store(con, path)
    elif job == "kvnr":
        result = matches(con, path, ["kvnr"])
    elif job == "four":
        result = matches(con, path, ["kvnr", "email", "phone", "name_dob"])
    else:
        sys.exit(f"unknown job {job}")
    seconds = time.perf_counter() - t
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
    con.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    out = {"seconds": seconds, "cpu_seconds": cpu, "matches": result, "peak_rss_bytes": peak}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
