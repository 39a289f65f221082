"""The same quality for every age group and gender: the churn model's per-group table.

Automated decisions about individuals (who gets a retention call) should not treat people
unreasonably differently (China's Personal Information Protection Law, Art. 24). This module
measures, per age band and per gender, whether the churn probabilities are as well calibrated
and the list as good at finding churners as for everyone else. Pure functions of a frame of
predictions and outcomes, used by the training report and by judging a past list.

Input frame (one row per account, or per account x snapshot), columns:

- ``churn_probability``: the calibrated probability (0..1);
- ``churned``: the outcome, 0 or 1;
- ``value`` (optional): what the brokerage loses when the account churns (CNY: the list's
  ``clv``, or the contribution over the last year); without it every account counts 1;
- ``priority`` (optional): what the list ranks by; default ``churn_probability * value``
  (value at risk);
- the groups: ``age_band`` and ``gender``, or what they are derived from (``age``, or
  ``birth_year`` with ``as_of``; see :func:`protected_groups`). A missing value is the
  group ``unknown``.

The top K is the first ``top_k`` rows by ``priority`` (ties in row order), by default the top
``top_share`` of rows rounded up.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from valuemodel.models import metrics

PROTECTED_FEATURES = ("age", "gender")
"""The model features that are protected attributes (from ``accounts.birth_year``, ``gender``)."""

AGE_BANDS = (("under 30", 30), ("30-44", 45), ("45-59", 60), ("60+", math.inf))
"""Age bands as (label, first age not in the band), in order."""

UNKNOWN = "unknown"
DIMENSIONS = ("age_band", "gender")
TABLE_COLUMNS = (
    "dimension",
    "group",
    "n",
    "scored",
    "population_share",
    "mean_predicted",
    "observed_rate",
    "calibration_gap",
    "ece",
    "roc_auc",
    "churner_share",
    "top_share",
    "top_churner_share",
    "top_lost_value_share",
    "churner_capture",
    "lost_value_capture",
)
"""Columns of :func:`group_table`, in order (see there)."""


def age_band(age) -> pd.Series:
    """The age band of each age in years (``under 30``, ``30-44``, ``45-59``, ``60+``);
    ``unknown`` when missing."""
    index = age.index if isinstance(age, pd.Series) else None
    values = pd.Series(age, dtype="object").to_numpy(dtype=float, na_value=np.nan)
    edges = [upper for _, upper in AGE_BANDS]
    labels = np.array([label for label, _ in AGE_BANDS], dtype=object)
    out = labels[np.clip(np.searchsorted(edges, values, side="right"), 0, len(labels) - 1)]
    out = np.where(np.isnan(values), UNKNOWN, out)
    return pd.Series(out, index=index, dtype="object", name="age_band")


def protected_groups(frame: pd.DataFrame) -> pd.DataFrame:
    """``age_band`` and ``gender`` per row (same index), each column present only when the
    frame can tell.

    The age is ``age`` (the profile feature: year of T - birth year) or, without it,
    ``year(as_of) - birth_year``; an existing ``age_band`` column is kept as it is. Gender is
    ``gender`` as text (``M`` / ``F``).
    """
    out = {}
    if "age_band" in frame.columns:
        out["age_band"] = frame["age_band"].astype("object").where(frame["age_band"].notna())
    elif "age" in frame.columns:
        out["age_band"] = age_band(frame["age"])
    elif {"birth_year", "as_of"} <= set(frame.columns):
        years = pd.to_datetime(frame["as_of"]).dt.year.astype(float)
        age = years - pd.to_numeric(frame["birth_year"], errors="coerce")
        out["age_band"] = age_band(age)
    if "gender" in frame.columns:
        out["gender"] = frame["gender"].astype("object").where(frame["gender"].notna())
    return pd.DataFrame(
        {k: v.fillna(UNKNOWN).astype(str) for k, v in out.items()}, index=frame.index
    )


def _top_mask(priority: np.ndarray, k: int) -> np.ndarray:
    order = np.argsort(-priority, kind="stable")
    top = np.zeros(len(priority), dtype=bool)
    top[order[:k]] = True
    return top


def _share(part: float, whole: float) -> float:
    return float(part / whole) if whole > 0 else math.nan


def _scored_row(y, p, value, top, rows, totals, bins: int) -> dict[str, float]:
    lost = value * y
    return {
        "mean_predicted": float(p[rows].mean()),
        "observed_rate": float(y[rows].mean()),
        "calibration_gap": float(p[rows].mean() - y[rows].mean()),
        "ece": metrics.expected_calibration_error(y[rows], p[rows], bins),
        "roc_auc": metrics.roc_auc(y[rows], p[rows]),
        "churner_share": _share(y[rows].sum(), totals["churners"]),
        "top_share": _share((top & rows).sum(), totals["top"]),
        "top_churner_share": _share(y[top & rows].sum(), totals["top_churners"]),
        "top_lost_value_share": _share(lost[top & rows].sum(), totals["top_lost"]),
        "churner_capture": _share(y[top & rows].sum(), y[rows].sum()),
        "lost_value_capture": _share(lost[top & rows].sum(), lost[rows].sum()),
    }


def group_table(
    frame: pd.DataFrame,
    *,
    top_k: int | None = None,
    top_share: float = 0.1,
    min_group_size: int = 100,
    bins: int = 10,
) -> pd.DataFrame:
    """Per age band and per gender: calibration, ranking quality and the top K's make-up.

    ``frame``: see the module docstring. Returns one row per (``dimension``, ``group``),
    dimensions in the order ``age_band``, ``gender`` (those the frame can tell), groups in
    band order (age) or sorted (gender), ``unknown`` last; columns ``TABLE_COLUMNS``:

    - ``n``, ``population_share``: the group's rows and their share of all rows;
    - ``scored``: False when ``n < min_group_size``; such a group is named and every
      measure below is NaN (too few rows to judge);
    - ``mean_predicted``, ``observed_rate``, ``calibration_gap`` (predicted - observed),
      ``ece`` (``bins`` equal-width bins), ``roc_auc`` (NaN with one outcome);
    - ``churner_share``: the group's share of all churners;
    - ``top_share``, ``top_churner_share``, ``top_lost_value_share``: the group's share of the
      top K's accounts, churners and lost value (``value`` of the churners), to compare with
      ``population_share`` and ``churner_share``;
    - ``churner_capture``, ``lost_value_capture``: the share of the group's own churners and
      lost value that the top K finds.

    Raises ``ValueError`` naming a missing column, or when no group can be told.
    """
    y, p, value, priority = _inputs(frame)
    groups = protected_groups(frame)
    if groups.empty:
        raise ValueError("the fairness table needs age (age, or birth_year and as_of) or gender")
    k = top_k if top_k is not None else math.ceil(top_share * len(y))
    top = _top_mask(priority, max(0, min(k, len(y))))
    lost = value * y
    totals = {
        "churners": y.sum(),
        "top": top.sum(),
        "top_churners": y[top].sum(),
        "top_lost": lost[top].sum(),
    }
    rows = []
    for dimension in groups.columns:
        labels = groups[dimension].to_numpy(dtype=object)
        for group in _ordered_groups(dimension, labels):
            mask = labels == group
            n = int(mask.sum())
            row = {"dimension": dimension, "group": group, "n": n, "scored": n >= min_group_size}
            row["population_share"] = n / len(y)
            if row["scored"]:
                row |= _scored_row(y, p, value, top, mask, totals, bins)
            rows.append(row)
    return pd.DataFrame(rows).reindex(columns=list(TABLE_COLUMNS))


def _inputs(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    missing = [c for c in ("churn_probability", "churned") if c not in frame.columns]
    if missing:
        raise ValueError(f"the fairness table needs the column(s) {', '.join(missing)}")
    if len(frame) == 0:
        raise ValueError("the fairness table needs at least one row")
    y = frame["churned"].to_numpy(dtype=float, na_value=np.nan)
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("churned must be 0 or 1 in every row")
    p = frame["churn_probability"].to_numpy(dtype=float, na_value=np.nan)
    if "value" in frame.columns:
        value = np.nan_to_num(frame["value"].to_numpy(dtype=float, na_value=np.nan), nan=0.0)
    else:
        value = np.ones(len(frame))
    value = np.clip(value, 0.0, None)
    if "priority" in frame.columns:
        priority = frame["priority"].to_numpy(dtype=float, na_value=np.nan)
    else:
        priority = p * value
    return y, p, value, np.nan_to_num(priority, nan=-np.inf)


def _ordered_groups(dimension: str, labels: np.ndarray) -> list[str]:
    present = set(labels.tolist())
    if dimension == "age_band":
        known = [label for label, _ in AGE_BANDS if label in present]
    else:
        known = sorted(g for g in present if g != UNKNOWN)
    return known + ([UNKNOWN] if UNKNOWN in present else [])


def calibration_warnings(table: pd.DataFrame, max_gap: float) -> list[str]:
    """One sentence per scored group whose ``|calibration_gap|`` exceeds ``max_gap``."""
    out = []
    for row in table.itertuples(index=False):
        if row.scored and abs(row.calibration_gap) > max_gap:
            direction = "over" if row.calibration_gap > 0 else "under"
            out.append(
                f"churn model {direction}estimates churn for {row.dimension} {row.group}: "
                f"mean predicted {row.mean_predicted:.3f} against {row.observed_rate:.3f} "
                f"observed over {row.n:,} rows (gap {abs(row.calibration_gap):.3f} > "
                f"{max_gap:g})"
            )
    return out


def unscored_groups(table: pd.DataFrame) -> list[str]:
    """``"<dimension> <group> (<n> rows)"`` for each group too small to be scored."""
    small = table.loc[~table["scored"].astype(bool)]
    return [f"{r.dimension} {r.group} ({r.n} rows)" for r in small.itertuples(index=False)]


def top_capture(outcome, score, share: float) -> float:
    """The share of ``sum(outcome)`` found in the top ``ceil(share * n)`` rows by ``score``
    (ties in row order); NaN when the outcome sums to 0. With ``outcome`` = churned x value,
    the lost value a list of that length would reach."""
    outcome = np.asarray(outcome, dtype=float)
    score = np.nan_to_num(np.asarray(score, dtype=float), nan=-np.inf)
    k = max(0, min(len(outcome), math.ceil(share * len(outcome))))
    return _share(outcome[_top_mask(score, k)].sum(), outcome.sum())
