"""``valuemodel validate`` against the one-scan floor, in the same run.

    python benchmarks/bench_validate.py [--accounts 100000] [--repeats 3] [--against SRC]

The floor is one DuckDB group-by by account over every table (reading everything once).
Each measurement runs in a fresh process (wall time, peak RSS); runs alternate between the
variants so that a change of load on the machine falls on all of them alike. ``--against
SRC`` also times the ``validate`` of another source tree (e.g. a checkout of an earlier
commit's ``src``), for before/after tables.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench_features import TABLE_DATES, ensure_data  # same data, same floor tables

FLOOR = """
import ibis, sys
con = ibis.duckdb.connect()
for name, col in {tables}.items():
    t = con.read_parquet(sys.argv[1] + f"/{{name}}.parquet")
    t.group_by("account_id").aggregate(n=t.count(), last=t[col].max()).execute()
"""
VALIDATE = """
import sys
from valuemodel.data import open_data, validate
assert validate(open_data(sys.argv[1])).ok
"""


def measure(code: str, path: Path, src: str | None) -> tuple[float, float]:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = src
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, env=env)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--against", help="another source tree whose validate is timed too")
    args = parser.parse_args()
    path = ensure_data(args.accounts)
    variants = {"floor (one group-by per table)": (FLOOR.format(tables=TABLE_DATES), None)}
    variants["validate (this tree)"] = (VALIDATE, None)
    if args.against:
        variants[f"validate ({args.against})"] = (VALIDATE, args.against)
    times: dict[str, list[float]] = {k: [] for k in variants}
    load = Path("/proc/loadavg").read_text().split()[:3]
    for _ in range(args.repeats):
        for name, (code, src) in variants.items():
            times[name].append(measure(code, path, src)[0])
    floor = statistics.median(times["floor (one group-by per table)"])
    print(
        f"{args.accounts:,} accounts, median of {args.repeats}, load before {load}, "
        f"after {Path('/proc/loadavg').read_text().split()[:3]}"
    )
    print("| step | median s | runs | x floor |")
    print("|---|---|---|---|")
    for name, runs in times.items():
        median = statistics.median(runs)
        shown = ", ".join(f"{r:.1f}" for r in runs)
        print(f"| {name} | {median:.1f} | {shown} | {median / floor:.1f} |")


if __name__ == "__main__":
    main()
