#!/usr/bin/env python3
"""Scan dumps against leakmatch filters on Apache Spark and merge the shards exactly.

The driver splits each dump into byte ranges (`leakmatch plan`), makes an RDD of shard
descriptors -- shard id, dump path, start, end; never a record -- and pipes every descriptor
(`RDD.pipe`) into `leakmatch scan --range START..END --shard-id ID --partial -`, which prints the
shard's partial result as one JSON line. The driver collects the partials, writes them to a
private temporary folder and runs `leakmatch merge`: the report equals one scan over all dumps.

The dumps, the filters, the key file and the leakmatch binary must be readable at the same paths
on every executor (shared storage or local mode). The key is passed by path only (`--key-file`,
read-only, mode 0600); no record and no value goes through Spark, only ranges and partials
(counts and keyed tokens' sketches). A failing shard (e.g. a damaged filter) fails the job and
the driver exits with leakmatch's own exit code (2: unusable input). A retried task reuses its
shard id, so `merge` counts it once.

    python3 leakmatch_spark.py --leakmatch /usr/local/bin/leakmatch --key-file insurer.key \\
        --filter customers.lmf --shards 64 [--json] [--master local[2]] dump1.csv [dump2.csv ...]
"""

import argparse
import os
import re
import shlex
import subprocess
import sys
import tempfile


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--leakmatch", default="leakmatch", help="path of the leakmatch binary")
    p.add_argument("--key-file", required=True, help="key file (read-only, mode 0600)")
    p.add_argument("--filter", action="append", required=True, help="filter file (repeatable)")
    p.add_argument("--shards", type=int, default=8, help="shards per dump")
    p.add_argument("--master", default="local[2]", help="Spark master URL")
    p.add_argument("--json", action="store_true", help="print the JSON report")
    p.add_argument("dumps", nargs="+")
    return p.parse_args(argv)


def absolute(path):
    return os.path.abspath(path)


def plan(leakmatch, dump, shards):
    """The byte ranges of one dump, from `leakmatch plan` (any cut is exact)."""
    out = subprocess.run(
        [leakmatch, "plan", "--shards", str(shards), dump],
        check=True, capture_output=True, text=True,
    ).stdout
    return [tuple(int(x) for x in line.split("..")) for line in out.split()]


def shard_command(args):
    """The shell loop each partition runs: one `leakmatch scan` per descriptor line."""
    fixed = [absolute(args.leakmatch), "scan", "--quiet", "--key-file", absolute(args.key_file)]
    for f in args.filter:
        fixed += ["--filter", absolute(f)]
    script = (
        'while IFS="\t" read -r id path start end; do '
        + " ".join(shlex.quote(x) for x in fixed)
        + ' --range "$start..$end" --shard-id "$id" --partial - "$path" || exit $?; done'
    )
    return "/bin/sh -c " + shlex.quote(script)


def exit_code_of(error):
    """leakmatch's exit code from a failed pipe task (PIPE_FUNCTION_EXITED), else 1."""
    m = re.search(r"exited with error code (\d+)", str(error))
    return int(m.group(1)) if m else 1


def run_shards(args, descriptors):
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark import SparkConf, SparkContext

    conf = (
        SparkConf()
        .setMaster(args.master)
        .setAppName("leakmatch")
        .set("spark.ui.enabled", "false")
        .set("spark.driver.host", "127.0.0.1")
        .set("spark.driver.bindAddress", "127.0.0.1")
    )
    sc = SparkContext(conf=conf)
    sc.setLogLevel("WARN")
    try:
        rdd = sc.parallelize(descriptors, numSlices=len(descriptors))
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        return rdd.pipe(shard_command(args), env=env, checkCode=True).collect()
    finally:
        sc.stop()


def main(argv):
    args = parse_args(argv)
    descriptors = []
    for d, dump in enumerate(args.dumps):
        for i, (start, end) in enumerate(plan(args.leakmatch, dump, args.shards)):
            descriptors.append(f"d{d}-s{i}\t{absolute(dump)}\t{start}\t{end}")
    try:
        partials = run_shards(args, descriptors)
    except Exception as e:  # a failed task fails the job: report leakmatch's exit code
        code = exit_code_of(e)
        print(f"leakmatch_spark: a shard failed with exit code {code}", file=sys.stderr)
        return code
    with tempfile.TemporaryDirectory(prefix="leakmatch-partials-") as tmp:
        files = []
        for i, line in enumerate(p for p in partials if p.strip()):
            path = os.path.join(tmp, f"partial-{i}.json")
            with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
                f.write(line + "\n")
            files.append(path)
        cmd = [args.leakmatch, "merge"] + (["--json"] if args.json else []) + files
        return subprocess.run(cmd).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
