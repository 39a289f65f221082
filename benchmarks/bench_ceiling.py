"""How much of a data set's out-of-time gap is information, not time: cross-validation at T.

    python benchmarks/bench_ceiling.py [--only generated|cdnow] [--accounts 20000] [--seed 4099]
                                       [--workdir benchmarks/_data]

The data sets, dates and horizons of ``bench_quality.py``. The package's features at ``T``
are scored by 5-fold cross-validation *on the outcomes after T* (LightGBM, fixed
parameters): a model that sees labels from the very period it is judged on, which no real
training run has. Its ROC-AUC (churn) and CLV Spearman (Tweedie, and ``1 - P(churn)``
for comparison) estimate what the features at T can give at all; the package's out-of-time
numbers in ``bench_quality.py`` are judged against them. Learning-curve rows (a quarter and
a half of each training fold) show how much more labelled data of T's kind would add.
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


def cross_validated(X: pd.DataFrame, y: np.ndarray, objective: str, share: float = 1.0):
    """Out-of-fold predictions of a fixed-parameter LightGBM (5 folds, seeded)."""
    out = np.zeros(len(y))
    rng = np.random.default_rng(0)
    params = {**PARAMS, "objective": objective, "seed": 1, "num_threads": 1}
    for fit, judge in KFold(5, shuffle=True, random_state=0).split(X):
        fit = fit[rng.random(len(fit)) < share]
        booster = lgb.train(params, lgb.Dataset(X.iloc[fit], y[fit]), ROUNDS)
        out[judge] = booster.predict(X.iloc[judge])
    return out


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
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(SETS))
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=4099)
    parser.add_argument("--workdir", type=Path, default=ROOT / "benchmarks" / "_data")
    args = parser.parse_args()
    for name in [args.only] if args.only else list(SETS):
        print("\n".join(run(name, args)))


if __name__ == "__main__":
    main()
