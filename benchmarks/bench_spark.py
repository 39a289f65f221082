"""Spark (local mode) against the embedded DuckDB engine, through the command line.

    python benchmarks/bench_spark.py [--accounts 20000 100000] [--repeats 1]
        [--steps validate features score] [--engines duckdb spark] [--tracking-uri URI]

For each size, generates a two-year brokerage into benchmarks/_data/ once (gitignored), then
runs ``valuemodel validate`` and ``valuemodel features --as-of 2025-12-31`` with
``--engine duckdb`` and ``--engine spark`` (Spark: ``SPARK_MASTER`` else ``local[*]``), each in a
fresh process. Measured per run: wall time, and the peak resident memory of the Python driver
and of the JVM (sampled every 0.2 s; in local mode the JVM is the driver's and the executors'
at once, so its footprint is not the driver's alone). The rows read and the rows the driver
receives are printed beside them, to show that the Python driver grows with accounts (the
feature rows it collects), not with history rows (which stay in the engine).

``score`` (as of the same date, a CSV list) needs registered models: ``--tracking-uri`` names
the store (any model trained on generated data scores any size). Its Python driver's peak is
read exactly, as the kernel's high-water mark of the process (``VmHWM`` in
``/proc/PID/status``), beside the Python workers' (Spark's executors' Python, children of the
JVM in local mode) and the JVM's sampled peaks.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"
AS_OF = "2025-12-31"


def ensure_data(n_accounts: int) -> Path:
    out = DATA / f"brokerage_{n_accounts}"
    if not (out / "trades.parquet").is_file():
        from valuemodel.data.generate import generate_brokerage, write_brokerage

        write_brokerage(generate_brokerage(n_accounts, seed=7), out)
    return out


def history_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(p).metadata.num_rows for p in path.glob("*.parquet"))


def _high_water(pid: int) -> int:
    """The process's peak resident memory so far (bytes), as the kernel counts it."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _peaks(process: psutil.Popen, stop: threading.Event, peaks: dict[str, int]) -> None:
    while not stop.is_set():
        peaks["driver"] = max(peaks.get("driver", 0), _high_water(process.pid))
        try:
            for proc in process.children(recursive=True):
                kind = "jvm" if "java" in proc.name() else "workers"
                peaks[kind] = max(peaks.get(kind, 0), proc.memory_info().rss)
        except psutil.Error:
            pass
        time.sleep(0.2)


def measure(command: list[str]) -> dict[str, float]:
    """Wall time and peak RSS (MB) of the Python driver, its Python workers and the JVM."""
    peaks: dict[str, int] = {}
    stop = threading.Event()
    start = time.perf_counter()
    process = psutil.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watcher = threading.Thread(target=_peaks, args=(process, stop, peaks), daemon=True)
    watcher.start()
    out, err = process.communicate()
    seconds = time.perf_counter() - start
    stop.set()
    watcher.join()
    if process.returncode != 0:
        said = [line for line in err.splitlines() if "Error" in line or "failed" in line]
        raise RuntimeError(f"{' '.join(command)} failed:\n{said[-20:]}\n{err[-2000:]}")
    return {
        "seconds": seconds,
        "python_mb": peaks.get("driver", 0) / 2**20,
        "workers_mb": peaks.get("workers", 0) / 2**20,
        "jvm_mb": peaks.get("jvm", 0) / 2**20,
        "stdout": out.strip().splitlines()[-1] if out.strip() else "",
    }


def commands(path: Path, engine: str, out: Path, uri: str | None) -> dict[str, list[str]]:
    cli = [sys.executable, "-m", "valuemodel.cli"]
    base = ["--engine", engine, "--data", str(path)]
    steps = {
        "validate": [*cli, "validate", *base],
        "features": [*cli, "features", *base, "--as-of", AS_OF, "--out", str(out)],
    }
    if uri is not None:
        listed = out.with_name(f"list-{engine}.csv")
        score = [*cli, "score", *base, "--as-of", AS_OF, "--out", str(listed)]
        steps["score"] = [*score, "--tracking-uri", uri]
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--steps", nargs="+", default=["validate", "features", "score"])
    parser.add_argument("--engines", nargs="+", default=["duckdb", "spark"])
    parser.add_argument("--tracking-uri", default=None, help="models for `score`")
    args = parser.parse_args()
    print(f"load before: {Path('/proc/loadavg').read_text().split()[:3]}")
    print(
        "| accounts | history rows | step | engine | wall s (median) | Python driver peak MB "
        "| Python workers peak MB | JVM peak MB | output |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for n in args.accounts:
        path = ensure_data(n)
        rows = history_rows(path)
        with tempfile.TemporaryDirectory() as tmp:
            for engine in args.engines:
                out = Path(tmp) / f"features-{engine}.parquet"
                steps = commands(path, engine, out, args.tracking_uri)
                for step in (s for s in args.steps if s in steps):
                    runs = [measure(steps[step]) for _ in range(args.repeats)]
                    median = {k: statistics.median(r[k] for r in runs) for k in runs[0]
                              if k != "stdout"}  # fmt: skip
                    print(
                        f"| {n:,} | {rows:,} | {step} | {engine} | {median['seconds']:.1f} | "
                        f"{median['python_mb']:,.0f} | {median['workers_mb']:,.0f} | "
                        f"{median['jvm_mb']:,.0f} | {runs[-1]['stdout'][:60]} | "
                        f"load {Path('/proc/loadavg').read_text().split()[0]}",
                        flush=True,
                    )
    print(f"load after: {Path('/proc/loadavg').read_text().split()[:3]}")


if __name__ == "__main__":
    main()
