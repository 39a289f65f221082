"""Benchmark one LightGBM fit by thread count, OpenMP wait policy and machine load.

    python benchmarks/bench_threads.py [--rows 60000] [--features 150] [--rounds 100]
                                       [--repeats 3]

The cause behind issue "training at the pace of the machine", isolated from the package: a
binary LightGBM fit (the package's reproducible settings: ``deterministic``,
``force_row_wise``) on random data of the size of a tuning trial, in a fresh process per run
(libgomp reads ``OMP_WAIT_POLICY`` once, when it is loaded), with 1 or 2 threads, the OpenMP
threads spinning (``ACTIVE``, libgomp's behaviour before the package set a policy) or
sleeping (``PASSIVE``, what ``import valuemodel`` sets), on a quiet machine and beside one
competing CPU-bound process. Prints a Markdown table of medians with the load and commit.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_FIT = """
import sys, time
import numpy as np, lightgbm as lgb
rows, features, threads, rounds = map(int, sys.argv[1:5])
rng = np.random.default_rng(0)
X = rng.normal(size=(rows, features))
y = (X[:, 0] + rng.normal(size=rows) > 1).astype(float)
data = lgb.Dataset(X, y, params={"verbosity": -1}).construct()
params = dict(objective="binary", num_leaves=31, learning_rate=0.05, deterministic=True,
              force_row_wise=True, verbosity=-1, num_threads=threads, seed=7,
              bagging_fraction=0.8, bagging_freq=1, feature_fraction=0.8)
start = time.perf_counter()
lgb.train(params, data, num_boost_round=rounds)
print(time.perf_counter() - start)
"""

SETTINGS = [(1, "PASSIVE"), (2, "ACTIVE"), (2, "PASSIVE")]


def fit_seconds(args: argparse.Namespace, threads: int, policy: str) -> float:
    env = {**os.environ, "OMP_WAIT_POLICY": policy}
    cmd = [sys.executable, "-c", _FIT, str(args.rows), str(args.features), str(threads)]
    run = subprocess.run(
        [*cmd, str(args.rounds)], capture_output=True, text=True, env=env, check=True
    )
    return float(run.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=60_000)
    parser.add_argument("--features", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    found: dict[tuple[str, int, str], list[float]] = {}
    for _ in range(args.repeats):
        for busy in (False, True):
            competitor = (
                subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
            )
            try:
                for threads, policy in SETTINGS:
                    key = ("busy" if busy else "quiet", threads, policy)
                    found.setdefault(key, []).append(fit_seconds(args, threads, policy))
            finally:
                if competitor is not None:
                    competitor.kill()
                    competitor.wait()
    print(
        f"{args.rows:,} rows x {args.features} features, {args.rounds} rounds, median of "
        f"{args.repeats}; commit {commit}; load before {load}, after "
        f"{' '.join(Path('/proc/loadavg').read_text().split()[:3])}\n"
    )
    print("| load | threads | OpenMP wait | median s | runs (s) |\n|---|---|---|---|---|")
    for (busy, threads, policy), runs in found.items():
        each = ", ".join(f"{s:.1f}" for s in runs)
        print(f"| {busy} | {threads} | {policy} | {statistics.median(runs):.1f} | {each} |")


if __name__ == "__main__":
    main()
