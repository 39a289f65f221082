"""Time and size batch scoring; results go to BENCHMARKS.md (## Batch scoring).

    python benchmarks/bench_score.py core [--rows 1000000] [--repeat 3]
    python benchmarks/bench_score.py e2e  [--accounts 100000] [--repeat 3]

``core``: predictions of both models + all tiers + priority + ranking on ``--rows`` rows of
precomputed features (a synthetic frame with the production feature names), with two
LightGBM models trained quickly here; also reasons + actions for the top 1,000. Target < 30 s.

``e2e``: ``valuemodel score`` (else ``serving/score_batch.py``) on a generated data directory
of ``--accounts`` accounts, end to end (including data validation, as the CLI does), with models
trained by ``valuemodel.training.train`` on a 2,000-account generated brokerage. Target < 60 s.

Each measurement runs in a fresh subprocess; wall time and peak RSS (``ru_maxrss``) are the
median of ``--repeat`` runs. Setup (data generation, training) is not timed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
WORK = Path(os.environ.get("BENCH_WORKDIR", tempfile.gettempdir())) / "valuemodel-bench-score"
AS_OF = "2025-12-31"


def synthetic_features(n: int, seed: int = 0) -> pd.DataFrame:
    """Features with production names and plausible distributions (not a brokerage model)."""
    rng = np.random.default_rng(seed)
    assets = np.round(rng.lognormal(11.5, 1.6, n), 2)
    active_365 = rng.integers(0, 200, n).astype(float)
    revenue = np.round(assets * rng.uniform(0.0, 0.01, n), 2)
    cols = {
        "account_id": pd.array([f"A{i:08d}" for i in range(n)], dtype="str"),
        "as_of": pd.Timestamp(AS_OF),
        "days_since_last_trade": np.where(active_365 > 0, rng.integers(0, 365, n), np.nan),
        "days_since_last_login": rng.integers(0, 200, n).astype(float),
        "tenure_days": rng.integers(10, 4000, n).astype(float),
        "trading_days_trend": np.round(rng.lognormal(0, 0.6, n), 3),
        "total_assets": assets,
        "asset_growth_365d": np.round(rng.normal(0, 0.3, n), 3),
        "revenue_365d": revenue,
        "commission_365d": np.round(revenue * 0.9, 2),
        "asset_turnover_365d": np.round(rng.lognormal(0.5, 1.0, n), 3),
        "effective_commission_rate": np.round(rng.uniform(0.0001, 0.0008, n), 6),
        "unrealized_pnl_ratio": np.round(rng.normal(-0.05, 0.15, n), 3),
        "cash_share": np.round(rng.beta(1, 3, n), 3),
    }
    for w in (30, 90, 180, 365):
        cols[f"active_trading_days_{w}d"] = np.minimum(active_365, rng.integers(0, w, n)) * 1.0
        cols[f"trades_{w}d"] = cols[f"active_trading_days_{w}d"] * rng.uniform(1, 3, n)
        cols[f"outflow_share_{w}d"] = np.round(rng.beta(0.5, 4, n), 3)
        cols[f"net_flow_{w}d"] = np.round(rng.normal(0, 1, n) * assets * 0.05, 2)
    levels = ["C1", "C2", "C3", "C4", "C5"]
    cols["risk_level"] = pd.Categorical(rng.choice(levels, n), categories=levels)
    kinds = ["ordinary", "professional", "institution"]
    cols["investor_type"] = pd.Categorical(rng.choice(kinds, n, p=[0.9, 0.07, 0.03]), kinds)
    return pd.DataFrame(cols)


def train_models(features: pd.DataFrame, folder: Path) -> None:
    """Quick churn and value models (LightGBM, 100 trees) saved as model bundles."""
    import lightgbm as lgb

    from valuemodel.models import FeatureSchema, ProbabilityCalibrator, save_bundle

    schema = FeatureSchema.from_frame(features)
    X = schema.prepare(features)
    f = features
    logit = (
        -2
        + 0.006 * f["days_since_last_trade"].fillna(400)
        + 3 * f["outflow_share_30d"]
        - 2 * f["unrealized_pnl_ratio"]
        - 0.02 * f["active_trading_days_90d"]
    )
    rng = np.random.default_rng(1)
    churn_y = (rng.random(len(f)) < 1 / (1 + np.exp(-logit))).astype(float)
    clv_y = f["revenue_365d"].to_numpy() * rng.gamma(2.0, 0.5, len(f))
    params = {"verbosity": -1, "num_leaves": 31, "learning_rate": 0.1, "seed": 0}
    churn = lgb.train({**params, "objective": "binary"}, lgb.Dataset(X, churn_y), 100)
    clv = lgb.train({**params, "objective": "tweedie"}, lgb.Dataset(X, clv_y), 100)
    cal = ProbabilityCalibrator("platt").fit(churn.predict(X, raw_score=True), churn_y)
    common = {"schema": schema, "config": {}}
    save_bundle(
        folder / "churn",
        kind="churn",
        boosters={"main": churn},
        calibration=cal.to_dict(),
        metadata={"horizon_days": 90},
        **common,
    )
    save_bundle(
        folder / "clv",
        kind="clv",
        boosters={"main": clv},
        value={"smearing": 1.0},
        metadata={"horizon_days": 365},
        **common,
    )


def run_core(folder: Path) -> dict:
    """One timed run (in a subprocess): load, then predict + tiers + rank (+ top-1000 texts)."""
    from valuemodel.features import load_registry
    from valuemodel.models import load_bundle
    from valuemodel.serving import finish_list, rank_accounts, score_features

    features = pd.read_parquet(folder / "features.parquet")
    models = {k: load_bundle(folder / k, version="1") for k in ("churn", "clv")}
    registry = load_registry()
    start = time.perf_counter()
    scored = score_features(features, models)
    ranked = rank_accounts(scored)
    core = time.perf_counter() - start
    written = finish_list(ranked.head(1000), models["churn"], registry=registry)
    total = time.perf_counter() - start
    assert len(ranked) == len(features) and len(written) == 1000
    return {"seconds": core, "with_top_1000_reasons": total}


def _child(args: list[str]) -> dict:
    """Run this script's ``child`` mode; returns its JSON plus its peak RSS."""
    cmd = [sys.executable, __file__, "child", *args]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _median(runs: list[dict]) -> dict:
    keys = runs[0].keys()
    return {k: statistics.median(r[k] for r in runs) for k in keys}


def bench_core(rows: int, repeat: int) -> dict:
    folder = WORK / f"core-{rows}"
    if not (folder / "features.parquet").is_file():
        folder.mkdir(parents=True, exist_ok=True)
        train_models(synthetic_features(50_000, seed=1), folder)
        synthetic_features(rows, seed=2).to_parquet(folder / "features.parquet")
    runs = [_child(["core", str(folder)]) for _ in range(repeat)]
    return {"rows": rows, "repeat": repeat, **_median(runs)}


def _prepare_e2e(accounts: int) -> tuple[Path, str]:
    """A generated data directory of ``accounts`` and models trained on a small brokerage."""
    big, small = WORK / f"data-{accounts}", WORK / "data-train"
    uri = f"sqlite:///{WORK / 'mlflow.db'}"
    vm = [str(Path(sys.executable).with_name("valuemodel"))]
    if not big.is_dir():
        subprocess.run(
            [*vm, "generate", "--accounts", str(accounts), "--out", str(big)], check=True
        )
    if not (WORK / "mlflow.db").is_file():
        subprocess.run([*vm, "generate", "--accounts", "2000", "--out", str(small)], check=True)
        # the Python API: `valuemodel train` may not be wired into the CLI yet
        code = (
            "from valuemodel.training import train; "
            f"train({str(small)!r}, {AS_OF!r}, trials=2, tracking_uri={uri!r})"
        )
        subprocess.run([sys.executable, "-c", code], check=True)
    return big, uri


def _score_command(data: Path, out: Path, uri: str) -> list[str]:
    vm = str(Path(sys.executable).with_name("valuemodel"))
    help_text = subprocess.run([vm, "--help"], capture_output=True, text=True).stdout
    args = ["--data", str(data), "--as-of", AS_OF, "--out", str(out)]
    if " score " in help_text or "│ score" in help_text:
        return [vm, "score", *args, "--tracking-uri", uri]
    return [sys.executable, str(REPO / "serving" / "score_batch.py"), *args]


def run_e2e(command: list[str], uri: str) -> dict:
    """One timed end-to-end run of the scoring command (in a subprocess of this child)."""
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri}
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env)
    seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"seconds": seconds, "peak_mb": peak_kb / 1024}


def bench_e2e(accounts: int, repeat: int) -> dict:
    data, uri = _prepare_e2e(accounts)
    out = WORK / "ranked.csv"
    command = _score_command(data, out, uri)
    runs = [_child(["e2e", uri, *command]) for _ in range(repeat)]
    rows = sum(1 for _ in out.open()) - 1
    return {
        "accounts": accounts,
        "rows_written": rows,
        "command": " ".join(command[:2]),
        "repeat": repeat,
        **_median(runs),
    }


def child(argv: list[str]) -> None:
    if argv[0] == "core":
        result = run_core(Path(argv[1]))
        result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    else:
        result = run_e2e(argv[2:], argv[1])
    print(json.dumps(result))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        child(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description="Batch scoring benchmarks")
    parser.add_argument("what", choices=("core", "e2e"))
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--clean", action="store_true", help="delete cached setup first")
    args = parser.parse_args()
    if args.clean:
        shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True, exist_ok=True)
    if args.what == "core":
        result = bench_core(args.rows, args.repeat)
    else:
        result = bench_e2e(args.accounts, args.repeat)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
