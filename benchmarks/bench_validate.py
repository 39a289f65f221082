"""``valuemodel validate`` against the one-scan floor, in the same run.

    python benchmarks/bench_validate.py [--accounts 100000] [--repeats 3] [--against SRC]

The floor is one DuckDB group-by by account over every table (reading everything once).
Each measurement runs in a fresh process (wall time, CPU time of all its threads, peak RSS);
CPU time is the steadier figure on a shared machine. Runs alternate between the
variants so that a change of load on the machine falls on all of them alike. ``--against
SRC`` also times the ``validate`` of another source tree (e.g. a checkout of an earlier
commit's ``src``), for before/after tables.
"""

from __future__ import annotations

import argparse
import os
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


def measure(code: str, path: Path, src: str | None) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system, all threads) and peak RSS (MB) of one run."""
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = src
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", code, str(path)], env=env)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"a measured run failed (status {status})")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


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
    runs: dict[str, list[tuple[float, float, float]]] = {k: [] for k in variants}
    load = Path("/proc/loadavg").read_text().split()[:3]
    for _ in range(args.repeats):
        for name, (code, src) in variants.items():
            runs[name].append(measure(code, path, src))
    floor = statistics.median(r[0] for r in runs["floor (one group-by per table)"])
    floor_cpu = statistics.median(r[1] for r in runs["floor (one group-by per table)"])
    print(
        f"{args.accounts:,} accounts, median of {args.repeats}, load before {load}, "
        f"after {Path('/proc/loadavg').read_text().split()[:3]}"
    )
    print("| step | median s | runs | x floor | CPU s | x floor CPU | peak MB |")
    print("|---|---|---|---|---|---|---|")
    for name, measured in runs.items():
        wall = statistics.median(r[0] for r in measured)
        cpu = statistics.median(r[1] for r in measured)
        peak = max(r[2] for r in measured)
        shown = ", ".join(f"{r[0]:.1f}" for r in measured)
        print(
            f"| {name} | {wall:.1f} | {shown} | {wall / floor:.1f} | {cpu:.1f} | "
            f"{cpu / floor_cpu:.1f} | {peak:,.0f} |"
        )


if __name__ == "__main__":
    main()
