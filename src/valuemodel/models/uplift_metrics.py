"""How well a ranking finds the accounts that contact keeps: Qini, AUUC, uplift by decile.

All functions take a ranking ``score`` (higher = contact first), the ``treatment`` flag
(1 = treated, 0 = control, assigned at random) and the churn ``outcome`` (1 = churned), and
optionally a ``value`` per account (then churners count by their value: saved money instead
of saved accounts).

**Qini curve** (Radcliffe 2007), for churn: after the top ``k`` accounts by score,
``Q(k) = C_c(k) * N_t(k) / N_c(k) - C_t(k)``: the churners (or churned value) the control
rate predicts among the treated of the top ``k``, minus those that churned: the churn that
contact prevented. It is divided by the number of treated accounts, so ``Q(N)`` is the
average effect (control churn rate minus treated churn rate).

**Qini coefficient**: the mean, over every cut-off ``k``, of ``Q(k)`` minus the random
ranking's line ``k / N * Q(N)``: the area between the curve and the diagonal, in units of
the average effect. Above zero: the ranking puts the accounts contact keeps first.

**AUUC**: the mean over cut-offs of the uplift curve ``(r_c(k) - r_t(k)) * k / N`` (rates in
the top ``k``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats


def _ordered(score, treatment, outcome, value=None):
    score = np.asarray(score, dtype=float)
    order = np.argsort(-score, kind="stable")
    t = np.asarray(treatment, dtype=float)[order]
    y = np.asarray(outcome, dtype=float)[order]
    w = np.ones_like(y) if value is None else np.asarray(value, dtype=float)[order]
    return t, y, w


def _qini(t: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The Qini curve of rows already in ranking order."""
    n_t, n_c = np.cumsum(t), np.cumsum(1 - t)
    c_t, c_c = np.cumsum(t * y * w), np.cumsum((1 - t) * y * w)
    expected = np.divide(c_c * n_t, n_c, out=np.zeros_like(c_c), where=n_c > 0)
    return (expected - c_t) / max(n_t[-1], 1.0) if len(t) else np.empty(0)


def _area(q: np.ndarray) -> float:
    if not len(q):
        return float("nan")
    return float(np.mean(q - np.arange(1, len(q) + 1) / len(q) * q[-1]))


def qini_curve(score, treatment, outcome, value=None) -> pd.DataFrame:
    """One row per cut-off ``k`` (1..N): ``share`` (k / N) and ``qini`` (see the module)."""
    t, y, w = _ordered(score, treatment, outcome, value)
    share = np.arange(1, len(t) + 1) / max(len(t), 1)
    return pd.DataFrame({"share": share, "qini": _qini(t, y, w)})


def qini_coefficient(score, treatment, outcome, value=None) -> float:
    """The area between the Qini curve and the random ranking's diagonal (module docstring)."""
    return _area(_qini(*_ordered(score, treatment, outcome, value)))


def _descending_ranks(score: np.ndarray, parts: list[np.ndarray]) -> np.ndarray:
    """Each score's place among the distinct scores of its group (``parts``: the rows of
    each), highest first (equal scores, and all NaNs, share one, NaNs last as ``argsort``
    puts them); 16-bit when every group's fit (a group of up to 65,536 rows always does)."""
    out = np.zeros(len(score), dtype=np.int64)
    for rows in parts:
        out[rows] = np.unique(-score[rows], return_inverse=True)[1].reshape(-1)
    return out.astype(np.uint16) if out.max(initial=0) < 1 << 16 else out


def qini_difference(
    score_a,
    score_b,
    treatment,
    outcome,
    value=None,
    groups=None,
    level: float = 0.9,
    draws: int = 1000,
    seed: int = 0,
) -> dict[str, float]:
    """Ranking ``a``'s Qini coefficient minus ranking ``b``'s on the same accounts, with a
    paired bootstrap interval.

    With ``groups`` (e.g. the campaign of each row) each group is ranked and judged on its
    own and the coefficients are averaged, weighted by the group's rows. The bootstrap draws
    accounts with replacement within each group and judges both rankings on every draw, so
    the noise the two share (which accounts happened to churn) cancels in the difference.
    Returns ``a``, ``b``, ``difference`` and its ``level`` interval ``low``, ``high`` (the
    percentiles of ``draws`` draws; ``seed`` fixes them).
    """
    a, b = np.asarray(score_a, dtype=float), np.asarray(score_b, dtype=float)
    t, y = np.asarray(treatment, dtype=float), np.asarray(outcome, dtype=float)
    w = np.ones_like(y) if value is None else np.asarray(value, dtype=float)
    keys = np.zeros(len(t)) if groups is None else pd.factorize(np.asarray(groups))[0]
    parts = [np.flatnonzero(keys == k) for k in np.unique(keys)]
    sizes = np.array([len(p) for p in parts], dtype=float)

    # Each draw is ranked by a stable sort of its scores' places in one descending order of
    # the distinct scores (ties share one): the order the scores themselves give, ties kept
    # in draw order, so the same numbers; but small integers sort by radix, about 9x faster
    # than floats (at 100,000 accounts the bootstrap sorted two campaigns of 38,000 rows
    # 4,000 times: 28 of its 41 s).
    rank_a, rank_b = _descending_ranks(a, parts), _descending_ranks(b, parts)

    def judged(rows: list[np.ndarray]) -> tuple[float, float]:
        qa = [_area(_qini(*(x[r[np.argsort(rank_a[r], kind="stable")]] for x in (t, y, w))))
              for r in rows]  # fmt: skip
        qb = [_area(_qini(*(x[r[np.argsort(rank_b[r], kind="stable")]] for x in (t, y, w))))
              for r in rows]  # fmt: skip
        return float(np.average(qa, weights=sizes)), float(np.average(qb, weights=sizes))

    qa, qb = judged(parts)
    rng = np.random.default_rng(seed)
    diffs = np.array(
        [np.subtract(*judged([p[rng.integers(0, len(p), len(p))] for p in parts]))
         for _ in range(draws)]
    )  # fmt: skip
    tail = (1.0 - level) / 2 * 100
    low, high = np.nanpercentile(diffs, [tail, 100 - tail]) if draws else (np.nan, np.nan)
    return {"a": qa, "b": qb, "difference": qa - qb, "low": float(low), "high": float(high)}


def auuc(score, treatment, outcome) -> float:
    """The mean over cut-offs of ``(control rate - treated rate in the top k) * k / N``."""
    t, y, _ = _ordered(score, treatment, outcome)
    if not len(t):
        return float("nan")
    n_t, n_c = np.cumsum(t), np.cumsum(1 - t)
    r_t = np.divide(np.cumsum(t * y), n_t, out=np.zeros(len(t)), where=n_t > 0)
    r_c = np.divide(np.cumsum((1 - t) * y), n_c, out=np.zeros(len(t)), where=n_c > 0)
    both = (n_t > 0) & (n_c > 0)
    return float(np.mean(np.where(both, r_c - r_t, 0.0) * np.arange(1, len(t) + 1) / len(t)))


def uplift_by_decile(score, treatment, outcome, bins: int = 10, level: float = 0.9):
    """Realised uplift per decile of ``score`` (1 = highest), with a normal interval.

    Columns: ``decile``, ``n_treated``, ``n_control``, ``churn_treated``, ``churn_control``,
    ``uplift`` (control rate - treated rate), ``low``, ``high`` (a ``level`` interval of
    the difference of two proportions; NaN where a group is empty), ``predicted`` (mean score).
    """
    score = np.asarray(score, dtype=float)
    t = np.asarray(treatment, dtype=float)
    y = np.asarray(outcome, dtype=float)
    order = np.argsort(-score, kind="stable")
    decile = np.empty(len(score), dtype=int)
    decile[order] = np.arange(len(score)) * bins // max(len(score), 1) + 1
    z = stats.norm.ppf(0.5 + level / 2)
    rows = []
    for d in range(1, bins + 1):
        m = decile == d
        nt, nc = int((m & (t == 1)).sum()), int((m & (t == 0)).sum())
        rt = y[m & (t == 1)].mean() if nt else np.nan
        rc = y[m & (t == 0)].mean() if nc else np.nan
        se = np.sqrt(rt * (1 - rt) / nt + rc * (1 - rc) / nc) if nt and nc else np.nan
        lift = rc - rt
        rows.append((d, nt, nc, rt, rc, lift, lift - z * se, lift + z * se, score[m].mean()))
    columns = ["decile", "n_treated", "n_control", "churn_treated", "churn_control", "uplift",
               "low", "high", "predicted"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def top_share_of_best(score, true_value, share: float = 0.1) -> float:
    """The true value kept by the top ``share`` of accounts by ``score``, as a share of the
    most any ``share`` of accounts could keep (the top by ``true_value`` itself)."""
    v = np.asarray(true_value, dtype=float)
    k = max(int(round(share * len(v))), 1)
    best = np.sort(v)[::-1][:k].sum()
    got = v[np.argsort(-np.asarray(score, dtype=float), kind="stable")[:k]].sum()
    return float(got / best) if best > 0 else float("nan")
