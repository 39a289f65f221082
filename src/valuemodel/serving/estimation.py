"""Performance before labels: what a list should achieve if its probabilities are calibrated.

Confidence-based performance estimation: when ``p_i`` is the calibrated probability that
account ``i`` churns, each pair (i churns, j does not) occurs with probability
``p_i (1 - p_j)``, so the expected ROC-AUC of a ranking score ``s`` is::

    sum_{i != j} p_i (1 - p_j) [s_i > s_j]  (+ half for s_i = s_j)
    ----------------------------------------------------------------
                    sum_{i != j} p_i (1 - p_j)

computed in O(n log n) by sorting on ``s`` and cumulating ``1 - p``. The expected number of
churners among the first K rows of the list is the sum of their probabilities. Both are
estimates: they hold only as far as the calibration holds on the new population, which is
what ``evaluate`` checks once the outcomes are known.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from valuemodel.models.metrics import roc_auc

TOP_SHARES = (0.05, 0.1, 0.2, 0.5)
"""The list cut-offs (shares of the list) at which churners captured are estimated and judged."""


def top_sizes(n: int, shares: Sequence[float] = TOP_SHARES) -> list[int]:
    """The distinct list sizes ``ceil(share * n)`` (at least 1, at most ``n``), ascending."""
    if n <= 0:
        return []
    return sorted({min(n, max(1, math.ceil(s * n - 1e-9))) for s in shares})


def expected_roc_auc(probability: Any, score: Any = None) -> float:
    """The expected ROC-AUC of ``score`` (default: the probability itself) under ``probability``.

    NaN when fewer than two rows or when every probability is 0 or every one is 1.
    """
    p = np.asarray(probability, dtype=float)
    s = p if score is None else np.asarray(score, dtype=float)
    if p.shape != s.shape or p.ndim != 1:
        raise ValueError(f"expected two 1-D arrays of equal length, got {p.shape}, {s.shape}")
    q = 1.0 - p
    denominator = p.sum() * q.sum() - (p * q).sum()
    if len(p) < 2 or denominator <= 0:
        return math.nan
    order = np.argsort(s, kind="stable")
    s, p, q = s[order], p[order], q[order]
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    group_p = np.add.reduceat(p, starts)
    group_q = np.add.reduceat(q, starts)
    group_pq = np.add.reduceat(p * q, starts)
    q_below = np.r_[0.0, np.cumsum(group_q)[:-1]]  # non-churn weight of strictly lower scores
    numerator = (group_p * q_below).sum() + 0.5 * (group_p * group_q - group_pq).sum()
    return float(numerator / denominator)


def expected_performance(
    probability_in_rank_order: Any, shares: Sequence[float] = TOP_SHARES
) -> dict[str, Any]:
    """Expected ROC-AUC, churners and churners in the top K of a list, before any outcome.

    ``probability_in_rank_order``: the list's ``churn_probability`` sorted by ``rank``.
    Returns ``roc_auc`` (of ``churn_probability``), ``churners`` (expected count),
    ``churn_rate`` and ``top`` (``{K: expected churners among ranks 1..K}``, K as text).
    """
    p = np.asarray(probability_in_rank_order, dtype=float)
    cumulative = np.cumsum(p)
    roc = expected_roc_auc(p) if len(p) else math.nan
    return {
        "method": "confidence-based estimation from the calibrated churn probabilities",
        "accounts": int(len(p)),
        "roc_auc": None if math.isnan(roc) else round(roc, 6),
        "churners": round(float(p.sum()), 3),
        "churn_rate": round(float(p.mean()), 6) if len(p) else None,
        "top": {str(k): round(float(cumulative[k - 1]), 3) for k in top_sizes(len(p), shares)},
    }


def estimate_section(summary: dict[str, Any], frame: pd.DataFrame) -> dict[str, Any] | None:
    """The expected performance recorded at scoring time next to what was realised, both on
    the same rows: the listed accounts with an outcome (``frame`` in list order). For each K
    of the scoring summary, the first K rows of the list: churners expected (the sum of their
    probabilities) and found, among those of them with an outcome. ``at_scoring`` keeps what
    the summary recorded over every listed account."""
    expected = summary.get("expected_performance")
    if not expected:
        return None
    known = frame["churn"].notna().to_numpy()
    p = frame["churn_probability"].to_numpy(float)
    y = frame["churn"].to_numpy(float)
    top = {}
    for k in sorted(expected.get("top", {}), key=int):
        rows = known[: int(k)]
        top[k] = {
            "expected": _rounded(p[: int(k)][rows].sum()),
            "realised": int(y[: int(k)][rows].sum()),
            "with_outcome": int(rows.sum()),
            "at_scoring": expected["top"][k],
        }
    return {
        "on": "listed accounts with an outcome",
        "roc_auc": {
            "expected": _rounded(expected_roc_auc(p[known])),
            "realised": _rounded(roc_auc(y[known], p[known])),
            "at_scoring": expected.get("roc_auc"),
        },
        "churners": {
            "expected": _rounded(p[known].sum()),
            "realised": int(y[known].sum()),
            "at_scoring": expected.get("churners"),
        },
        "top": top,
    }


def _rounded(value: Any) -> float | None:
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else round(value, 6)
