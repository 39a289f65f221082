"""Benchmark model quality out of time: the package against a plain reference and BG/NBD.

    python benchmarks/bench_quality.py [--accounts 5000] [--seed 4099] [--trials 10]
                                       [--only generated|cdnow] [--package-only]
                                       [--config FILE] [--workdir benchmarks/_data] [--write]

Two data sets, each trained as of ``T`` through the command line (``valuemodel train``, then
``valuemodel score`` at ``T``) and judged on what happened after ``T``:

- **generated**: a brokerage from ``valuemodel generate`` with a seed never used in
  development (2023-01-01..2025-12-31, ``T`` = 2024-12-31, churn within 90 days, value over
  365 days);
- **cdnow**: the CDNOW master file shipped with ``lifetimes`` (``pip install .[bench]``) as a
  trades-only data set (customer = account, purchase = trade, dollar value = amount and
  revenue), ``T`` = 1997-12-31, horizons 181 days (26 weeks, to the last day of the data);
  churn = no purchase in ``(T, T + 181]``.

Columns: churn ROC-AUC and expected calibration error (ECE), CLV Spearman and value capture
of the top 10 % (share of the actual value in the 10 % of accounts with the highest predicted
CLV). Rows: the package; the reference model (``valuemodel.models.reference``: default
LightGBM on a small plain feature list, trained on up to three quarterly snapshots whose
labels close by ``T``; churn only); BG/NBD (``lifetimes.BetaGeoFitter`` on the purchases up to
``T``: churn = P(no purchase within the horizon), CLV = expected purchases x the account's
mean revenue per purchase). ``--package-only`` measures only the package (e.g. an older
checkout without the reference model). ``--write`` puts the section under
``## Model quality`` in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SETS = {
    "generated": {"as_of": date(2024, 12, 31), "churn": 90, "value": 365},
    "cdnow": {"as_of": date(1997, 12, 31), "churn": 181, "value": 181},
}


def generated_data(accounts: int, seed: int, out: Path) -> Path:
    if not (out / "trades.parquet").exists():
        cli = [sys.executable, "-m", "valuemodel.cli", "generate", "--accounts", str(accounts)]
        cli += ["--out", str(out), "--start", "2023-01-01", "--end", "2025-12-31"]
        subprocess.run([*cli, "--seed", str(seed)], check=True, stdout=subprocess.DEVNULL)
    return out


def cdnow_data(out: Path) -> Path:
    """CDNOW_master.txt as ``trades.parquet`` (purchases with a positive dollar value)."""
    if (out / "trades.parquet").exists():
        return out
    import lifetimes

    path = Path(lifetimes.__file__).parent / "datasets" / "CDNOW_master.txt"
    lines = path.read_text().splitlines()[1:]  # a header line, then whitespace-separated
    fields = [line.split() for line in lines if line.strip()]
    raw = pd.DataFrame(fields, columns=["id", "day", "cds", "dollars"])
    raw["dollars"] = raw.dollars.astype(float)
    raw = raw[raw.dollars > 0]
    trades = pd.DataFrame(
        {
            "account_id": raw.id.astype(str),
            "trade_date": pd.to_datetime(raw.day.astype(str), format="%Y%m%d").dt.date,
            "amount": raw.dollars.astype(float),
            "commission": raw.dollars.astype(float),
        }
    )
    out.mkdir(parents=True, exist_ok=True)
    trades.to_parquet(out / "trades.parquet", index=False)
    return out


def package_scores(
    data: Path, spec: dict, trials: int, work: Path, args_reuse: bool = False, config=None
) -> tuple[pd.DataFrame, float]:
    """Train and score through the command line; (account_id, churn_p, clv) and seconds.
    With ``args_reuse``, a list and timing already in ``work`` are read instead."""
    out, timing = work / "list.csv", work / "train_seconds.txt"
    if args_reuse and out.exists() and timing.exists():
        return _read_list(out), float(timing.read_text())
    store = work / "mlflow"
    shutil.rmtree(store, ignore_errors=True)
    store.mkdir(parents=True)
    uri = f"sqlite:///{store / 'mlflow.db'}"
    as_of = str(spec["as_of"])
    cli = [sys.executable, "-m", "valuemodel.cli"]
    start = time.perf_counter()
    train = ["train", "--data", str(data), "--as-of", as_of, "--trials", str(trials)]
    train += ["--churn-horizon", str(spec["churn"]), "--value-horizon", str(spec["value"])]
    train += ["--config", str(config)] if config else []
    subprocess.run([*cli, *train, "--tracking-uri", uri], check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    score = ["score", "--data", str(data), "--as-of", as_of, "--out", str(out)]
    subprocess.run([*cli, *score, "--tracking-uri", uri], check=True, stdout=subprocess.DEVNULL)
    timing.write_text(f"{seconds:.1f}")
    return _read_list(out), seconds


def _read_list(path: Path) -> pd.DataFrame:
    ranked = pd.read_csv(path, dtype={"account_id": str})
    ranked = ranked.rename(columns={"churn_probability": "churn_p"})
    return ranked[["account_id", "churn_p", "clv"]]


def reference_scores(data: Path, spec: dict) -> pd.DataFrame:
    """The reference model on up to three quarterly snapshots labelled by T; churn at T."""
    from valuemodel.data.reader import open_data
    from valuemodel.features import build_features, build_labels
    from valuemodel.models.reference import fit_reference, predict_reference

    as_of, horizon = spec["as_of"], spec["churn"]
    known = open_data(data).until(as_of)
    first = min(pd.read_parquet(data / "trades.parquet").trade_date)
    last = as_of - timedelta(days=horizon)
    dates = [last - timedelta(days=91 * k) for k in range(3)]
    dates = sorted(d for d in dates if (d - first).days >= 60)
    features = build_features(known, dates)
    labels = build_labels(known, dates, churn_horizon=horizon, value_horizon=horizon, end=as_of)
    train = features.merge(labels[["account_id", "as_of", "churn"]], on=["account_id", "as_of"])
    train = train[train.churn.notna()]
    booster = fit_reference(train, train.churn.to_numpy())
    now = build_features(known, as_of)
    return pd.DataFrame({"account_id": now.account_id, "churn_p": predict_reference(booster, now)})


def bgnbd_scores(data: Path, spec: dict) -> pd.DataFrame:
    """BG/NBD on the purchases (trades) up to T: churn = P(none within the churn horizon),
    CLV = expected purchases within the value horizon x mean revenue per purchase."""
    from lifetimes import BetaGeoFitter
    from lifetimes.utils import summary_data_from_transaction_data

    as_of = pd.Timestamp(spec["as_of"])
    trades = pd.read_parquet(
        data / "trades.parquet", columns=["account_id", "trade_date", "commission"]
    )
    trades["trade_date"] = pd.to_datetime(trades.trade_date)
    trades = trades[trades.trade_date <= as_of]
    trades["account_id"] = trades.account_id.astype(str)
    summary = summary_data_from_transaction_data(
        trades, "account_id", "trade_date", observation_period_end=as_of, freq="D"
    )
    fitter = BetaGeoFitter(penalizer_coef=0.001).fit(
        summary.frequency, summary.recency, summary["T"]
    )
    args = (summary.frequency, summary.recency, summary["T"])
    # P(no purchase in (T, T + t]) = P(dead) + P(alive) * E[exp(-lambda t) | alive], and the
    # posterior of lambda given alive is Gamma(r + x, alpha + T) (no dropout without a purchase)
    alive = fitter.conditional_probability_alive(*args)
    r, alpha = fitter.params_["r"], fitter.params_["alpha"]
    age = summary["T"] + alpha
    quiet = (age / (age + spec["churn"])) ** (r + summary.frequency)
    none = 1.0 - alive + alive * quiet
    expected = fitter.conditional_expected_number_of_purchases_up_to_time(spec["value"], *args)
    mean_revenue = trades.groupby("account_id").commission.mean().reindex(summary.index)
    return pd.DataFrame(
        {
            "account_id": summary.index.astype(str),
            "churn_p": np.asarray(none, dtype=float),
            "clv": np.asarray(expected * mean_revenue, dtype=float),
        }
    )


def outcomes(data: Path, spec: dict) -> pd.DataFrame:
    from valuemodel.data.reader import open_data
    from valuemodel.features import build_labels

    labels = build_labels(
        open_data(data), spec["as_of"], churn_horizon=spec["churn"], value_horizon=spec["value"]
    )
    return labels[["account_id", "churn", "value"]]


def judge(truth: pd.DataFrame, scores: pd.DataFrame) -> dict[str, float]:
    """ROC-AUC and ECE of ``churn_p``; Spearman and top-10 % capture of ``clv`` (if any).
    Accounts the scorer has no row for count as certain churners with no value."""
    from valuemodel.models import metrics

    merged = truth.merge(scores, on="account_id", how="left")
    p = merged.churn_p.fillna(1.0).to_numpy()
    out = {
        "roc_auc": metrics.roc_auc(merged.churn.to_numpy(), p),
        "ece": metrics.expected_calibration_error(merged.churn.to_numpy(), p),
    }
    if "clv" in merged:
        clv, actual = merged.clv.fillna(0.0).to_numpy(), merged.value.to_numpy()
        top = np.argsort(-clv, kind="stable")[: max(1, len(clv) // 10)]
        out["spearman"] = metrics.spearman(actual, clv)
        out["capture_top10"] = float(actual[top].sum() / actual.sum())
    return out


def run(name: str, args) -> dict:
    spec = SETS[name]
    work = args.workdir / f"quality-{name}{args.tag}"
    work.mkdir(parents=True, exist_ok=True)
    if name == "generated":
        data = generated_data(
            args.accounts, args.seed, args.workdir / f"gen-{args.accounts}-{args.seed}"
        )
    else:
        data = cdnow_data(args.workdir / "cdnow")
    truth = outcomes(data, spec)
    scores, seconds = package_scores(data, spec, args.trials, work, args.reuse, args.config)
    rows = {"valuemodel": judge(truth, scores)}
    if not args.package_only:
        rows["reference (plain LightGBM)"] = judge(truth, reference_scores(data, spec))
        rows["BG/NBD (lifetimes)"] = judge(truth, bgnbd_scores(data, spec))
    return {"rows": rows, "seconds": seconds, "n": len(truth), "rate": truth.churn.mean()}


def report(results: dict, args) -> str:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    lines = [
        "## Model quality",
        "",
        f"`python benchmarks/bench_quality.py --accounts {args.accounts} --seed {args.seed}"
        f" --trials {args.trials}`, {os.cpu_count()} vCPUs ({platform.machine()}), load"
        f" {' '.join(load)}, {date.today()}, commit {commit}. Out of time: trained as of T,"
        " judged on what happened after T.",
        "",
    ]
    keys = ("roc_auc", "ece", "spearman", "capture_top10")
    for name, out in results.items():
        spec = SETS[name]
        lines += [
            f"**{name}** (T = {spec['as_of']}, churn within {spec['churn']} days, value over"
            f" {spec['value']} days; {out['n']:,} accounts at T, churn rate {out['rate']:.1%};"
            f" train through the CLI {out['seconds']:.0f} s)",
            "",
            "| model | churn ROC-AUC | churn ECE | CLV Spearman | value capture top 10 % |",
            "|---|---|---|---|---|",
        ]
        for model, values in out["rows"].items():
            cells = [f"{values[k]:.3f}" if k in values else "-" for k in keys]
            lines.append(f"| {model} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def write_section(text: str, path: Path = ROOT / "BENCHMARKS.md") -> None:
    """Replace (or append) the ``## Model quality`` section, keeping other sections."""
    lines = path.read_text().splitlines(keepends=True) if path.exists() else ["# Benchmarks\n"]
    start = next((i for i, line in enumerate(lines) if line.strip() == "## Model quality"), None)
    if start is None:
        path.write_text("".join(lines).rstrip("\n") + "\n\n" + text)
        return
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    rest = "\n" + "".join(lines[end:]) if end < len(lines) else ""
    path.write_text("".join(lines[:start]) + text + rest)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=4099)
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--only", choices=sorted(SETS))
    parser.add_argument("--package-only", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="reuse a trained list in workdir")
    parser.add_argument("--workdir", type=Path, default=ROOT / "benchmarks" / "_data")
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    parser.add_argument("--tag", default="", help="suffix of the work folder (e.g. -before)")
    parser.add_argument("--config", type=Path, help="training configuration for the package")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    names = [args.only] if args.only else list(SETS)
    text = report({name: run(name, args) for name in names}, args)
    print(text)
    if args.write:
        write_section(text)


if __name__ == "__main__":
    main()
