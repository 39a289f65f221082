"""Which uplift learner, and which out-of-time check, on several generated brokerages.

    python benchmarks/bench_uplift_variants.py [--accounts 4000] [--seeds 11 12 13]
                                               [--start 2022-01-01] [--trials 1]

Per seed: generate (as ``bench_uplift.py``), ``train`` as of the last campaign a year before the
end, and cache the campaign frame (features, group, churn label, the churn and clv models'
predictions) and the population at ``T`` with the generator's truth. Then for each learner
variant:

- **out of time, as in train** (:func:`valuemodel.training.uplift.validation_split`): fit on
  the older campaigns, rank the validation campaigns by bounded saved value and by value at
  risk, and report the value-weighted Qini difference with its paired bootstrap interval
  (:func:`valuemodel.training.uplift.compare_rankings`), and the decision;
- **on the truth at T**: the learner refitted on every complete campaign ranks the population
  at ``T``; the share of the best true saved value in its top 10 % (value: the revenue of the
  365 days before ``T``), and the same for value at risk.

Prints one table; nothing is written to BENCHMARKS.md by this script.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
from bench_uplift import ROOT, evaluation_date, prepare, trailing_revenue

from valuemodel.data import open_data
from valuemodel.features.stable import scoring_features
from valuemodel.models.schema import FeatureSchema
from valuemodel.models.tracking import Tracker
from valuemodel.models.uplift import DEFAULT_PARAMS, UpliftLearner
from valuemodel.models.uplift_metrics import qini_difference, top_share_of_best
from valuemodel.serving.uplift import bounded
from valuemodel.training import TrainingConfig, train
from valuemodel.training.uplift import (
    _features,
    campaign_frame,
    campaigns,
    compare_rankings,
    validation_split,
)

VARIANTS = {
    "T, 150 rounds, leaf 100 (before)": dict(method="t"),
    "T, 50 rounds": dict(method="t", rounds=50),
    "T, leaf 300": dict(method="t", params={"min_data_in_leaf": 300}),
    "T, 50 rounds, leaf 300": dict(method="t", rounds=50, params={"min_data_in_leaf": 300}),
    "T, churn top 10 features": dict(method="t", top=10),
    "T, 50 rounds, leaf 300, top 10": dict(
        method="t", rounds=50, params={"min_data_in_leaf": 300}, top=10
    ),
    "X, 150 rounds": dict(method="x"),
    "X, 50 rounds, leaf 300": dict(method="x", rounds=50, params={"min_data_in_leaf": 300}),
    "DR, 50 rounds, leaf 300": dict(method="dr", rounds=50, params={"min_data_in_leaf": 300}),
    "T, relative x p": dict(method="t", relative=True),
    "T, relative x p, leaf 300": dict(method="t", relative=True, params={"min_data_in_leaf": 300}),
    "T, relative x p, 50 rounds": dict(method="t", relative=True, rounds=50),
    "X, leaf 300": dict(method="x", params={"min_data_in_leaf": 300}),
    "offset: log-odds effect from the average, 50 rounds, leaf 300": dict(offset=(50, 300)),
    "offset, 100 rounds, leaf 200": dict(offset=(100, 200)),
    "offset x churn model p, 50 rounds, leaf 300": dict(offset=(50, 300), relative=True),
    "T, bagged: mean of 5 seeds": dict(bag=5),
}


class _Bagged:
    """The mean effect of ``n`` T-learners that differ only in their seed (row and feature
    subsampling)."""

    def __init__(self, n: int):
        self.n = n

    def fit(self, X, t, y):
        self.members_ = [UpliftLearner(seed=s).fit(X, t, y) for s in range(1, self.n + 1)]
        return self

    def predict(self, X) -> np.ndarray:
        return np.mean([m.predict(X) for m in self.members_], axis=0)


class _Offset:
    """Control churn model; the treated model starts from its log-odds minus the average
    log-odds effect and learns only how the effect departs from the average."""

    def __init__(self, rounds: int, leaf: int):
        self.rounds, self.leaf = rounds, leaf

    def fit(self, X, t, y):
        from scipy.special import logit

        t, y = np.asarray(t), np.asarray(y, dtype=float)
        base = UpliftLearner(seed=1)._booster(X[t == 0], y[t == 0], "binary")
        rate = np.clip([y[t == 0].mean(), y[t == 1].mean()], 1e-3, 1 - 1e-3)
        self.average_ = float(logit(rate[0]) - logit(rate[1]))
        init = base.predict(X[t == 1], raw_score=True) - self.average_
        params = {**DEFAULT_PARAMS, "objective": "binary", "min_data_in_leaf": self.leaf,
                  "verbosity": -1, "seed": 1, "num_threads": 1}  # fmt: skip
        data = lgb.Dataset(X[t == 1], y[t == 1], init_score=init, free_raw_data=False)
        self.base_, self.shift_ = base, lgb.train(params, data, num_boost_round=self.rounds)
        return self

    def log_odds_effect(self, X) -> np.ndarray:
        return self.average_ - self.shift_.predict(X, raw_score=True)

    def predict(self, X) -> np.ndarray:
        from scipy.special import expit

        raw = self.base_.predict(X, raw_score=True)
        return expit(raw) - expit(raw - self.log_odds_effect(X))


def _effect(learner, X: pd.DataFrame, p, relative: bool) -> np.ndarray:
    """The learner's effect, or with ``relative`` the T-learner's relative fall in churn
    (1 - p_treated / p_control) times the churn model's probability ``p``."""
    if isinstance(learner, _Offset):
        if not relative:
            return bounded(learner.predict(X), p)
        from scipy.special import expit, logit

        q = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
        return bounded(q - expit(logit(q) - learner.log_odds_effect(X)), p)
    if not relative:
        return bounded(learner.predict(X), p)
    p_c = learner.boosters_["control"].predict(X)
    p_t = learner.boosters_["treated"].predict(X)
    share = np.clip(1.0 - p_t / np.maximum(p_c, 1e-6), -1.0, 1.0)
    return bounded(share * np.asarray(p, dtype=float), p)


def cached(args, seed: int) -> dict[str, pd.DataFrame]:
    work = Path(args.workdir)
    tag = f"{args.accounts}-{seed}-{args.start}"
    path = work / f"variants-{tag}"
    if (path / "population.parquet").exists():
        return {n: pd.read_parquet(path / f"{n}.parquet") for n in ("campaigns", "population")}
    args.seed = seed
    data_dir, truth = prepare(args)
    at = evaluation_date(truth)
    uri = f"sqlite:///{(work / f'mlflow-variants-{tag}.db').resolve()}"
    started = time.perf_counter()
    train(data_dir, at.date(), trials=args.trials, tracking_uri=uri)
    print(f"seed {seed}: trained in {time.perf_counter() - started:.0f} s", flush=True)
    tracker = Tracker(uri, read_only=True)
    churn, clv = tracker.load("churn"), tracker.load("clv")
    cfg = TrainingConfig()
    data = open_data(data_dir)
    known = data.until(at.date())
    rows, complete = campaigns(known, cfg.churn_horizon, at.date())
    frame = campaign_frame(known, rows, complete, cfg, at.date(), None)
    features = _features(frame, cfg)
    camp = features.assign(
        as_of=frame["as_of"],
        treatment=frame["treatment"],
        churn=frame["churn"],
        p=churn.predict(features),
        clv=clv.predict(features),
    )
    camp = _with_truth(camp, truth, frame["account_id"])
    now = scoring_features(known, at.date())
    pop = now[[c for c in features.columns if c in now.columns]].assign(
        as_of=pd.Timestamp(at), p=churn.predict(now), clv=clv.predict(now)
    )
    pop = _with_truth(pop, truth, now["account_id"])
    value = trailing_revenue(data, at).reindex(now["account_id"]).fillna(0.0).to_numpy()
    pop["value"] = value
    gain = churn.booster.feature_importance(importance_type="gain")
    order = np.argsort(-gain)
    names = np.asarray(churn.booster.feature_name())[order]
    pop.attrs = {}
    path.mkdir(parents=True, exist_ok=True)
    camp.to_parquet(path / "campaigns.parquet")
    pop.to_parquet(path / "population.parquet")
    pd.DataFrame({"feature": names}).to_parquet(path / "importance.parquet")
    return {"campaigns": camp, "population": pop}


def _with_truth(frame: pd.DataFrame, truth: pd.DataFrame, ids: pd.Series) -> pd.DataFrame:
    t = truth.assign(date=pd.to_datetime(truth["date"])).set_index(["account_id", "date"])
    key = pd.MultiIndex.from_arrays([ids.astype(str), pd.to_datetime(frame["as_of"])])
    return frame.assign(true_uplift=t["uplift"].reindex(key).fillna(0.0).to_numpy())


def run_variant(spec: dict, camp: pd.DataFrame, pop: pd.DataFrame, top: list[str]):
    spec = dict(spec)
    keep = spec.pop("top", None)
    relative = spec.pop("relative", False)
    labels = ("as_of", "treatment", "churn", "p", "clv", "true_uplift", "value")
    names = [c for c in camp.columns if c not in labels]
    if keep:
        names = [c for c in top if c in names][:keep]
    dates = sorted(camp["as_of"].unique())
    valid_dates = validation_split([pd.Timestamp(d).date() for d in dates])
    valid_mask = camp["as_of"].isin(pd.to_datetime(valid_dates))
    train_rows, valid = camp[~valid_mask], camp[valid_mask]
    offset, bag = spec.pop("offset", None), spec.pop("bag", None)

    def make(**_):
        if bag:
            return _Bagged(bag)
        return _Offset(*offset) if offset else UpliftLearner(seed=1, **spec)

    schema = FeatureSchema.from_frame(train_rows[names])
    learner = make().fit(
        schema.prepare(train_rows[names]), train_rows["treatment"], train_rows["churn"]
    )
    up = _effect(learner, schema.prepare(valid[names]), valid["p"], relative)
    cmp = compare_rankings(valid, up, valid["p"].to_numpy(), valid["clv"].to_numpy())
    oot_true = top_share_of_best(up * valid["clv"], valid["true_uplift"] * valid["clv"].clip(0))
    oot_true_var = top_share_of_best(
        valid["p"] * valid["clv"], valid["true_uplift"] * valid["clv"].clip(0)
    )
    schema = FeatureSchema.from_frame(camp[names])
    final = make().fit(schema.prepare(camp[names]), camp["treatment"], camp["churn"])
    saved = _effect(final, schema.prepare(pop[names]), pop["p"], relative) * pop["clv"]
    best = pop["true_uplift"] * pop["value"]
    groups = valid["as_of"].to_numpy()
    var = valid["p"] * valid["clv"]
    plain = qini_difference(up, var, valid["treatment"], valid["churn"], groups=groups, draws=0)
    return {
        "qini": plain["a"],
        "qini_var": plain["b"],
        "chosen": int(cmp["saved_value"] > 0 and cmp["low"] > 0),
        "oot_diff": cmp["difference"],
        "oot_low": cmp["low"],
        "oot_high": cmp["high"],
        "oot_saved": cmp["saved_value"],
        "oot_var": cmp["value_at_risk"],
        "oot_true_top10": oot_true,
        "oot_true_top10_var": oot_true_var,
        "T_top10": top_share_of_best(saved, best),
        "T_top10_var": top_share_of_best(pop["p"] * pop["clv"], best),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=4000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[11, 12, 13])
    parser.add_argument("--trials", type=int, default=1)
    parser.add_argument("--start", default="2022-01-01")
    parser.add_argument("--workdir", default=str(ROOT / "_data" / "uplift"))
    parser.add_argument("--only", nargs="*", default=None)
    args = parser.parse_args()
    Path(args.workdir).mkdir(parents=True, exist_ok=True)
    rows = []
    for seed in args.seeds:
        data = cached(args, seed)
        tag = f"{args.accounts}-{seed}-{args.start}"
        top = pd.read_parquet(Path(args.workdir) / f"variants-{tag}" / "importance.parquet")
        for name, spec in VARIANTS.items():
            if args.only and name not in args.only:
                continue
            started = time.perf_counter()
            out = run_variant(spec, data["campaigns"], data["population"], list(top.feature))
            out |= {"seed": seed, "variant": name, "s": time.perf_counter() - started}
            rows.append(out)
            print(pd.DataFrame([out]).round(4).to_string(index=False, header=False), flush=True)
    table = pd.DataFrame(rows)
    pd.set_option("display.width", 250)
    print(table.round(4).to_string(index=False))
    print(table.groupby("variant").mean(numeric_only=True).round(4).to_string())


if __name__ == "__main__":
    main()
