"""Time and size the synthetic brokerage generator; record the results in BENCHMARKS.md.

Each run is a fresh Python process that generates ``--accounts`` accounts over two years and
writes the seven parquet files to a temporary directory; it reports its stage timings and its
own peak resident memory (``ru_maxrss``: numpy and Arrow allocate outside ``tracemalloc``).
The median of ``--repeats`` runs is reported. For comparison, the trades stage is also written
the simple way - a Python loop over accounts, weeks and trades - and timed against the
vectorised stage on ``--loop-accounts`` accounts.

    python benchmarks/bench_generate.py [--accounts 100000] [--repeats 3] [--no-write-md]
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

START, END = "2024-01-01", "2025-12-31"
SECTION = "## Synthetic data generator"
BENCHMARKS_MD = Path(__file__).resolve().parents[1] / "BENCHMARKS.md"
HEADER = (
    "# Benchmarks\n\n"
    "Machine: 2 cores, 24 GB RAM, no GPU, Python 3.11 (shared with other engineers' test runs, "
    "so wall-clock times are noisy).\n"
)


def run_once(n_accounts: int) -> dict:
    """Generate and write in this process; the timings, row counts and peak memory."""
    from valuemodel.data.generate import generate_brokerage, write_brokerage

    marks: list[tuple[str, float]] = []
    began = time.perf_counter()
    tables = generate_brokerage(
        n_accounts, START, END, progress=lambda s: marks.append((s, time.perf_counter()))
    )
    generated = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_brokerage(tables, Path(tmp) / "data")
        size = sum(p.stat().st_size for p in paths)
    written = time.perf_counter()
    stamps = dict(marks)
    return {
        "seconds": written - began,
        "simulation": stamps["accounts"] - stamps["simulation"],
        "tables": generated - stamps["accounts"],
        "write": written - generated,
        "rows": {name: len(frame) for name, frame in tables.items()},
        "parquet_mb": size / 1e6,
        "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
    }


def run_in_child(n_accounts: int) -> dict:
    """``run_once`` in a fresh interpreter, so each run's peak memory is its own."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", "--accounts", str(n_accounts)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def time_vectorised_trades(n_accounts: int) -> tuple[float, int]:
    """Seconds spent in the vectorised trades stage while generating ``n_accounts``."""
    from valuemodel.data import _synth_ledger as ledger
    from valuemodel.data.generate import generate_brokerage

    original, spent = ledger.trade, [0.0]

    def timed(*args, **kwargs):
        began = time.perf_counter()
        result = original(*args, **kwargs)
        spent[0] += time.perf_counter() - began
        return result

    ledger.trade = timed
    try:
        rows = len(generate_brokerage(n_accounts, START, END)["trades"])
    finally:
        ledger.trade = original
    return spent[0], rows


def time_loop_trades(n_accounts: int) -> tuple[float, int]:
    """The simple alternative: the same trade model, one account, week and trade at a time."""
    from valuemodel.data._synth_accounts import make_population
    from valuemodel.data._synth_calendar import make_clock
    from valuemodel.data._synth_market import simulate_market, weekly_activity

    rng = np.random.default_rng(7)
    clock = make_clock(date.fromisoformat(START), date.fromisoformat(END))
    market = simulate_market(len(clock.days), rng)
    activity = weekly_activity(market, clock.day_week, clock.n_weeks)
    pop = make_population(n_accounts, clock, activity, rng)
    began = time.perf_counter()
    rows = _loop_trades(pop, market, clock, activity, random.Random(7))
    return time.perf_counter() - began, len(rows)


def _loop_trades(pop, market, clock, activity, draw: random.Random) -> list[dict]:
    base, size_share = [0.45, 3.5, 1.0, 4.0], [0.25, 0.15, 0.06, 0.02]
    stocks = [int(s) for s in np.flatnonzero(market.product == 0)]
    rows = []
    for i in range(pop.n):
        kind, engagement = int(pop.kind[i]), 0.0
        for week in range(clock.first_week, clock.n_weeks):
            engagement = 0.93 * engagement + 0.165 * draw.gauss(0.0, 1.0)
            days = range(clock.week_first[week], clock.week_stop[week])
            if week < pop.open_week[i] or not days:
                continue
            rate = base[kind] * math.exp(pop.engagement[i] + engagement) * activity[week]
            for _ in range(_poisson(rate * len(days) / 5.0, draw)):
                day, symbol = draw.choice(days), draw.choice(stocks)
                price = round(market.prices[day, symbol] * draw.uniform(0.99, 1.01), 2)
                target = pop.assets0[i] * size_share[kind] * draw.lognormvariate(0.0, 0.6)
                lots = max(round(target / (price * 100)), math.ceil(2000 / (price * 100)))
                amount = round(lots * 100 * price, 2)
                rows.append({"account": i, "day": day, "symbol": symbol, "quantity": lots * 100,
                             "price": price, "amount": amount,
                             "commission": round(max(pop.rate[i] * amount, 5.0), 2)})  # fmt: skip
    return rows


def _poisson(rate: float, draw: random.Random) -> int:
    limit, count, product = math.exp(-rate), 0, draw.random()
    while product > limit:
        count += 1
        product *= draw.random()
    return count


def markdown(n_accounts: int, runs: list[dict], loop: dict) -> str:
    """The section for BENCHMARKS.md."""
    rows = runs[0]["rows"]
    lines = [
        SECTION,
        "",
        f'`generate_brokerage({n_accounts:_}, "{START}", "{END}")` + `write_brokerage` to a '
        f"temporary directory, median of {len(runs)} runs, each in a fresh process "
        f"(`python benchmarks/bench_generate.py`, {date.today().isoformat()}, "
        f"Python {platform.python_version()}). The machine (2 cores) was shared with other "
        "engineers' test runs, so times are upper bounds.",
        "",
        "| measure | median | runs | target |",
        "|---|---|---|---|",
        _row("total wall time (s)", "seconds", runs, "< 120"),
        _row("of which simulation (s)", "simulation", runs, ""),
        _row("of which building the tables (s)", "tables", runs, ""),
        _row("of which writing parquet (s)", "write", runs, ""),
        _row("peak memory, ru_maxrss (GB)", "peak_rss_gb", runs, "< 4"),
        _row("parquet on disk (MB)", "parquet_mb", runs, ""),
        "",
        "| table | rows |",
        "|---|---|",
        *[f"| {name} | {count:,} |" for name, count in rows.items()],
        "",
        f"Against the simple alternative (a Python loop over accounts, weeks and trades, for the "
        f"trades stage only, {loop['accounts']:,} accounts): loop {loop['loop_seconds']:.1f} s "
        f"for {loop['loop_rows']:,} trades; vectorised trades stage "
        f"{loop['vector_seconds']:.2f} s for {loop['vector_rows']:,} trades - "
        f"{loop['ratio']:.0f}x faster per trade. Extrapolated to {n_accounts:,} accounts the "
        f"loop would need about {loop['loop_seconds'] * n_accounts / loop['accounts'] / 60:.0f}"
        " minutes for the trades alone.",
        "",
    ]
    return "\n".join(lines)


def _row(label: str, key: str, runs: list[dict], target: str) -> str:
    values = [r[key] for r in runs]
    listed = ", ".join(f"{v:.1f}" if key != "peak_rss_gb" else f"{v:.2f}" for v in values)
    middle = statistics.median(values)
    shown = f"{middle:.2f}" if key == "peak_rss_gb" else f"{middle:.1f}"
    return f"| {label} | {shown} | {listed} | {target} |"


def write_section(section: str, path: Path = BENCHMARKS_MD) -> None:
    """Replace this benchmark's section of ``path`` (other sections are left alone)."""
    text = path.read_text() if path.exists() else HEADER
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text.rstrip("\n") + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--loop-accounts", type=int, default=2_000)
    parser.add_argument("--no-write-md", action="store_true", help="print only")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_once(args.accounts)))
        return
    runs = []
    for k in range(args.repeats):
        runs.append(run_in_child(args.accounts))
        print(f"run {k + 1}: {runs[-1]['seconds']:.1f} s, {runs[-1]['peak_rss_gb']:.2f} GB",
              file=sys.stderr)  # fmt: skip
    vector_seconds, vector_rows = time_vectorised_trades(args.loop_accounts)
    loop_seconds, loop_rows = time_loop_trades(args.loop_accounts)
    loop = {
        "accounts": args.loop_accounts,
        "loop_seconds": loop_seconds,
        "loop_rows": loop_rows,
        "vector_seconds": vector_seconds,
        "vector_rows": vector_rows,
        "ratio": (loop_seconds / loop_rows) / (vector_seconds / vector_rows),
    }
    section = markdown(args.accounts, runs, loop)
    print(section)
    if not args.no_write_md:
        write_section(section)


if __name__ == "__main__":
    main()
