"""How far a feature's distribution moves: PSI over fixed bins, and each feature's normal
movement between training snapshots.

A feature's bins come from its profile (``schema``): decile edges for a continuous number,
one bin per value for a discrete one (at most ``DISCRETE_VALUES`` distinct values, e.g. a
flag or a count of a few), the categories for a categorical one; missing values form a bin
of their own and unseen categories an "other" bin. Then

    PSI = sum over bins of (actual - expected) * ln(actual / expected)

with each share floored at ``EPSILON``.

**Normal movement.** Some features move every month whatever the customers do: the tenure
grows, returns and P&L follow the market, a window's count depends on how many trading days
it held. A PSI threshold alone calls that drift on every scoring date. So training measures,
for each feature, the PSI between its training snapshots (and the training as-of date) that
lie ``k`` months apart, in the bins of the profile, for every ``k`` it can: the
``MOVEMENT_QUANTILE`` quantile of the PSIs at each distance, and of the moves of the mean
bin (``bin_location``, numbers only) (a high one, so that the odd
month of a large market move counts as normal, but not the first snapshots, whose windows
reach back before the data began), made non-decreasing in ``k``, is the feature's normal
movement (``movement``). A scoring date ``L`` months from the profile's date is judged against the
movement at ``L`` months (``normal_movement``). On the profile's own date there is no
movement to allow for: the scored population is the profiled one, and the data training read
give a PSI of 0 for every feature; whatever moved there, the data up to that date changed.
(A date a few days away is not scaled down from the month's movement: over a few days the
market and the weekly and monthly cycles of deposits and logins move features by as much as
between two month ends.)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from valuemodel.features.stable import FLOAT_NOISE

EPSILON = 1e-4
DISCRETE_VALUES = 12
"""A number with at most this many distinct values is binned by its values."""
DAYS_PER_MONTH = 365.25 / 12
MOVEMENT_QUANTILE = 0.9


# Moves amounts that are exact in decimal (cents) off float32 rounding midpoints; see below.
_OFF_GRID = 1.0 + 2.0**-27 / 3.0


def stable_float(col: pd.Series) -> np.ndarray:
    """float64 values quantised to float32 precision (about 7 significant digits).

    Engines sum floats in an order that depends on file layout and threads, so the same
    feature can differ in its last bits between two runs; quantising makes the model inputs,
    and so the trained model, identical. Money amounts (exact cents) often sit exactly on a
    float32 rounding midpoint, where such noise would still flip the result, so values are
    first scaled by a fixed factor 1 + 2**-27 / 3 that moves them off those midpoints (the
    same at training and scoring; trees are invariant to it). Values within
    ``features.stable.FLOAT_NOISE`` of 0 are 0: a difference of equal shares (an unchanged
    portfolio's concentration) comes out as +-1e-16 in an order the engine chooses.
    """
    values = col.to_numpy(dtype="float64", na_value=np.nan)
    values = np.where(np.abs(values) < FLOAT_NOISE, 0.0, values)
    with np.errstate(over="ignore", invalid="ignore"):
        rounded = (values * _OFF_GRID).astype(np.float32).astype(np.float64)
    return np.where(np.isfinite(rounded) | ~np.isfinite(values), rounded, values)


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index between two share vectors over the same bins."""
    e = np.maximum(np.asarray(expected, dtype=float), EPSILON)
    a = np.maximum(np.asarray(actual, dtype=float), EPSILON)
    return float(np.sum((a - e) * np.log(a / e)))


def numeric_edges(finite: np.ndarray) -> np.ndarray:
    """Bin edges of a profile: between the values of a discrete number, else the unique
    deciles.

    Bin ``i`` holds ``edges[i-1] < x <= edges[i]``. With edges halfway between consecutive
    values, every value of a discrete number has a bin of its own, whatever rounding the
    scorer applies: a mass point (0 days, a share of 4/12) is never split by where a decile
    happens to fall.
    """
    values = np.unique(finite)
    if len(values) <= DISCRETE_VALUES:
        return (values[:-1] + values[1:]) / 2.0
    return np.unique(np.quantile(finite, np.linspace(0.1, 0.9, 9)))


def numeric_shares(values: pd.Series | np.ndarray, edges: Sequence[float]) -> np.ndarray:
    """Shares of ``values`` per bin of ``edges``, then the missing share (values quantised
    as the profile's were, ``stable_float``)."""
    x = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    x = stable_float(pd.Series(x))  # as the profile's edges were drawn: a mass point stays put
    finite = x[np.isfinite(x)]
    n = max(len(x), 1)
    counts = np.bincount(
        np.searchsorted(np.asarray(edges, dtype=float), finite, side="left"),
        minlength=len(edges) + 1,
    )
    return np.append(counts / n, (len(x) - len(finite)) / n)


def categorical_shares(values: pd.Series, categories: list[str]) -> np.ndarray:
    """Shares per category, then missing, then other (unseen) values."""
    n = max(len(values), 1)
    if isinstance(values.dtype, pd.CategoricalDtype):  # counted by code, not by text
        codes = values.cat.codes.to_numpy()
        per_code = np.bincount(codes[codes >= 0], minlength=len(values.cat.categories))
        labels = pd.Index(values.cat.categories).astype(str)
        counts = pd.Series(per_code, index=labels).groupby(level=0).sum()
        other = int(counts[~counts.index.isin(categories)].sum()) / n
        shares = [int(counts.get(c, 0)) / n for c in categories]
        return np.array([*shares, int((codes < 0).sum()) / n, other], dtype=float)
    known = values.dropna().astype(str)
    counts = known.value_counts()
    shares = [counts.get(c, 0) / n for c in categories]
    other = (~known.isin(categories)).sum() / n
    return np.array([*shares, values.isna().sum() / n, other], dtype=float)


def expected_shares(profile: dict[str, Any]) -> np.ndarray | None:
    """The profile's shares in the order ``observed_shares`` returns (None: no bins)."""
    missing = float(profile.get("missing_share", 0.0))
    if profile.get("kind") == "categorical":
        return np.array([*profile["shares"], missing, 0.0], dtype=float)
    if not profile.get("shares"):
        return None
    return np.append(np.asarray(profile["shares"], dtype=float), missing)


def observed_shares(values: pd.Series, profile: dict[str, Any]) -> np.ndarray:
    """Shares of ``values`` in the bins of ``profile``."""
    if profile.get("kind") == "categorical":
        return categorical_shares(values, list(profile["categories"]))
    return numeric_shares(values, list(profile["edges"]))


def bin_location(shares: np.ndarray) -> float:
    """The mean bin of the non-missing values (0 = the first bin): where the bulk of a
    numeric distribution sits, in bins (NaN when all are missing). PSI is blind to many
    small moves in one direction (each bin gains about what it loses); this is not."""
    counts = np.asarray(shares[:-1], dtype=float)
    total = counts.sum()
    return float((np.arange(len(counts)) * counts).sum() / total) if total > 0 else float("nan")


def months_apart(a: date, b: date) -> int:
    """Whole months between two dates, rounded (0 for the same date)."""
    return int(round(abs((pd.Timestamp(b) - pd.Timestamp(a)).days) / DAYS_PER_MONTH))


def movement(
    frame: pd.DataFrame, profile: dict[str, dict[str, Any]], names: Sequence[str]
) -> dict[str, list[list[float | None]]]:
    """Each feature's normal movement: ``[[months, psi, bins], ...]`` ascending in months
    (``bins``: the move of ``bin_location``, NaN for a categorical feature).

    ``frame`` holds ``as_of`` and the features at every snapshot date (and the profile's own
    date); the PSI of every pair of dates ``k`` months apart is measured in the bins of
    ``profile``, their ``MOVEMENT_QUANTILE`` kept for each ``k``, then made non-decreasing. A
    feature with fewer than two dates (or no bins) gets an empty list.
    """
    groups = [(pd.Timestamp(d).date(), rows) for d, rows in frame.groupby("as_of", sort=True)]
    pairs = [
        (i, j, months_apart(groups[i][0], groups[j][0]))
        for i in range(len(groups))
        for j in range(i + 1, len(groups))
    ]
    out: dict[str, list[list[float | None]]] = {}
    for name in names:
        prof = profile.get(name)
        if prof is None or expected_shares(prof) is None or name not in frame.columns:
            out[name] = []
            continue
        shares = [observed_shares(rows[name], prof) for _, rows in groups]
        numeric = prof.get("kind") != "categorical"
        where = [bin_location(s) if numeric else float("nan") for s in shares]
        by_lag: dict[int, list[tuple[float, float]]] = {}
        for i, j, k in pairs:
            if k > 0:
                moved = (psi(shares[i], shares[j]), abs(where[j] - where[i]))
                by_lag.setdefault(k, []).append(moved)
        out[name] = _steps(by_lag)
    return out


def _steps(by_lag: dict[int, list[tuple[float, float]]]) -> list[list[float | None]]:
    """``[[months, psi, bins], ...]``: high quantiles per distance, non-decreasing."""
    steps, top = [], np.zeros(2)
    for k in sorted(by_lag):
        values = np.asarray(by_lag[k], dtype=float)
        q = [_quantile(values[:, c]) for c in range(values.shape[1])]
        top = np.fmax(top, q)
        steps.append([float(k), *(round(float(v), 6) if np.isfinite(v) else None for v in top)])
    return steps


def _quantile(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(np.quantile(finite, MOVEMENT_QUANTILE)) if len(finite) else float("nan")


def _number(value: float | None) -> float:
    return float("nan") if value is None else float(value)


def normal_movement(
    steps: Sequence[Sequence[float | None]], months: int, same_date: bool = False
) -> tuple[float, float]:
    """The normal (PSI, bin location move) of a feature ``months`` from its profile's date
    (NaN where not measured).

    The movement at the largest measured distance not beyond ``months``; a date closer than
    any measured distance takes the nearest one; beyond the largest, it grows in proportion.
    On the profile's own date (``same_date``) it is 0 (NaN where not measured).
    """
    if not steps:
        return float("nan"), float("nan")
    rows = [[_number(v) for v in step] + [float("nan")] * (3 - len(step)) for step in steps]
    if same_date:
        return rows[0][1] * 0.0, rows[0][2] * 0.0
    if months > rows[-1][0]:
        scale = months / rows[-1][0]
        return rows[-1][1] * scale, rows[-1][2] * scale
    below = [r for r in rows if r[0] <= months] or rows[:1]
    return below[-1][1], below[-1][2]
