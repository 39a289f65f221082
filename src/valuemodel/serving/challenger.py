"""Champion against challenger, judged on the outcomes neither model's list touched.

A list scored with ``--compare ALIAS`` carries ``<stem>.compare.csv``: both models' ranks and
predictions for every account of the population (``serving/shadow.py``). The champion's list
is the one acted on: contacting its top accounts lowers their churn, so on every account the
champion's highest-ranked churners partly disappear and its measured ROC-AUC and capture fall,
while the challenger's do not. The comparison is therefore made on the **control accounts**
only (``score --control-share S``): they are drawn at random over the whole population and kept
out of contact, so their outcomes are what both models predicted. ``basis`` says so and ``n``
counts them. Without a control group in the compare file no verdict is given, and ``note``
says why.

The verdict rests on the ROC-AUC difference (challenger minus champion) with a paired
bootstrap interval (the same resampled control accounts for both models; fixed seed): one
model is "ahead" only when the 95 % interval excludes 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from valuemodel.serving.shadow import PREFIX, compare_paths, read_compare

BOOTSTRAP_SAMPLES = 1000
CONFIDENCE = 0.95
MIN_CONTROL = 30
"""Fewest control accounts with an outcome (and at least one churner and one stayer)."""


def challenger_section(
    past: Any, population: pd.DataFrame, value_complete: bool, judge: Any
) -> dict[str, Any] | None:
    """The ``challenger`` section of ``evaluation.json`` for a list scored with ``--compare``
    (None otherwise). ``population``: ``account_id``, ``churn``, ``value`` outcomes;
    ``judge(frame, value_complete)``: the evaluation's churn and value blocks."""
    table_path, _ = compare_paths(past.path)
    info = past.summary.get("compare")
    if not info or not table_path.is_file():
        return None
    table = read_compare(table_path)
    outcome = population[["account_id", "churn", "value"]]
    table = table.merge(outcome, on="account_id", how="inner")
    head = {"alias": info.get("alias"), "models": info.get("models"), "k": info.get("k")}
    return head | judge_challenger(table, value_complete, judge)


def judge_challenger(table: pd.DataFrame, value_complete: bool, judge: Any) -> dict[str, Any]:
    """Both models on the control accounts of ``table`` (the compare table joined to the
    outcomes ``churn`` and ``value``); no verdict without a control group."""
    if "control" not in table.columns:
        return _no_verdict(
            "the compare file has no control column: the list was scored without "
            "--control-share (or before compare files carried it); the champion's list was "
            "the one acted on, which lowers its top accounts' churn and flatters the "
            "challenger, so the two are compared only on control accounts"
        )
    held = _flag(table["control"])
    rows = table[held & table["churn"].notna()]
    if not len(rows):
        return _no_verdict(
            "no control account has an outcome: the champion's list was the one acted on, "
            "so the two models are compared only on control accounts"
        )
    out: dict[str, Any] = {"basis": "control", "n": int(len(rows))}
    scores = {}
    for name, prefix in (("champion", ""), ("challenger", PREFIX)):
        ordered = rows.sort_values(f"{prefix}rank", kind="mergesort")
        view = pd.DataFrame(
            {
                "churn": ordered["churn"],
                "value": ordered["value"],
                "churn_probability": ordered[f"{prefix}churn_probability"],
                "clv": ordered[f"{prefix}clv"],
            }
        )
        judged = judge(view, value_complete)
        out[name] = {
            "roc_auc": judged["churn"].get("roc_auc"),
            "pr_auc": judged["churn"].get("pr_auc"),
            "ece": judged["churn"].get("ece"),
            "value_spearman": judged["value"]["spearman"],
            "top": judged["churn"].get("top", []),
        }
        scores[name] = rows[f"{prefix}churn_probability"].to_numpy(float)
    y = rows["churn"].to_numpy(float)
    out["roc_auc_difference"], out["verdict"] = _verdict(y, scores, len(rows))
    return out


def _no_verdict(note: str) -> dict[str, Any]:
    return {
        "basis": None,
        "n": 0,
        "champion": None,
        "challenger": None,
        "roc_auc_difference": None,
        "verdict": None,
        "note": note,
    }


def _flag(values: pd.Series) -> pd.Series:
    if values.dtype == bool:
        return values
    text = values.astype(str).str.strip().str.lower()
    return text.isin(("true", "1", "1.0", "yes"))


def _verdict(y: np.ndarray, scores: dict[str, np.ndarray], n: int):
    churners = int(y.sum())
    if n < MIN_CONTROL or churners == 0 or churners == n:
        return None, (
            f"too few control accounts to compare: {n} with an outcome, {churners} of them "
            f"churned (needs at least {MIN_CONTROL}, with churners and stayers)"
        )
    diff, low, high = paired_auc_difference(y, scores["champion"], scores["challenger"])
    entry = {"difference": round(diff, 6), "interval": [round(low, 6), round(high, 6)]}
    said = f"ROC-AUC {diff:+.3f} ({low:+.3f} to {high:+.3f}, 95% interval) on {n} control accounts"
    if low > 0:
        return entry, f"challenger ahead: {said}"
    if high < 0:
        return entry, f"champion ahead: {said}"
    return entry, f"no difference can be told from chance: {said}"


def paired_auc_difference(
    y: Any,
    champion: Any,
    challenger: Any,
    samples: int = BOOTSTRAP_SAMPLES,
    confidence: float = CONFIDENCE,
    seed: int = 0,
) -> tuple[float, float, float]:
    """ROC-AUC of ``challenger`` minus that of ``champion`` on outcomes ``y``, and its paired
    bootstrap percentile interval (low, high): both scores on the same resampled rows."""
    y = np.asarray(y, float)
    a, b = np.asarray(champion, float), np.asarray(challenger, float)
    diff = _auc(y[None, :], b[None, :])[0] - _auc(y[None, :], a[None, :])[0]
    rng = np.random.default_rng(seed)
    diffs = []
    chunk = max(1, 1_000_000 // max(len(y), 1))
    for start in range(0, samples, chunk):
        rows = rng.integers(0, len(y), (min(chunk, samples - start), len(y)))
        diffs.append(_auc(y[rows], b[rows]) - _auc(y[rows], a[rows]))
    d = np.concatenate(diffs)
    d = d[~np.isnan(d)]
    alpha = (1 - confidence) / 2
    low, high = np.quantile(d, [alpha, 1 - alpha]) if len(d) else (np.nan, np.nan)
    return float(diff), float(low), float(high)


def _auc(y: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Row-wise ROC-AUC (Mann-Whitney, ties counted half); NaN for a row with one class."""
    ranks = rankdata(score, axis=1)
    positives = y.sum(axis=1)
    negatives = y.shape[1] - positives
    u = (ranks * y).sum(axis=1) - positives * (positives + 1) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((positives > 0) & (negatives > 0), u / (positives * negatives), np.nan)
