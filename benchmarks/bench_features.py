"""Time and size the feature build (results: BENCHMARKS.md, section "Feature library").

    python benchmarks/bench_features.py [--accounts 100000] [--repeats 3] [--scaling]
        [--kinds floor,columns,features,core,pandas] [--date-counts 1,12]

Generates a two-year data set into benchmarks/_data/ once (gitignored), then measures, each
run in a fresh subprocess (wall time, peak RSS from ru_maxrss; median of ``--repeats``):

- ``features``: valuemodel.features.build_features, all families, 1 and 12 month-end dates;
- ``core``: build_features with only the families the pandas version covers (recency,
  frequency, contribution, flows), the like-for-like comparison;
- ``pandas``: the core families (recency, frequency, turnover/contribution, flows) written the
  way an analyst would in plain pandas (loop over as-of dates, boolean masks, groupby);
- ``floor``: one DuckDB group-by per input table (the cost of reading everything once);
- ``columns``: the same, reading every column the one-date build reads (``FEATURE_COLUMNS``)
  with one aggregate each: what reading the features' inputs once costs, before any window.

Kinds are measured in turn within each repeat (``floor, features, floor, features, ...``), so
that a busy minute of a shared machine falls on all of them.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"
TABLE_DATES = {
    "trades": "trade_date",
    "balances": "date",
    "cashflows": "date",
    "positions": "date",
    "logins": "date",
    "revenue": "date",
    "accounts": "open_date",
}


def as_of_dates(n: int) -> list[str]:
    import pandas as pd

    return [d.date().isoformat() for d in pd.date_range("2025-01-31", "2025-12-31", freq="ME")][
        -n:
    ]


def ensure_data(n_accounts: int) -> Path:
    out = DATA / f"brokerage_{n_accounts}"
    if not (out / "trades.parquet").is_file():
        from valuemodel.data.generate import generate_brokerage, write_brokerage

        write_brokerage(generate_brokerage(n_accounts, seed=7), out)
    return out


def run_features(path: Path, dates: list[str]) -> int:
    from valuemodel.data.reader import open_data
    from valuemodel.features import build_features

    return len(build_features(open_data(path), dates))


def run_core(path: Path, dates: list[str]) -> int:
    from valuemodel.data.reader import open_data
    from valuemodel.features import FeatureConfig, build_features

    core = ("recency", "frequency", "contribution", "flows")
    config = FeatureConfig(families=core)
    return len(build_features(open_data(path), dates, config))


def run_floor(path: Path, dates: list[str]) -> int:
    import ibis

    con = ibis.duckdb.connect()
    rows = 0
    for name, col in TABLE_DATES.items():
        t = con.read_parquet(str(path / f"{name}.parquet"))
        agg = t.group_by("account_id").aggregate(n=t.count(), last=t[col].max())
        rows += len(agg.execute())
    return rows


FEATURE_COLUMNS = {
    "accounts": ["open_date", "close_date", "birth_year", "gender", "risk_level"]
    + ["investor_type", "branch", "channel"],
    "balances": ["date", "total_assets", "cash", "stock_value", "fund_value", "bond_value"]
    + ["margin_debt"],
    "cashflows": ["date", "amount"],
    "logins": ["date"],
    "positions": ["date", "symbol", "market_value", "cost_basis"],
    "revenue": ["date", "amount"],
    "trades": ["trade_date", "amount", "commission", "side", "product"],
}
"""Per table, the columns DuckDB reads for ``build_features`` at one date (the
``READ_PARQUET`` projections of its profile, 157 features, 2026-11-30)."""


def run_columns(path: Path, dates: list[str]) -> int:
    import ibis

    con = ibis.duckdb.connect()
    rows = 0
    for name, cols in FEATURE_COLUMNS.items():
        t = con.read_parquet(str(path / f"{name}.parquet"))
        aggs = {"n": t.count(), **{f"max_{c}": t[c].max() for c in cols}}
        rows += len(t.group_by("account_id").aggregate(**aggs).execute())
    return rows


def run_pandas(path: Path, dates: list[str]) -> int:
    """Recency, frequency, turnover/contribution and flows, the way an analyst writes them."""
    import pandas as pd

    trades = pd.read_parquet(path / "trades.parquet")
    flows = pd.read_parquet(path / "cashflows.parquet")
    accounts = pd.read_parquet(path / "accounts.parquet")
    trades["trade_date"] = pd.to_datetime(trades["trade_date"])
    flows["date"] = pd.to_datetime(flows["date"])
    accounts["open_date"] = pd.to_datetime(accounts["open_date"])
    out = []
    for as_of in pd.to_datetime(dates):
        t = trades[trades.trade_date <= as_of]
        f = flows[flows.date <= as_of]
        res = accounts[["account_id", "open_date"]].set_index("account_id")
        res["tenure_days"] = (as_of - res.open_date).dt.days
        res["days_since_last_trade"] = (as_of - t.groupby("account_id").trade_date.max()).dt.days
        for w in (30, 90, 180, 365):
            tw = t[t.trade_date > as_of - pd.Timedelta(days=w)]
            g = tw.groupby("account_id")
            res[f"trades_{w}d"] = g.size()
            res[f"active_trading_days_{w}d"] = g.trade_date.nunique()
            res[f"traded_value_{w}d"] = g.amount.sum()
            res[f"commission_{w}d"] = g.commission.sum()
            fw = f[f.date > as_of - pd.Timedelta(days=w)]
            res[f"net_flow_{w}d"] = fw.groupby("account_id").amount.sum()
            out_w = fw[fw.amount < 0]
            res[f"outflow_{w}d"] = -out_w.groupby("account_id").amount.sum()
            res[f"withdrawals_{w}d"] = out_w.groupby("account_id").size()
        res["effective_commission_rate"] = res.commission_365d / res.traded_value_365d
        res = res.fillna({c: 0 for c in res.columns if c.endswith("d")})
        out.append(res.reset_index().assign(as_of=as_of))
    return len(pd.concat(out))


RUNNERS = {
    "features": run_features,
    "core": run_core,
    "floor": run_floor,
    "columns": run_columns,
    "pandas": run_pandas,
}


def measure_here(kind: str, path: Path, n_dates: int) -> dict:
    start = time.perf_counter()
    rows = RUNNERS[kind](path, as_of_dates(n_dates))
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak = usage.ru_maxrss / 1024  # KiB on Linux
    cpu = usage.ru_utime + usage.ru_stime  # all threads: less sensitive to a busy machine
    return {
        "kind": kind,
        "dates": n_dates,
        "rows": rows,
        "seconds": seconds,
        "cpu_s": cpu,
        "peak_mb": peak,
    }


def measure_once(kind: str, path: Path, n_dates: int) -> dict:
    cmd = [sys.executable, __file__, "--measure", kind, "--data", str(path)]
    done = subprocess.run(
        [*cmd, "--dates", str(n_dates)], check=True, capture_output=True, text=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(kinds: list[str], path: Path, n_dates: int, repeats: int) -> list[dict]:
    """Each kind ``repeats`` times, the kinds in turn; medians per kind."""
    runs: dict[str, list[dict]] = {kind: [] for kind in kinds}
    for _ in range(repeats):
        for kind in kinds:
            runs[kind].append(measure_once(kind, path, n_dates))
    return [
        {
            **rs[0],
            "seconds": statistics.median(r["seconds"] for r in rs),
            "cpu_s": statistics.median(r["cpu_s"] for r in rs),
            "peak_mb": statistics.median(r["peak_mb"] for r in rs),
            "all_seconds": [round(r["seconds"], 1) for r in rs],
            "repeats": repeats,
        }
        for rs in runs.values()
    ]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--accounts", type=int, default=100_000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--scaling", action="store_true", help="also 25k and 50k accounts")
    p.add_argument("--kinds", default="floor,columns,features,core,pandas")
    p.add_argument("--date-counts", default="1,12", help="as-of date counts to measure")
    p.add_argument("--measure", choices=sorted(RUNNERS), help=argparse.SUPPRESS)
    p.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--dates", type=int, default=1, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.measure:
        print(json.dumps(measure_here(args.measure, args.data, args.dates)))
        return
    results = []
    path = ensure_data(args.accounts)
    print(f"load before: {Path('/proc/loadavg').read_text().strip()}", flush=True)
    for n_dates in (int(d) for d in args.date_counts.split(",")):
        for r in measure(args.kinds.split(","), path, n_dates, args.repeats):
            results.append({**r, "accounts": args.accounts})
            print(json.dumps(results[-1]), flush=True)
    if args.scaling:
        for n in (25_000, 50_000):
            (r,) = measure(["features"], ensure_data(n), 12, args.repeats)
            results.append({**r, "accounts": n})
            print(json.dumps(results[-1]), flush=True)
    print(f"load after: {Path('/proc/loadavg').read_text().strip()}")
    floors = {(r["accounts"], r["dates"]): r["seconds"] for r in results if r["kind"] == "floor"}
    print(
        "\n| accounts | what | as-of dates | rows | wall s (runs) | median | x floor | CPU s "
        "| peak RSS MiB |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        floor = floors.get((r["accounts"], r["dates"]))
        times = ", ".join(f"{s:.1f}" for s in r["all_seconds"])
        ratio = f"{r['seconds'] / floor:.1f}" if floor else ""
        print(
            f"| {r['accounts']:,} | {r['kind']} | {r['dates']} | {r['rows']:,} | {times} | "
            f"{r['seconds']:.1f} | {ratio} | "
            f"{r['cpu_s']:.1f} | {r['peak_mb']:.0f} |"
        )


if __name__ == "__main__":
    main()
