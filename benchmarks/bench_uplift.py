"""Who can be saved: the uplift model against the simple alternatives, on the generator's truth.

    python benchmarks/bench_uplift.py [--accounts 4000] [--seeds 11 12 13] [--trials 2]
                                      [--start 2022-01-01] [--workdir benchmarks/_data/uplift]
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
probabilities: no sampling noise) and, from ``train``, the out-of-time validation on the
latest complete campaigns: the Qini of the uplift model and of value at risk, the
value-weighted Qini of saved value and of value at risk with the paired bootstrap interval of
the difference, and the default ranking ``train`` recorded. Each seed is a different
generated brokerage; the table gives each seed and the mean.

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
from valuemodel.serving.uplift import DO_NOT_CONTACT, bounded
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
    """One seed (``args.seed``): the table of rankings and, in ``attrs``, the training."""
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
    uplift = ranked["uplift"].reindex(ids).to_numpy()
    rankings = {
        "value_at_risk": var,
        "value_at_risk, predicted harm (uplift <= -2 pp) last": np.where(
            uplift <= DO_NOT_CONTACT, -1e18, var
        ),
        "value_at_risk, any predicted harm (uplift < 0) last": np.where(uplift < 0, -1e18, var),
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


def report(tables: dict[int, pd.DataFrame], args) -> str:
    seeds = list(tables)
    first = tables[seeds[0]]
    share = pd.concat({k: t.set_index("ranking").iloc[:, 0] for k, t in tables.items()}, axis=1)
    qini = pd.concat({k: t.set_index("ranking").iloc[:, 1] for k, t in tables.items()}, axis=1)
    lines = [
        f"Generator, {args.accounts:,} accounts, seeds {', '.join(map(str, seeds))}, "
        f"{args.start}..{END}; trained and scored at the last campaign a year before the end "
        f"({first.attrs['as_of']} for seed {seeds[0]}); {args.trials} Optuna trials; train "
        + ", ".join(f"{t.attrs['train_s']:.0f} s" for t in tables.values())
        + " on 2 shared cores.",
        "",
        "Share of the best possible true saved value in the top 10 % of the population at T "
        "(Qini on the true effect in brackets):",
        "",
        "| ranking | " + " | ".join(f"seed {k}" for k in seeds) + " | mean |",
        "|---|" + "---|" * (len(seeds) + 1),
    ]
    for name in share.index:
        cells = [f"{share.at[name, k]:.1%} ({qini.at[name, k]:.4f})" for k in seeds]
        mean = f"{share.loc[name].mean():.1%} ({qini.loc[name].mean():.4f})"
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {mean} |")
    lines += [
        "",
        "Out of time in `train` (the latest complete campaigns; value-weighted Qini = value "
        "saved per treated account, averaged over the list's cut-offs, with the 90 % paired "
        "bootstrap interval of saved_value minus value_at_risk):",
        "",
        "| seed | validation campaigns (treated / control) | Qini uplift / value at risk | "
        "value-weighted Qini saved_value / value_at_risk | difference [90 % interval] | "
        "default recorded |",
        "|---|---|---|---|---|---|",
    ]
    for k, t in tables.items():
        u = t.attrs["uplift"]
        m, c = u.metrics, u.counts
        lines.append(
            f"| {k} | {', '.join(map(str, u.valid_dates))} ({c['valid_treated']:,} / "
            f"{c['valid_control']:,}) | {m['qini']:.4f} / {m['qini_value_at_risk']:.4f} | "
            f"{m['value_qini_saved_value']:.2f} / {m['value_qini_value_at_risk']:.2f} | "
            f"{m['value_qini_difference']:+.2f} [{m['value_qini_difference_low']:+.2f}, "
            f"{m['value_qini_difference_high']:+.2f}] | {u.default_rank_by} |"
        )
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
    parser.add_argument("--seeds", type=int, nargs="+", default=[11, 12, 13])
    parser.add_argument("--trials", type=int, default=2)
    parser.add_argument("--start", default="2022-01-01")
    parser.add_argument("--workdir", default=str(ROOT / "_data" / "uplift"))
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    Path(args.workdir).mkdir(parents=True, exist_ok=True)
    tables = {}
    for seed in args.seeds:
        args.seed = seed
        tables[seed] = run(args)
        print(f"seed {seed} done", flush=True)
    text = report(tables, args)
    print(text)
    if args.write:
        write_section(text)


if __name__ == "__main__":
    main()
