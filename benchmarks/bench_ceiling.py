"""How much of a data set's out-of-time gap is information, not time: cross-validation at T.

    python benchmarks/bench_ceiling.py [--only generated|cdnow] [--accounts 20000] [--seed 4099]
                                       [--workdir benchmarks/_data] [--cadence]

The data sets, dates and horizons of ``bench_quality.py``. The package's features at ``T``
are scored by 5-fold cross-validation *on the outcomes after T* (LightGBM, fixed
parameters): a model that sees labels from the very period it is judged on, which no real
training run has. Its ROC-AUC (churn) and CLV Spearman (Tweedie, and ``1 - P(churn)``
for comparison) estimate what the features at T can give at all; the package's out-of-time
numbers in ``bench_quality.py`` are judged against them. Learning-curve rows (a quarter and
a half of each training fold) show how much more labelled data of T's kind would add.

``--cadence`` asks whether the purchase history holds more than those features use: it adds
twelve purchase-cadence features computed from the trades on or before ``T`` (trading days,
days since the first and the last, the mean and the longest gap between trading days and
their coefficient of variation, the "overdue" ratio of the days since the last trade to the
mean gap, BG/NBD's ``t_x / T``, trading days per 30 days, the days since the last trade over
the longest gap, the mean and the last day's amount), and fits the full folds with two more
LightGBM settings (more rounds and smaller trees) and CLV as ``P(buy) x E[value if bought]``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
from bench_quality import ROOT, SETS, cdnow_data, generated_data, outcomes
from sklearn.model_selection import KFold

PARAMS = {"learning_rate": 0.05, "num_leaves": 15, "min_data_in_leaf": 100, "verbosity": -1}
ROUNDS = 150
MORE = [  # (parameters, rounds) tried besides PARAMS with --cadence
    ({"learning_rate": 0.02, "num_leaves": 7, "min_data_in_leaf": 200}, 600),
    ({"learning_rate": 0.03, "num_leaves": 4, "min_data_in_leaf": 300, "lambda_l2": 10.0}, 800),
]


def cross_validated(
    X: pd.DataFrame,
    y: np.ndarray,
    objective: str,
    share: float = 1.0,
    params: dict | None = None,
    rounds: int = ROUNDS,
    fit_rows: np.ndarray | None = None,
):
    """Out-of-fold predictions of a fixed-parameter LightGBM (5 folds, seeded); each fold is
    fitted on ``share`` of its training rows (those with ``fit_rows`` true, if given)."""
    out = np.zeros(len(y))
    rng = np.random.default_rng(0)
    params = {**(params or PARAMS), "verbosity": -1}
    params |= {"objective": objective, "seed": 1, "num_threads": 1}
    for fit, judge in KFold(5, shuffle=True, random_state=0).split(X):
        fit = fit[rng.random(len(fit)) < share]
        if fit_rows is not None:
            fit = fit[fit_rows[fit]]
        booster = lgb.train(params, lgb.Dataset(X.iloc[fit], y[fit]), rounds)
        out[judge] = booster.predict(X.iloc[judge])
    return out


def cadence(data: Path, as_of) -> pd.DataFrame:
    """The twelve purchase-cadence features of ``--cadence`` per account, from the trades on
    or before ``as_of`` (the module docstring names them)."""
    trades = pd.read_parquet(
        data / "trades.parquet", columns=["account_id", "trade_date", "amount"]
    )
    trades["day"] = pd.to_datetime(trades.trade_date)
    as_of = pd.Timestamp(as_of)
    days = (
        trades[trades.day <= as_of]
        .groupby(["account_id", "day"], as_index=False)
        .amount.sum()
        .sort_values(["account_id", "day"])
    )
    by = days.groupby("account_id")
    gaps = by.day.diff().dt.days.groupby(days.account_id)
    first, last = by.day.min(), by.day.max()
    out = pd.DataFrame(
        {
            "c_days": by.day.count(),
            "c_age": (as_of - first).dt.days,
            "c_recency": (as_of - last).dt.days,
            "c_mean_gap": gaps.mean(),
            "c_max_gap": gaps.max(),
            "c_gap_cv": gaps.std() / gaps.mean(),
            "c_mean_amount": by.amount.mean(),
            "c_last_amount": by.amount.last(),
        }
    )
    out["c_overdue"] = out.c_recency / out.c_mean_gap
    out["c_tx_over_t"] = (last - first).dt.days / out.c_age.clip(lower=1)
    out["c_per_30_days"] = out.c_days / out.c_age.clip(lower=1) * 30
    out["c_recency_over_max_gap"] = out.c_recency / out.c_max_gap
    return out.reset_index()


def with_cadence(frame: pd.DataFrame, X: pd.DataFrame, data: Path, spec) -> list[str]:
    """The ``--cadence`` table: the package's features against them plus cadence."""
    from valuemodel.models import metrics

    extra = frame[["account_id"]].merge(cadence(data, spec["as_of"]), on="account_id", how="left")
    churn, value = frame.churn.to_numpy(), frame.value.to_numpy()
    lines = ["| features | LightGBM | churn ROC-AUC | CLV Spearman: Tweedie | `1 - P(churn)` "]
    lines[0] += "| `P(buy) x E[value if bought]` |"
    lines.append("|---|---|---|---|---|---|")
    wide = pd.concat([X, extra.drop(columns="account_id").set_axis(X.index)], axis=1)
    for name, cols in (("package", X), (f"package + cadence ({extra.shape[1] - 1})", wide)):
        for params, rounds in [(PARAMS, ROUNDS), *MORE]:
            p = cross_validated(cols, churn, "binary", params=params, rounds=rounds)
            setting = ", ".join(f"{k} {v}" for k, v in params.items() if k != "verbosity")
            row = [name, f"{setting}, {rounds} rounds", f"{metrics.roc_auc(churn, p):.3f}"]
            if params is PARAMS:
                tweedie = cross_validated(cols, value, "tweedie")
                size = cross_validated(cols, value, "gamma", fit_rows=value > 0)
                row += [
                    f"{metrics.spearman(value, tweedie):.3f}",
                    f"{metrics.spearman(value, 1 - p):.3f}",
                    f"{metrics.spearman(value, (1 - p) * size):.3f}",
                ]
            else:
                row += ["", "", ""]
            lines.append("| " + " | ".join(row) + " |")
    return [*lines, ""]


def run(name: str, args) -> list[str]:
    from valuemodel.data.reader import open_data
    from valuemodel.features import build_features
    from valuemodel.models import metrics

    spec = SETS[name]
    if name == "generated":
        path = args.workdir / f"gen-{args.accounts}-{args.seed}"
        data = generated_data(args.accounts, args.seed, path)
    else:
        data = cdnow_data(args.workdir / "cdnow")
    features = build_features(open_data(data).until(spec["as_of"]), spec["as_of"])
    frame = features.merge(outcomes(data, spec), on="account_id")
    X = frame.drop(columns=["account_id", "as_of", "churn", "value"])
    churn, value = frame.churn.to_numpy(), frame.value.to_numpy()
    lines = [f"**{name}** ({len(frame):,} accounts at T, {X.shape[1]} features)", ""]
    lines += ["| training share of each fold | churn ROC-AUC | CLV Spearman (Tweedie) |"]
    lines += ["|---|---|---|"]
    for share in (0.25, 0.5, 1.0):
        p = cross_validated(X, churn, "binary", share)
        v = cross_validated(X, value, "tweedie", share)
        auc, rho = metrics.roc_auc(churn, p), metrics.spearman(value, v)
        lines.append(f"| {share:.0%} | {auc:.3f} | {rho:.3f} |")
        if share == 1.0:
            alive = metrics.spearman(value, 1 - p)
    lines += ["", f"CLV Spearman of `1 - P(churn)` (all folds): {alive:.3f}", ""]
    if args.cadence:
        lines += with_cadence(frame, X, Path(data), spec)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(SETS))
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=4099)
    parser.add_argument("--workdir", type=Path, default=ROOT / "benchmarks" / "_data")
    parser.add_argument("--cadence", action="store_true", help="also with cadence features")
    args = parser.parse_args()
    for name in [args.only] if args.only else list(SETS):
        print("\n".join(run(name, args)))


if __name__ == "__main__":
    main()
