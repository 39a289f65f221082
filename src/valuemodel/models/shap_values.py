"""SHAP arithmetic: per-account contributions of a model, their aggregates and drivers.

SHAP values are LightGBM's exact TreeSHAP contributions (``booster.predict(X,
pred_contrib=True)``, what ``shap.TreeExplainer`` returns for a LightGBM booster without
background data) in the booster's raw score: log-odds of churn for the churn model; log of
expected revenue for a Tweedie value model; for a two-part value model, ``log1p`` revenue of
the amount part (default) or the log-odds of any revenue (``part="occurrence"``). They are
the numbers behind ``reason_1..3`` of the ranked list (``valuemodel.serving.reasons``), the
training report's importance and the notebooks' plots: this module is the one place that
computes them. For many rows (a ranked list) LightGBM runs them tree by tree on one row per
decision pattern (:func:`_by_pattern`): the same numbers, some seven times faster.

A SHAP frame has the input's index and one column per model feature plus ``bias`` (the
expected raw score); a row sums to the raw score of that account.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from fnmatch import fnmatchcase
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from valuemodel.cores import usable_cores
from valuemodel.models.trees import as_read, used_iterations

BIAS = "bias"


BY_PATTERN_MIN_ROWS = 20_000
"""From this many rows on, contributions are computed tree by tree on one row per decision
pattern (:func:`_by_pattern`); below it, in one ``pred_contrib`` call."""

TOP_CHUNK_ROWS = 16_384
"""Rows whose strongest drivers are found at once: ``_top_order`` holds a negated copy and an
index matrix of its rows, so a million rows at once would hold two more gigabytes."""

_ZERO = float(np.float32(1e-35))  # LightGBM's kZeroThreshold: |x| <= it is "zero" (missing)
_ZERO_BOUNDS = [-_ZERO, float(np.nextafter(-_ZERO, -np.inf)), _ZERO]  # x <= b for each tells


def _raw_contributions(booster: Any, X: pd.DataFrame) -> np.ndarray:
    """``booster.predict(X, pred_contrib=True)`` checked: one column per feature, then bias."""
    raw = None
    if len(X) >= BY_PATTERN_MIN_ROWS and booster.num_model_per_iteration() == 1:
        raw = _by_pattern(booster, X)
    if raw is None:
        raw = np.asarray(booster.predict(X, pred_contrib=True), dtype=float)
    if raw.ndim != 2 or raw.shape[1] != X.shape[1] + 1:
        raise ValueError(
            f"expected {X.shape[1] + 1} contribution columns (one output), got {raw.shape}"
        )
    return raw


def _by_pattern(booster: Any, X: pd.DataFrame, workers: int | None = None) -> np.ndarray | None:
    """The same contributions as ``pred_contrib``, tree by tree, one row per decision pattern.

    A row's TreeSHAP values for one tree depend on the row only through the side it takes at
    each of the tree's splits. So the rows are grouped by that pattern (a median of about 350
    per tree of 10 leaves among 82,523 accounts), LightGBM's own TreeSHAP runs on one row
    of each group (``start_iteration``: that tree alone) and its values are given to the
    whole group, then summed over the trees in their order. The grouping is exact (see
    :class:`_Classes`). Equal to one ``pred_contrib`` call up to the order of the
    floating-point sums (about 1e-15; ``tests/models/test_shap_by_pattern.py``). None for
    linear trees, whose leaves are functions of the values. On the 100k benchmark's 82,523
    written rows: 15 s to 2 s (18.8M walks of a row down a tree become 162k). ``workers``
    threads take a share of the rows each (default: one per core, at most 4, each with at
    least ``BY_PATTERN_MIN_ROWS`` rows); the result is the same to the last bit.
    """
    trees = booster.dump_model()["tree_info"][: used_iterations(booster)]
    n, width = len(X), X.shape[1] + 1
    splits = [_splits(tree["tree_structure"]) for tree in trees]
    if any(tree is None for tree in splits):
        return None
    out = np.zeros((width, n))  # one contiguous row per output column
    if workers is None:
        workers = max(1, min(usable_cores(), 4, n // BY_PATTERN_MIN_ROWS))
    chunks = [slice(c[0], c[-1] + 1) for c in np.array_split(np.arange(n), workers) if len(c)]
    # each chunk of rows on its own thread (numpy and LightGBM release the GIL), with its own
    # copy of the booster: LightGBM sets a booster's iteration range for each prediction, so
    # two threads must not share one. A row's values do not depend on the other rows, so
    # the chunks change nothing in the result.
    text = booster.model_to_string() if len(chunks) > 1 else ""
    boosters = [booster] + [type(booster)(model_str=text) for _ in chunks[1:]]
    with ThreadPoolExecutor(len(chunks)) as pool:
        list(pool.map(partial(_by_pattern_rows, X=X, splits=splits, out=out), boosters, chunks))
    return out.T


def _by_pattern_rows(
    booster: Any, rows: slice, X: pd.DataFrame, splits: list, out: np.ndarray
) -> None:
    """:func:`_by_pattern` for the rows ``rows`` of ``X``, added into ``out[:, rows]``."""
    part_X = X.iloc[rows]
    n, width = len(part_X), X.shape[1] + 1
    classes = _Classes(part_X, splits)
    columns = [as_read(part_X.iloc[:, j]) for j in range(X.shape[1])]
    mine = out[:, rows]
    everyone = np.arange(n)
    for t, tree_splits in enumerate(splits):
        pattern, k = classes.pattern(tree_splits)
        one = np.empty(k, dtype=np.int64)
        one[pattern] = everyone  # any member of each group stands for it
        sample = np.empty((k, width - 1))
        for j, column in enumerate(columns):
            sample[:, j] = column[one]
        part = booster.predict(sample, pred_contrib=True, start_iteration=t, num_iteration=1)
        part = np.asarray(part, dtype=float)
        for j in np.flatnonzero(np.any(part != 0, axis=0)):
            mine[j] += np.take(part[:, j], pattern)


def _splits(node: dict) -> dict[int, list[float] | None] | None:
    """Per feature split on in this tree: its thresholds, or None for a categorical split.
    None for a linear tree."""
    found: dict[int, list[float] | None] = {}
    stack = [node]
    while stack:
        node = stack.pop()
        if "split_feature" not in node:
            if node.get("leaf_coeff"):
                return None
            continue
        f = int(node["split_feature"])
        if node["decision_type"] != "<=":
            found[f] = None
        elif found.get(f, []) is not None:
            found.setdefault(f, []).append(float(node["threshold"]))
            if node["missing_type"] == "Zero":  # |x| <= _ZERO goes the default way
                found[f] += _ZERO_BOUNDS
        stack += [node["left_child"], node["right_child"]]
    return found


class _Classes:
    """For each feature the trees split on, a class per row that no split tells apart.

    Numeric features: the interval between the model's thresholds that the value falls in
    (NaN apart; |x| <= ``_ZERO`` read as 0, as LightGBM reads a row; zero's own bounds where a
    split takes zero for missing), computed once, then coarsened to one tree's thresholds
    with a lookup. Categorical features (or any feature with a categorical split): the value.
    """

    def __init__(self, X: pd.DataFrame, splits: list[dict[int, list[float] | None]]):
        self.n = len(X)
        edges: dict[int, set[float]] = {}
        exact: set[int] = set()
        for tree in splits:
            for f, thresholds in tree.items():
                if thresholds is None or isinstance(X.dtypes.iloc[f], pd.CategoricalDtype):
                    exact.add(f)
                else:
                    edges.setdefault(f, set()).update(thresholds)
        self.bounds: dict[int, np.ndarray] = {}
        self.global_class: dict[int, np.ndarray] = {}
        self.size: dict[int, int] = {}
        for f in exact:
            codes, uniques = pd.factorize(X.iloc[:, f], use_na_sentinel=True)
            self.global_class[f] = codes.astype(np.int64) + 1  # 0: missing
            self.size[f] = len(uniques) + 1
        for f, thresholds in edges.items():
            if f in exact:
                continue
            bounds = np.unique(list(thresholds))
            values = X.iloc[:, f].to_numpy(dtype=float, copy=True)
            values[np.abs(values) <= _ZERO] = 0.0  # how LightGBM reads a row (``kZeroThreshold``)
            cls = np.searchsorted(bounds, values, side="left").astype(np.int64)
            cls[np.isnan(values)] = len(bounds) + 1
            self.bounds[f], self.global_class[f] = bounds, cls
            self.size[f] = len(bounds) + 2

    def pattern(self, tree: dict[int, list[float] | None]) -> tuple[np.ndarray, int]:
        """Each row's group for one tree (0..k-1) and the number of groups k."""
        code = np.zeros(self.n, dtype=np.int64)
        size = 1
        for f, thresholds in sorted(tree.items()):
            cls, k = self._tree_class(f, thresholds)
            code = code * k + cls
            size *= k
            if size > 4 * self.n:
                code, size = _dense(code, None)
        return _dense(code, size)

    def _tree_class(self, f: int, thresholds: list[float] | None) -> tuple[np.ndarray, int]:
        if f not in self.bounds:
            return self.global_class[f], self.size[f]
        bounds = self.bounds[f]
        mine = np.unique(thresholds)
        # a value in global interval b (bounds[b-1] < x <= bounds[b]) has as many of this
        # tree's bounds below it as there are up to bounds[b-1]
        lookup = np.searchsorted(mine, np.concatenate([[-np.inf], bounds]), side="right")
        lookup = np.concatenate([lookup, [len(mine) + 1]])
        lookup[0] = 0
        return lookup[self.global_class[f]], len(mine) + 2


def _dense(code: np.ndarray, size: int | None) -> tuple[np.ndarray, int]:
    """``code`` renumbered 0..k-1 (k distinct values)."""
    if size is None:
        dense, uniques = pd.factorize(code)
        return dense.astype(np.int64), len(uniques)
    seen = np.zeros(size, dtype=bool)
    seen[code] = True
    number = np.cumsum(seen) - 1
    return number[code], int(seen.sum())


def contributions(booster: Any, X: pd.DataFrame, bias: bool = False) -> pd.DataFrame:
    """Per-row, per-feature SHAP contributions in raw score units (bias column dropped, or
    last as ``bias`` with ``bias=True``).

    ``X`` is the model's prepared feature frame (``LoadedModel.prepare``).
    """
    raw = _raw_contributions(booster, X)
    if bias:
        return pd.DataFrame(raw, index=X.index, columns=[*X.columns, BIAS], copy=False)
    # a view of ``raw``, not a copy: at a million rows the matrix is over a gigabyte
    return pd.DataFrame(raw[:, :-1], index=X.index, columns=list(X.columns), copy=False)


def top_drivers(contrib: pd.DataFrame, k: int = 3, exclude: Sequence[str] = ()) -> pd.DataFrame:
    """The ``k`` features with the largest positive contributions per row, strongest first.

    Columns ``driver_1..k`` (feature names, null where fewer than ``k`` are positive); ties keep
    the model's feature order. ``exclude``: feature-name patterns (``fnmatch``) never named as
    a driver (the next strongest takes their place); their contributions still count.
    """
    values = contrib.to_numpy(dtype=float)
    names = np.asarray(contrib.columns, dtype=object)
    hidden = [i for i, n in enumerate(names) if any(fnmatchcase(str(n), p) for p in exclude)]
    k_eff = min(k, values.shape[1])
    order = np.empty((len(values), k_eff), dtype=np.int64)
    top = np.empty((len(values), k_eff), dtype=float)
    for start in range(0, len(values), TOP_CHUNK_ROWS):  # the row's order needs only its row
        rows = slice(start, start + TOP_CHUNK_ROWS)
        chunk = values[rows]
        if hidden:  # a copy of the chunk only: the caller's frame is left as it is
            chunk = chunk.copy()
            chunk[:, hidden] = -np.inf
        order[rows] = _top_order(chunk, k_eff)
        top[rows] = np.take_along_axis(chunk, order[rows], axis=1)
    drivers = np.where(top > 0, names[order], None).astype(object)
    if k_eff < k:
        pad = np.full((len(values), k - k_eff), None, dtype=object)
        drivers = np.hstack([drivers, pad])
    columns = [f"driver_{i + 1}" for i in range(k)]
    return pd.DataFrame(drivers, index=contrib.index, columns=columns, dtype="object")


def _top_order(values: np.ndarray, k: int) -> np.ndarray:
    """``np.argsort(-values, axis=1, kind="stable")[:, :k]`` without sorting whole rows: the
    k + 1 largest of each row are found by partition and only they are sorted (a row whose
    k-th and (k + 1)-th largest tie is sorted whole, so ties keep the column order)."""
    n, m = values.shape
    if k == 0 or m <= k + 1:
        return np.argsort(-values, axis=1, kind="stable")[:, :k]
    candidates = np.sort(np.argpartition(-values, k, axis=1)[:, : k + 1], axis=1)
    picked = np.take_along_axis(values, candidates, axis=1)
    ranked = np.argsort(-picked, axis=1, kind="stable")
    order = np.take_along_axis(candidates, ranked, axis=1)
    sorted_values = np.take_along_axis(picked, ranked, axis=1)
    tied = ~(sorted_values[:, k - 1] > sorted_values[:, k])
    if tied.any():
        order[tied] = np.argsort(-values[tied], axis=1, kind="stable")[:, : k + 1]
    return order[:, :k]


def _booster(model: Any, part: str | None) -> Any:
    if part is None:
        return model.booster
    boosters = getattr(model, "boosters", None) or {"main": model.booster}
    if part not in boosters:
        raise ValueError(f"part must be one of {sorted(boosters)} for this model, got {part!r}")
    return boosters[part]


def shap_frame(model: Any, features: pd.DataFrame, part: str | None = None) -> pd.DataFrame:
    """Per-account SHAP contributions of ``model`` on ``features``.

    ``model``: a ``LoadedModel`` (``load_model``); ``features``: ``build_features`` output (ID
    columns and extra columns are ignored). Returns one row per input row (same index),
    columns = the model's features in training order, then ``bias``. Raises ``ModelError``
    when a model feature is missing, ``ValueError`` for an unknown ``part``.
    """
    X = model.prepare(features)
    if BIAS in X.columns:
        raise ValueError(f"a model feature is named {BIAS!r}, which the SHAP frame reserves")
    raw = _raw_contributions(_booster(model, part), X)
    return pd.DataFrame(raw, index=X.index, columns=[*X.columns, BIAS])


def shap_units(model: Any, part: str | None = None) -> str:
    """What a SHAP value of ``model`` is measured in, for axis labels."""
    if model.kind == "churn":
        return "log-odds of churn"
    if model.kind == "uplift":
        if model.learner.method == "t":
            return "log-odds of churn, control minus treated"
        return "fall in churn probability"
    boosters = getattr(model, "boosters", {}) or {}
    if "main" in boosters:
        return "log expected revenue"
    if part == "occurrence":
        return "log-odds of any revenue"
    return "log1p revenue, when positive"


def _contributions(shap: pd.DataFrame) -> pd.DataFrame:
    if shap.shape[0] == 0:
        raise ValueError("the SHAP frame has no rows")
    return shap.drop(columns=BIAS, errors="ignore")


def global_importance(shap: pd.DataFrame) -> pd.Series:
    """Mean absolute SHAP value per feature (``bias`` left out), largest first.

    Ties keep the model's feature order. Raises ``ValueError`` for an empty frame.
    """
    mean_abs = _contributions(shap).abs().mean()
    order = np.argsort(-mean_abs.to_numpy(), kind="stable")
    return mean_abs.iloc[order].rename("mean_abs_shap")


def drivers_by_segment(
    shap: pd.DataFrame, segments: pd.Series | Sequence[Any], missing: str = "unassigned"
) -> pd.DataFrame:
    """Mean SHAP value per feature within each segment (e.g. the ``service_segment``).

    ``segments``: a Series on the SHAP frame's index (or a sequence in its row order); null
    segments count as ``missing``. Returns rows = segments (sorted), columns = features ordered
    by :func:`global_importance`; a positive mean pushes that segment's scores up.
    """
    contrib = _contributions(shap)
    if isinstance(segments, pd.Series):
        if not segments.index.equals(contrib.index):
            raise ValueError("segments must have the SHAP frame's index (one per account)")
        labels = segments
    else:
        labels = pd.Series(list(segments), index=contrib.index)
    if len(labels) != len(contrib):
        raise ValueError(f"got {len(labels)} segments for {len(contrib)} SHAP rows")
    labels = labels.astype("object").where(labels.notna(), missing).astype(str)
    means = contrib.groupby(labels.to_numpy(), sort=True).mean()
    means.index.name = "segment"
    return means[list(global_importance(shap).index)]


def top_positive_drivers(shap: Any, k: int = 3, exclude: Sequence[str] = ()) -> pd.DataFrame:
    """The ``k`` largest positive contributions per row: ``driver_1..k`` (null if fewer).

    ``shap``: a SHAP frame, or a ``shap.Explanation`` of one row or many (as drawn by a
    waterfall or beeswarm). The same rule the ranked list's ``reason_1..3`` follow (ties:
    model feature order); ``exclude``: feature-name patterns never named (the list leaves out
    the tiers file's ``reasons.exclude``: protected and administrative attributes).
    """
    if not isinstance(shap, pd.DataFrame):
        values = np.atleast_2d(np.asarray(shap.values, dtype=float))
        shap = pd.DataFrame(values, columns=list(shap.feature_names))
    return top_drivers(_contributions(shap), k, exclude)


def _numeric_data(X: pd.DataFrame) -> np.ndarray:
    """The prepared features as floats: categories as their codes, missing as NaN."""
    columns = []
    for name in X.columns:
        col = X[name]
        if isinstance(col.dtype, pd.CategoricalDtype):
            codes = col.cat.codes.to_numpy(dtype=float)
            columns.append(np.where(codes < 0, np.nan, codes))
        else:
            columns.append(col.to_numpy(dtype=float, na_value=np.nan))
    return np.column_stack(columns) if columns else np.empty((len(X), 0))


def explanation(
    model: Any,
    features: pd.DataFrame,
    shap: pd.DataFrame | None = None,
    part: str | None = None,
):
    """A ``shap.Explanation`` for SHAP's plots (beeswarm, scatter, waterfall, bar).

    ``values`` and ``base_values`` come from ``shap`` (default: :func:`shap_frame`); ``data``
    holds the prepared features as numbers (a category as its code), ``display_data`` the
    values as shown to people (a category as its label). Rows follow ``features``.
    """
    import shap as shap_lib

    X = model.prepare(features)
    frame = shap if shap is not None else shap_frame(model, features, part)
    frame = frame.loc[X.index]
    display = X.astype("object").where(X.notna(), np.nan)
    return shap_lib.Explanation(
        values=frame[list(X.columns)].to_numpy(dtype=float),
        base_values=frame[BIAS].to_numpy(dtype=float),
        data=_numeric_data(X),
        display_data=display.to_numpy(dtype=object),
        feature_names=list(X.columns),
    )
