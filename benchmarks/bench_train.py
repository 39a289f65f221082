"""Benchmark `valuemodel train`: wall time and peak memory by thread setting and machine load.

    python benchmarks/bench_train.py [--accounts 20000] [--trials N] [--repeats 3]
                                     [--load quiet,busy] [--threads auto,1]
                                     [--seed 2027] [--workdir benchmarks/_data] [--write]

Generates a brokerage (2024-01-01..2025-12-31, a seed never used in development) once, then
runs ``valuemodel train --as-of 2025-12-31`` through the command line, each run in a fresh
process and a fresh MLflow store, for every combination of

- load: ``quiet`` (nothing else of ours runs) or ``busy`` (one competing CPU-bound process, a
  Python busy loop, as a browser tab, a CI neighbour or a second job would be);
- threads: ``auto`` (the default, ``lightgbm.num_threads: auto``) or a pinned count (``1``:
  the simple alternative a user on a shared machine would try first); ``2:active`` is 2 threads
  with ``OMP_WAIT_POLICY=ACTIVE``, the spinning OpenMP threads of the package before 2026-12.

The combinations are interleaved within each repeat, so a change in the machine's load hits
all of them alike. Printed: a Markdown section with the median wall time of each combination,
its runs, peak memory (max RSS of the training process), the load average before the runs,
the commit; and the stage table of the median ``quiet``/``auto`` run, read from the one line
per stage that ``train`` writes to stderr when it is not a terminal. ``--write`` puts the
section under ``## Training pace`` in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2025-12-31"
SECTION = "## Training pace"
STAGE_LINE = re.compile(r"^\[\s*([\d.]+) s\] Training churn and value models: (.+)$")

# Runs one command and prints its max RSS (KiB) last: the peak of that process alone.
_MEASURE = (
    "import resource, subprocess, sys; "
    "rc = subprocess.run(sys.argv[1:]).returncode; "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
    "sys.exit(rc)"
)


def generate(accounts: int, seed: int, out: Path) -> None:
    """Write the data set once (a child process; kept for later runs)."""
    if (out / "trades.parquet").exists():
        return
    code = (
        "import sys; from valuemodel.data.generate import generate_brokerage, write_brokerage;"
        "write_brokerage(generate_brokerage(int(sys.argv[1]), seed=int(sys.argv[2])), sys.argv[3])"
    )
    subprocess.run([sys.executable, "-c", code, str(accounts), str(seed), str(out)], check=True)


def stage_times(stderr: str) -> list[tuple[str, float]]:
    """(stage, seconds) from the progress lines: each stage lasts until the next begins."""
    marks = [(m[2], float(m[1])) for m in map(STAGE_LINE.match, stderr.splitlines()) if m]
    return [(name, marks[i + 1][1] - at) for i, (name, at) in enumerate(marks[:-1])]


def train_once(data: Path, store: Path, trials: int | None, threads: str) -> dict:
    shutil.rmtree(store, ignore_errors=True)
    store.mkdir(parents=True)
    config = store / "threads.yaml"
    count, _, policy = threads.partition(":")
    config.write_text(f"lightgbm:\n  num_threads: {count}\n")
    env = {**os.environ, "OMP_WAIT_POLICY": policy.upper() or "PASSIVE"}
    cli = [str(Path(sys.executable).with_name("valuemodel")), "train", "--data", str(data)]
    cli += ["--as-of", AS_OF, "--config", str(config)]
    cli += ["--tracking-uri", f"sqlite:///{store / 'mlflow.db'}", "--recheck"]
    if trials is not None:
        cli += ["--trials", str(trials)]
    start = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-c", _MEASURE, *cli], capture_output=True, text=True, env=env
    )
    seconds = time.perf_counter() - start
    if run.returncode != 0:
        raise SystemExit(f"train failed ({threads} threads):\n{run.stderr[-3000:]}")
    peak_kib = int(run.stderr.strip().splitlines()[-1])
    return {"seconds": seconds, "peak_mib": peak_kib / 1024, "stages": stage_times(run.stderr)}


def _busy() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def measure(args: argparse.Namespace) -> dict[tuple[str, str], list[dict]]:
    data = args.workdir / f"brokerage-{args.accounts}-{args.seed}"
    generate(args.accounts, args.seed, data)
    runs: dict[tuple[str, str], list[dict]] = {}
    for repeat in range(args.repeats):
        for load in args.load:
            for threads in args.threads:
                competitor = _busy() if load == "busy" else None
                try:
                    store = args.workdir / f"mlflow-pace-{load}-{threads.replace(':', '-')}"
                    out = train_once(data, store, args.trials, threads)
                finally:
                    if competitor is not None:
                        competitor.kill()
                        competitor.wait()
                out["loadavg"] = Path("/proc/loadavg").read_text().split()[0]
                runs.setdefault((load, threads), []).append(out)
                print(
                    f"repeat {repeat + 1}: {load:5} threads={threads:4} {out['seconds']:7.1f} s "
                    f"peak {out['peak_mib']:,.0f} MiB (load {out['loadavg']})",
                    file=sys.stderr,
                )
    return runs


def _median_run(runs: list[dict]) -> dict:
    return sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]


def report(args: argparse.Namespace, runs: dict, load_before: str, commit: str) -> str:
    trials = "default" if args.trials is None else str(args.trials)
    lines = [
        SECTION,
        "",
        f"`python benchmarks/bench_train.py --accounts {args.accounts} --repeats {args.repeats}"
        f"{'' if args.trials is None else f' --trials {args.trials}'}`: `valuemodel train` "
        f"through the command line on {args.accounts:,} generated accounts (seed {args.seed}), "
        f"{trials} trials, as of {AS_OF}; commit {commit}; {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}; load average before "
        f"the runs {load_before}. `busy`: one competing CPU-bound process (a Python busy loop).",
        "",
        "| load | threads | median s | runs (s) | peak MiB (max) | x quiet, same threads |",
        "|---|---|---|---|---|---|",
    ]
    for (load, threads), found in runs.items():
        med = statistics.median(r["seconds"] for r in found)
        quiet = runs.get(("quiet", threads))
        ratio = med / statistics.median(r["seconds"] for r in quiet) if quiet else float("nan")
        each = ", ".join(f"{r['seconds']:.0f}" for r in found)
        peak = max(r["peak_mib"] for r in found)
        lines.append(f"| {load} | {threads} | {med:.1f} | {each} | {peak:,.0f} | {ratio:.2f} |")
    base = runs.get(("quiet", args.threads[0])) or next(iter(runs.values()))
    lines += ["", "Where the median run's time went (the stage lines `train` writes):", ""]
    lines += ["| stage | s |", "|---|---|"]
    lines += [f"| {name} | {s:.1f} |" for name, s in _grouped(_median_run(base)["stages"])]
    return "\n".join(lines) + "\n"


def _grouped(stages: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """Trials of one model summed into one row ("churn: tuning, 10 trials")."""
    out: dict[str, float] = {}
    for name, seconds in stages:
        match = re.match(r"(\w+): trial \d+/(\d+)", name)
        key = f"{match[1]}: tuning, {match[2]} trials" if match else name
        out[key] = out.get(key, 0.0) + seconds
    return list(out.items())


def write_section(text: str, path: Path = ROOT / "BENCHMARKS.md") -> None:
    """Replace (or append) the section, keeping the others."""
    current = path.read_text() if path.exists() else "# Benchmarks\n"
    lines = current.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.strip() == SECTION), None)
    if start is None:
        path.write_text(current.rstrip("\n") + "\n\n" + text)
        return
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), None)
    rest = "\n" + "".join(lines[end:]) if end is not None else ""
    path.write_text("".join(lines[:start]) + text + rest)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--trials", type=int, default=None, help="default: the config's")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--load", type=lambda s: s.split(","), default=["quiet", "busy"])
    parser.add_argument("--threads", type=lambda s: s.split(","), default=["auto", "1"])
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--workdir", type=Path, default=ROOT / "benchmarks" / "_data")
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    load_before = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    runs = measure(args)
    text = report(args, runs, load_before, commit)
    print(text)
    if args.write:
        write_section(text)


if __name__ == "__main__":
    main()
