"""How the command line's cost grows with the number of accounts: 100k, 300k and 1M.

    python benchmarks/bench_scale.py [--sizes 100000 300000 1000000] [--trials 20]
                                     [--skip-train] [--work DIR] [--only score ...]

For each size, ``valuemodel validate``, ``valuemodel features`` (one as-of date) and
``valuemodel score`` (end to end: validation, features, both models, tiers, ranking, reasons
and actions, the written list; once with ``--recheck``, once as a repeat on unchanged files,
which skips the checks) run as the user runs them, each in a fresh process; wall
time, CPU time (all threads) and peak RSS come from the operating system (``wait4``).
``valuemodel train`` runs once, on the 100k-account brokerage (the sample every larger size
is trained on: a model needs tens of thousands of accounts, not millions), with ``--trials``
Optuna trials; its models score every size.

The data: the generated 100k-account brokerage of the other benchmarks
(``bench_features.ensure_data``, two years), and larger sizes made by copying it under new
account IDs (``A0000101`` -> ``A0000101-1``, ``-2``, ...), one DuckDB ``COPY`` per table.
Generating a million accounts directly would need about 29 GB of memory on this 24 GB
machine; copies keep the per-account distributions (and so the per-account work) of the
generated brokerage, which is what cost depends on.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb
from bench_features import ensure_data

AS_OF = "2025-12-31"
TABLES = ("accounts", "trades", "balances", "cashflows", "positions", "logins", "revenue")
BASE = 100_000
STEPS = ["validate", "features", "score"]


def copies(base: Path, n_accounts: int, work: Path) -> Path:
    """The base brokerage copied ``n_accounts // BASE`` times under new account IDs."""
    k = n_accounts // BASE
    if k <= 1:
        return base
    target = work / f"brokerage_{n_accounts}"
    if all((target / f"{t}.parquet").exists() for t in TABLES):
        return target
    target.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")  # stream the copies
    for table in TABLES:
        source = f"read_parquet('{base / f'{table}.parquet'}')"
        parts = " UNION ALL ".join(
            f"SELECT * REPLACE (account_id || '{'' if i == 0 else f'-{i}'}' AS account_id) "
            f"FROM {source}"
            for i in range(k)
        )
        out = target / f"{table}.parquet"
        con.execute(f"COPY ({parts}) TO '{out}.tmp' (FORMAT parquet)")
        os.replace(f"{out}.tmp", out)
    return target


def run(args: list[str]) -> dict[str, float]:
    """One CLI command in a fresh process: wall s, CPU s and peak RSS (MB)."""
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "valuemodel.cli", *args])
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"valuemodel {' '.join(args)} failed (status {status})")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "peak": usage.ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 300_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--skip-train", action="store_true", help="reuse the registered models")
    parser.add_argument("--work", type=Path, default=Path(__file__).parent / "_data" / "scale")
    parser.add_argument(
        "--only", nargs="+", choices=STEPS, default=STEPS, help="run only these steps"
    )
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    base = ensure_data(BASE)
    uri = f"sqlite:///{args.work / 'mlflow.db'}"
    rows: list[tuple[str, str, dict[str, float]]] = []
    load = [Path("/proc/loadavg").read_text().split()[:3]]
    if not args.skip_train:
        train = ["train", "--data", str(base), "--as-of", AS_OF, "--trials", str(args.trials)]
        rows.append(
            (f"{BASE:,}", f"train ({args.trials} trials)", run([*train, "--tracking-uri", uri]))
        )
    for n in args.sizes:
        data = copies(base, n, args.work)
        score = [
            "score", "--data", str(data), "--as-of", AS_OF, "--tracking-uri", uri,
            "--out", str(args.work / f"ranked_{n}.csv"),
        ]  # fmt: skip
        steps = {
            "validate": ["validate", "--data", str(data)],
            "features (1 date)": [
                "features", "--data", str(data), "--as-of", AS_OF, "--recheck",
                "--out", str(args.work / f"features_{n}.parquet"),
            ],
            "score (end to end)": [*score, "--recheck"],
            "score (files unchanged: checks skipped)": score,
        }  # fmt: skip
        for step, command in steps.items():
            if step.split(" ")[0] not in args.only:
                continue
            measured = [run(command) for _ in range(args.repeats)]
            median = {k: statistics.median(m[k] for m in measured) for k in measured[0]}
            median["peak"] = max(m["peak"] for m in measured)
            rows.append((f"{n:,}", step, median))
            print(f"{n:,} {step}: {median['wall']:.1f} s", flush=True)
    load.append(Path("/proc/loadavg").read_text().split()[:3])
    print(f"\nmedian of {args.repeats}, load before {load[0]}, after {load[1]}")
    print("| accounts | step | wall s | CPU s | peak RSS MB |")
    print("|---|---|---|---|---|")
    for n, step, m in rows:
        print(f"| {n} | {step} | {m['wall']:.1f} | {m['cpu']:.1f} | {m['peak']:,.0f} |")


if __name__ == "__main__":
    main()
