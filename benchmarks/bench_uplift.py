"""Who can be saved: the uplift model against the simple alternatives, on the generator's truth.

    python benchmarks/bench_uplift.py [--accounts 4000] [--seed 11] [--trials 2]
                                      [--start 2023-01-01] [--workdir benchmarks/_data/uplift]
                                      [--write]

The generator (``simulate_brokerage``) runs quarterly retention campaigns with a random
control group and knows every holding account's true effect of contact at every campaign
(the fall in its chance of churning within 13 weeks). This script:

1. generates a brokerage from ``--start`` to 2025-12-31 and writes its eight tables (an
   earlier start gives more past campaigns);
2. trains the package (``train``, churn + value + uplift) as of a campaign date ``T`` a year
   before the end, so only earlier campaigns with a complete horizon teach the uplift model;
3. scores the population at ``T`` (``score``: ``uplift``, ``saved_value``,
   ``value_at_risk``);
4. ranks the population at ``T`` in several ways and reports, for each, the share of the
   best possible **true saved value** in its top 10 %: true uplift x the account's value,
   the revenue of the 365 days before ``T`` (what the account brings while it stays; known
   at ``T``, and the same for every ranking), against the top 10 % by true saved value
   itself.

The rankings: ``value_at_risk`` (the list without uplift); ``average effect x value at
risk`` (the campaigns' average effect is one number, so it orders accounts as value at
risk does); ``single model`` (one LightGBM churn classifier with treatment as a feature,
uplift = p(control) - p(treated), times clv); the T-, X- and DR-learners x clv (the method
the package uses is chosen here), each also bounded by the churn probability ``p`` to
``[-(1 - p), p]`` as the list bounds it; ``saved_value`` (the list: the registered model,
bounded, times clv).
Also each ranking's Qini coefficient on the true effect at ``T`` (a Qini on true
probabilities: no sampling noise) and, from ``train``, the out-of-time Qini of the uplift
model and of value at risk on the latest complete campaign.

No public randomised experiment of this shape ships inside a package on the registries this
project may use (the Hillstrom e-mail data is downloaded at run time by the libraries that
offer it), so the benchmark runs on the generator alone. ``--write`` replaces the "Uplift"
section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd

from valuemodel import engine
from valuemodel.data import open_data
from valuemodel.data.generate import simulate_brokerage, write_brokerage
from valuemodel.features.stable import scoring_features
from valuemodel.models.uplift import UpliftLearner
from valuemodel.models.uplift_metrics import qini_coefficient, top_share_of_best
from valuemodel.serving import score
from valuemodel.serving.uplift import bounded
from valuemodel.training import TrainingConfig, train
from valuemodel.training.uplift import campaign_frame, campaigns

ROOT = Path(__file__).resolve().parent
END = "2025-12-31"
SHARE = 0.1


def prepare(args) -> tuple[Path, pd.DataFrame]:
    tag = f"{args.accounts}-{args.seed}-{args.start}"
    data_dir = Path(args.workdir) / f"brokerage-{tag}"
    truth_path = data_dir.parent / f"truth-{tag}.parquet"
    if not truth_path.exists():
        tables, truth = simulate_brokerage(args.accounts, args.start, END, seed=args.seed)
        write_brokerage(tables, data_dir)
        truth.to_parquet(truth_path)
    return data_dir, pd.read_parquet(truth_path)


def evaluation_date(truth: pd.DataFrame) -> pd.Timestamp:
    """The last campaign at least 365 days before the end (its value is known)."""
    dates = sorted(pd.to_datetime(truth["date"].unique()))
    return max(d for d in dates if d <= pd.Timestamp(END) - pd.Timedelta(days=365))


def trailing_revenue(data, at: pd.Timestamp) -> pd.Series:
    rev = data.table("revenue")
    start = (at - pd.Timedelta(days=365)).date()
    rows = rev.filter((rev.date > start) & (rev.date <= at.date()))
    frame = engine.execute(rows.group_by("account_id").aggregate(value=rows.amount.sum()))
    return frame.set_index("account_id")["value"].clip(lower=0)


def learners(data, at, features: pd.DataFrame, cfg) -> dict[str, np.ndarray]:
    """Uplift of every account of ``features`` by the alternatives fitted on the campaigns
    complete at ``at``."""
    known = data.until(at.date())
    rows, complete = campaigns(known, cfg.churn_horizon, at.date())
    frame = campaign_frame(known, rows, complete, cfg, at.date(), None)
    names = [c for c in features.columns if c not in ("account_id", "as_of")]
    names = [c for c in names if c in frame.columns and not _protected(c)]
    X, t, y = frame[names], frame["treatment"].to_numpy(), frame["churn"].to_numpy()
    Xp = features[names]
    out = {}
    for method in ("t", "x", "dr"):
        out[f"{method.upper()}-learner"] = UpliftLearner(method, seed=1).fit(X, t, y).predict(Xp)
    single = UpliftLearner("t", seed=1)._booster(X.assign(treatment=t), y, "binary")
    out["single model (treatment as a feature)"] = single.predict(
        Xp.assign(treatment=0)
    ) - single.predict(Xp.assign(treatment=1))
    return out


def _protected(name: str) -> bool:
    return bool(re.search(r"age|gender|branch|manager|channel", name))


def run(args) -> pd.DataFrame:
    data_dir, truth = prepare(args)
    at = evaluation_date(truth)
    work = Path(args.workdir)
    tag = f"{args.accounts}-{args.seed}-{args.start}"
    uri = f"sqlite:///{(work / f'mlflow-{tag}.db').resolve()}"
    started = time.perf_counter()
    trained = train(data_dir, at.date(), trials=args.trials, tracking_uri=uri)
    trained_s = time.perf_counter() - started
    listed = work / f"list-{tag}.parquet"
    score(data_dir, at.date(), listed, tracking_uri=uri)
    ranked = pd.read_parquet(listed).set_index("account_id")
    data = open_data(data_dir)
    features = scoring_features(data.until(at.date()), at.date())
    features = features[features["account_id"].isin(ranked.index)].reset_index(drop=True)
    ids = features["account_id"]
    now = truth[pd.to_datetime(truth["date"]) == at].set_index("account_id")
    true_uplift = now["uplift"].reindex(ids).fillna(0.0).to_numpy()
    value = trailing_revenue(data, at).reindex(ids).fillna(0.0).to_numpy()
    true_saved = true_uplift * value
    clv = ranked["clv"].reindex(ids).to_numpy()
    var = ranked["value_at_risk"].reindex(ids).to_numpy()
    p = ranked["churn_probability"].reindex(ids).to_numpy()
    fitted = learners(data, at, features, TrainingConfig())
    rankings = {
        "value_at_risk": var,
        "average effect x value at risk": trained.uplift.metrics["average_effect"] * var,
        **{k: v * clv for k, v in fitted.items()},
        **{f"{k}, bounded by p": bounded(v, p) * clv for k, v in fitted.items()},
        "saved_value (the list)": ranked["saved_value"].reindex(ids).to_numpy(),
        "true saved value (best possible)": true_saved,
    }
    rows = [
        {
            "ranking": name,
            "share of best true saved value, top 10 %": top_share_of_best(s, true_saved, SHARE),
            "Qini on the true effect": _true_qini(s, now.reindex(ids)),
        }
        for name, s in rankings.items()
    ]
    table = pd.DataFrame(rows)
    table.attrs = {
        "as_of": at.date(),
        "accounts": len(ids),
        "train_s": trained_s,
        "uplift": trained.uplift,
        "default": ranked.attrs,
    }
    return table


def _true_qini(score: np.ndarray, truth: pd.DataFrame) -> float:
    """The Qini coefficient with the true churn probabilities in place of sampled outcomes:
    every account counted once treated and once as control."""
    p0 = truth["p_control"].fillna(0.0).to_numpy()
    p1 = truth["p_treated"].fillna(0.0).to_numpy()
    s = np.concatenate([score, score])
    t = np.concatenate([np.ones(len(score)), np.zeros(len(score))])
    return qini_coefficient(s, t, np.concatenate([p1, p0]))


def report(table: pd.DataFrame, args) -> str:
    a, u = table.attrs, table.attrs["uplift"]
    m = u.metrics
    lines = [
        f"Generator, {args.accounts:,} accounts, seed {args.seed}, {args.start}..{END}; trained "
        f"and scored at the campaign of {a['as_of']} ({a['accounts']:,} accounts in the "
        f"population; train {a['train_s']:.0f} s with {args.trials} trials on 2 shared cores).",
        "",
        "| ranking | share of best true saved value in the top 10 % | Qini on the true effect |",
        "|---|---|---|",
    ]
    for r in table.itertuples(index=False):
        lines.append(f"| {r[0]} | {r[1]:.1%} | {r[2]:.4f} |")
    lines += [
        "",
        f"Out of time in `train` (latest complete campaign {u.valid_dates[0]}, "
        f"{u.counts['valid_treated']:,} treated, {u.counts['valid_control']:,} control): "
        f"Qini {m['qini']:.4f}, ranking by value at risk {m['qini_value_at_risk']:.4f}, by "
        f"churn probability {m['qini_churn_probability']:.4f}; AUUC {m['auuc']:.4f}; saved "
        f"value per treated account in the top 10 %: {m['saved_top_saved_value']:.2f} by "
        f"saved_value, {m['saved_top_value_at_risk']:.2f} by value_at_risk. Default ranking "
        f"recorded with the model: **{u.default_rank_by}**.",
    ]
    return "\n".join(lines)


def write_section(text: str) -> None:
    path = ROOT.parent / "BENCHMARKS.md"
    body = path.read_text(encoding="utf-8")
    section = f"## Uplift (`benchmarks/bench_uplift.py`)\n\n{text}\n"
    pattern = re.compile(r"## Uplift \(`benchmarks/bench_uplift.py`\)\n.*?(?=\n## |\Z)", re.S)
    body = pattern.sub(section, body) if pattern.search(body) else body.rstrip() + "\n\n" + section
    path.write_text(body, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--trials", type=int, default=2)
    parser.add_argument("--start", default="2023-01-01")
    parser.add_argument("--workdir", default=str(ROOT / "_data" / "uplift"))
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    Path(args.workdir).mkdir(parents=True, exist_ok=True)
    text = report(run(args), args)
    print(text)
    if args.write:
        write_section(text)


if __name__ == "__main__":
    main()
