"""Out-of-time metrics for the churn and value models, as plain functions of arrays.

Churn (``y`` in {0, 1}, ``score`` any monotone risk score, ``proba`` a probability):
ROC-AUC, PR-AUC (average precision), Brier score, the calibration bins and expected calibration
error, lift and capture in the top decile, and the gains curve. Value (``actual`` revenue >= 0,
``predicted``): normalized Gini, Spearman rank correlation, decile MAPE and aggregate error.

"Top decile" and "decile" always mean the accounts ranked by the score, highest first: the
first ``ceil(n / 10)`` rows. Ties in the score are resolved by averaging the outcome over the
tied group, so a score with many equal values (a baseline with many zeros) is neither helped
nor hurt by the order of the rows.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score


def _arrays(y, score) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=float)
    score = np.asarray(score, dtype=float)
    if y.shape != score.shape or y.ndim != 1:
        raise ValueError(f"expected two 1-D arrays of equal length, got {y.shape}, {score.shape}")
    if len(y) == 0:
        raise ValueError("metrics need at least one row")
    return y, score


def _ranked_outcome(y: np.ndarray, score: np.ndarray) -> np.ndarray:
    """``y`` sorted by ``score`` descending, each tie group replaced by its mean."""
    order = np.argsort(-score, kind="stable")
    s, out = score[order], y[order].copy()
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    sums = np.add.reduceat(out, starts)
    sizes = np.diff(np.r_[starts, len(s)])
    return np.repeat(sums / sizes, sizes)


def _top_decile_size(n: int) -> int:
    return max(1, math.ceil(n / 10))


# --- churn -------------------------------------------------------------------------------------


def roc_auc(y, score) -> float:
    """Area under the ROC curve (NaN when ``y`` has one class)."""
    y, score = _arrays(y, score)
    return float(roc_auc_score(y, score)) if len(np.unique(y)) == 2 else math.nan


def pr_auc(y, score) -> float:
    """Area under the precision-recall curve, as average precision (NaN without positives)."""
    y, score = _arrays(y, score)
    return float(average_precision_score(y, score)) if y.sum() > 0 else math.nan


def brier(y, proba) -> float:
    """Mean squared difference between the probability and the 0/1 outcome."""
    y, proba = _arrays(y, proba)
    return float(brier_score_loss(y, proba))


def calibration_bins(y, proba, bins: int = 10) -> pd.DataFrame:
    """The reliability table: one row per non-empty bin of ``bins`` equal-width probability
    bins on [0, 1], columns ``lower``, ``upper``, ``n`` (rows), ``predicted`` (mean
    probability) and ``observed`` (mean outcome).

    Bin ``b`` holds ``b / bins <= proba < (b + 1) / bins``; a probability of exactly 1 falls in
    the last bin. Away from the bin edges ``predicted`` and ``observed`` equal
    ``sklearn.calibration.calibration_curve``'s (``strategy="uniform"``), which returns no
    counts and puts a probability on an edge in the lower bin; the table is the one binning
    behind the ECE and the calibration figure.
    """
    y, proba = _arrays(y, proba)
    idx = np.clip((proba * bins).astype(int), 0, bins - 1)
    counts = np.bincount(idx, minlength=bins)
    seen = np.flatnonzero(counts)
    return pd.DataFrame(
        {
            "lower": seen / bins,
            "upper": (seen + 1) / bins,
            "n": counts[seen],
            "predicted": np.bincount(idx, proba, bins)[seen] / counts[seen],
            "observed": np.bincount(idx, y, bins)[seen] / counts[seen],
        }
    )


def expected_calibration_error(y, proba, bins: int = 10) -> float:
    """ECE over the bins of :func:`calibration_bins`:
    ``sum_b n_b / n * |mean(y in b) - mean(proba in b)|``."""
    table = calibration_bins(y, proba, bins)
    gap = (table["observed"] - table["predicted"]).abs()
    return float((table["n"] * gap).sum() / table["n"].sum())


def lift_top_decile(y, score) -> float:
    """Churn rate in the top decile by score divided by the overall churn rate (for a value
    ``y``, such as revenue: the top decile's mean divided by the overall mean)."""
    y, score = _arrays(y, score)
    if y.sum() == 0:
        return math.nan
    top = _ranked_outcome(y, score)[: _top_decile_size(len(y))]
    return float(top.mean() / y.mean())


def capture_top_decile(y, score) -> float:
    """Share of all churners found in the top decile by score."""
    y, score = _arrays(y, score)
    if y.sum() == 0:
        return math.nan
    top = _ranked_outcome(y, score)[: _top_decile_size(len(y))]
    return float(top.sum() / y.sum())


def gains_curve(y, score, points: int = 10) -> pd.DataFrame:
    """Cumulative gains: columns ``fraction_contacted`` and ``fraction_captured``.

    Row ``k`` (k = 0..points) is the share of positives (or of total value, for a non-binary
    ``y``) found among the top ``k / points`` of rows ranked by score; row 0 is (0, 0).
    """
    y, score = _arrays(y, score)
    cum = np.r_[0.0, np.cumsum(_ranked_outcome(y, score))]
    total = cum[-1]
    fractions = np.linspace(0.0, 1.0, points + 1)
    sizes = np.ceil(fractions * len(y) - 1e-9).astype(int)
    captured = cum[sizes] / total if total > 0 else np.full(len(sizes), math.nan)
    return pd.DataFrame({"fraction_contacted": fractions, "fraction_captured": captured})


def churn_metrics(y, proba, score=None) -> dict[str, float]:
    """All churn metrics; ``score`` (default ``proba``) ranks, ``proba`` is calibrated.

    Pass ``proba=None`` for a score that is not a probability (the recency rule): Brier and
    ECE are then left out.
    """
    score = proba if score is None else score
    out = {
        "roc_auc": roc_auc(y, score),
        "pr_auc": pr_auc(y, score),
        "lift_top_decile": lift_top_decile(y, score),
        "capture_top_decile": capture_top_decile(y, score),
    }
    if proba is not None:
        out["brier"] = brier(y, proba)
        out["ece"] = expected_calibration_error(y, proba)
    return out


# --- value -------------------------------------------------------------------------------------


def _gini(actual: np.ndarray, predicted: np.ndarray) -> float:
    ranked = _ranked_outcome(actual, predicted)
    n = len(actual)
    cum_share = np.cumsum(ranked) / ranked.sum()
    return float((cum_share - np.arange(1, n + 1) / n).sum() / n)


def normalized_gini(actual, predicted) -> float:
    """Gini of ``actual`` ordered by ``predicted``, divided by the Gini of the perfect order.

    1 = ranks revenue perfectly, 0 = no better than random, < 0 = worse than random. NaN
    when the actual values are all equal (nothing to rank).
    """
    actual, predicted = _arrays(actual, predicted)
    if actual.sum() <= 0:
        return math.nan
    best = _gini(actual, actual)
    return _gini(actual, predicted) / best if best > 0 else math.nan


def spearman(actual, predicted) -> float:
    """Spearman rank correlation (ties averaged); NaN when either side is constant."""
    actual, predicted = _arrays(actual, predicted)
    if np.ptp(actual) == 0 or np.ptp(predicted) == 0:
        return math.nan
    return float(spearmanr(actual, predicted).statistic)


def decile_mape(actual, predicted) -> float:
    """Mean over deciles (by ``predicted``, highest first) of ``|sum pred - sum actual| / sum
    actual``; deciles whose actual sum is 0 are skipped (NaN when all are).

    Deciles are ten contiguous groups of the ranked rows, sizes differing by at most one.
    """
    actual, predicted = _arrays(actual, predicted)
    order = np.argsort(-predicted, kind="stable")
    errors = []
    for part in np.array_split(order, 10):
        if len(part) == 0:
            continue
        a = actual[part].sum()
        if a > 0:
            errors.append(abs(predicted[part].sum() - a) / a)
    return float(np.mean(errors)) if errors else math.nan


def aggregate_error(actual, predicted) -> float:
    """Signed relative error of the total: ``(sum pred - sum actual) / sum actual``."""
    actual, predicted = _arrays(actual, predicted)
    total = actual.sum()
    return float((predicted.sum() - total) / total) if total > 0 else math.nan


def value_metrics(actual, predicted) -> dict[str, float]:
    """All value metrics for one prediction."""
    return {
        "normalized_gini": normalized_gini(actual, predicted),
        "spearman": spearman(actual, predicted),
        "decile_mape": decile_mape(actual, predicted),
        "aggregate_error": aggregate_error(actual, predicted),
    }
