"""SHAP arithmetic: per-account contributions of a model, their aggregates and drivers.

SHAP values are LightGBM's exact TreeSHAP contributions (``booster.predict(X,
pred_contrib=True)``, what ``shap.TreeExplainer`` returns for a LightGBM booster without
background data) in the booster's raw score: log-odds of churn for the churn model; log of
expected revenue for a Tweedie value model; for a two-part value model, ``log1p`` revenue of
the amount part (default) or the log-odds of any revenue (``part="occurrence"``). They are
the numbers behind ``reason_1..3`` of the ranked list (``valuemodel.serving.reasons``), the
training report's importance and the notebooks' plots: this module is the one place that
computes them.

A SHAP frame has the input's index and one column per model feature plus ``bias`` (the
expected raw score); a row sums to the raw score of that account.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

BIAS = "bias"


def _raw_contributions(booster: Any, X: pd.DataFrame) -> np.ndarray:
    """``booster.predict(X, pred_contrib=True)`` checked: one column per feature, then bias."""
    raw = np.asarray(booster.predict(X, pred_contrib=True), dtype=float)
    if raw.ndim != 2 or raw.shape[1] != X.shape[1] + 1:
        raise ValueError(
            f"expected {X.shape[1] + 1} contribution columns (one output), got {raw.shape}"
        )
    return raw


def contributions(booster: Any, X: pd.DataFrame) -> pd.DataFrame:
    """Per-row, per-feature SHAP contributions in raw score units (bias column dropped).

    ``X`` is the model's prepared feature frame (``LoadedModel.prepare``).
    """
    raw = _raw_contributions(booster, X)
    return pd.DataFrame(raw[:, :-1], index=X.index, columns=list(X.columns))


def top_drivers(contrib: pd.DataFrame, k: int = 3) -> pd.DataFrame:
    """The ``k`` features with the largest positive contributions per row, strongest first.

    Columns ``driver_1..k`` (feature names, null where fewer than ``k`` are positive); ties keep
    the model's feature order.
    """
    values = contrib.to_numpy(dtype=float)
    names = np.asarray(contrib.columns, dtype=object)
    k_eff = min(k, values.shape[1])
    order = np.argsort(-values, axis=1, kind="stable")[:, :k_eff]
    top = np.take_along_axis(values, order, axis=1)
    drivers = np.where(top > 0, names[order], None).astype(object)
    if k_eff < k:
        pad = np.full((len(values), k - k_eff), None, dtype=object)
        drivers = np.hstack([drivers, pad])
    columns = [f"driver_{i + 1}" for i in range(k)]
    return pd.DataFrame(drivers, index=contrib.index, columns=columns, dtype="object")


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


def top_positive_drivers(shap: Any, k: int = 3) -> pd.DataFrame:
    """The ``k`` largest positive contributions per row: ``driver_1..k`` (null if fewer).

    ``shap``: a SHAP frame, or a ``shap.Explanation`` of one row or many (as drawn by a
    waterfall or beeswarm). The same rule the ranked list's ``reason_1..3`` follow (ties:
    model feature order).
    """
    if not isinstance(shap, pd.DataFrame):
        values = np.atleast_2d(np.asarray(shap.values, dtype=float))
        shap = pd.DataFrame(values, columns=list(shap.feature_names))
    return top_drivers(_contributions(shap), k)


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
