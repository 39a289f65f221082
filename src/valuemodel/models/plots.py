"""Figures for notebooks and the training report; each function returns a matplotlib Figure.

Callers save or display them (``fig.savefig(...)``; a notebook shows a returned figure).
Model-evaluation figures reuse :mod:`valuemodel.models.figures` (what each training run
logs); SHAP figures draw with SHAP's own plots on a ``shap.Explanation``
(:func:`valuemodel.models.shap_values.explanation`). No figure is left open in pyplot, so
nothing is shown twice or kept in memory.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from valuemodel.models import figures

__all__ = [
    "calibration_curve",
    "distributions_by_segment",
    "drivers_heatmap",
    "feature_importance",
    "feature_timeline",
    "gains_lift",
    "shap_dependence",
    "shap_summary",
    "shap_waterfall",
    "value_deciles",
]


# --- model evaluation ----------------------------------------------------------------------


def calibration_curve(y, probabilities: Mapping[str, Any] | Any, bins: int = 10) -> Figure:
    """Reliability diagram: predicted churn probability against the observed churn rate.

    ``probabilities``: one array (labelled ``model``) or ``{name: probabilities}``.
    """
    if not isinstance(probabilities, Mapping):
        probabilities = {"model": probabilities}
    return figures.calibration_figure(y, probabilities, bins)


def gains_lift(y, scores: Mapping[str, Any], what: str = "churners") -> Figure:
    """Cumulative gains and top-decile lift of the model and its baselines (``{name: score}``).

    ``y``: churned 1/0, or revenue (``what="revenue"``: the share of revenue captured).
    """
    return figures.gains_figure(y, scores, what=what)


def feature_importance(source: Any, top: int = 20, units: str = "") -> Figure:
    """The ``top`` features by total split gain (a LightGBM Booster) or by mean |SHAP| (a Series
    such as :func:`valuemodel.models.shap_values.global_importance`)."""
    if not isinstance(source, pd.Series):
        return figures.importance_figure(source, top)
    shown = source.sort_values(ascending=False, kind="stable").head(top)[::-1]
    fig = Figure(figsize=(7, max(3, 0.3 * len(shown) + 1)))
    ax = fig.subplots()
    ax.barh([str(i) for i in shown.index], shown.to_numpy(dtype=float), color="tab:purple")
    ax.set_xlabel(f"mean |SHAP value| ({units})" if units else "mean |SHAP value|")
    ax.set_title(f"Feature importance by mean |SHAP| (top {len(shown)})")
    fig.tight_layout()
    return fig


def value_deciles(actual, predicted, bins: int = 10) -> Figure:
    """Mean predicted and mean realized revenue per decile of predicted value (1 = highest).

    Deciles are ``bins`` contiguous groups of the rows ranked by prediction (sizes differing
    by at most one), as in :func:`valuemodel.models.metrics.decile_mape`. The y axis turns
    logarithmic when the top decile dwarfs the median one a hundredfold.
    """
    actual = np.asarray(actual, dtype=float)
    predicted = np.asarray(predicted, dtype=float)
    if actual.shape != predicted.shape or actual.size < bins:
        raise ValueError(
            f"need as many actual as predicted values, at least {bins}: "
            f"got {actual.size} and {predicted.size}"
        )
    groups = np.array_split(np.argsort(-predicted, kind="stable"), bins)
    mean_pred = [predicted[g].mean() for g in groups]
    mean_real = [actual[g].mean() for g in groups]
    x = np.arange(1, bins + 1)
    fig = Figure(figsize=(8, 4.5))
    ax = fig.subplots()
    ax.bar(x - 0.2, mean_pred, width=0.4, label="predicted", color="tab:blue")
    ax.bar(x + 0.2, mean_real, width=0.4, label="realized", color="tab:orange")
    ax.set_xticks(x, [str(i) for i in x])
    ax.set_xlabel("decile of predicted value (1 = highest)")
    ax.set_ylabel("mean revenue per account (CNY)")
    heights = np.asarray([*mean_pred, *mean_real])
    if heights.min() > 0 and heights.max() > 100 * np.median(heights):
        ax.set_yscale("log")  # the top decile would flatten all others
    ax.set_title("Value deciles: predicted vs realized")
    ax.legend(loc="upper right")
    fig.tight_layout()
    return fig


# --- SHAP ----------------------------------------------------------------------------------


@contextmanager
def _pyplot_figure(figsize: tuple[float, float]) -> Iterator[Figure]:
    """A pyplot figure for SHAP's plots (which draw on pyplot), closed in pyplot afterwards."""
    import matplotlib.pyplot as plt

    interactive = plt.isinteractive()
    fig = plt.figure(figsize=figsize)
    try:
        yield fig
    finally:
        plt.close(fig)
        if interactive:  # SHAP turns interactive mode off when it is not asked to show
            plt.ion()


def shap_summary(
    explanation: Any, max_display: int = 15, title: str | None = None, units: str = ""
) -> Figure:
    """SHAP beeswarm: one dot per account and feature, coloured by the feature's value."""
    import shap

    rows = min(explanation.shape[1], max_display)
    with _pyplot_figure((8, 0.4 * rows + 1.8)) as fig:
        ax = fig.add_subplot()
        # The beeswarm jitters its dots with NumPy's global generator: seeded here (and put
        # back after), so the same model and rows draw the same figure every time.
        state = np.random.get_state()  # noqa: NPY002 - the generator SHAP draws from
        np.random.seed(0)  # noqa: NPY002
        try:
            with warnings.catch_warnings():  # a feature missing for every account: no colour
                warnings.filterwarnings("ignore", "All-NaN slice", RuntimeWarning)
                shap.plots.beeswarm(
                    explanation, max_display=max_display, ax=ax, show=False, plot_size=None
                )
        finally:
            np.random.set_state(state)  # noqa: NPY002
        if units:
            ax.set_xlabel(f"SHAP value ({units})")
        ax.set_title(title or "What drives the scores (SHAP summary)")
        fig.tight_layout()
    return fig


def shap_dependence(
    explanation: Any, feature: str, color: Any = "auto", title: str | None = None
) -> Figure:
    """SHAP dependence: a feature's value against its SHAP value, one dot per account.

    ``color="auto"`` colours by the feature SHAP finds interacting most; ``None`` for none, or
    another feature's name. The x axis spans the 1st to 99th percentile of the feature.
    """
    import shap

    column = explanation[:, feature]
    if isinstance(color, str) and color == "auto":
        color = explanation if explanation.shape[1] > 1 else None
    elif isinstance(color, str):
        color = explanation[:, color]
    with _pyplot_figure((7, 4.5)) as fig:
        ax = fig.add_subplot()
        kwargs = {"color": color} if color is not None else {}
        # money features are heavy-tailed: show the central 98 % of accounts
        limits = {"xmin": "percentile(1)", "xmax": "percentile(99)"}
        shap.plots.scatter(column, ax=ax, show=False, **limits, **kwargs)
        ax.set_title(title or f"How {feature} moves the score")
        fig.tight_layout()
    return fig


def shap_waterfall(
    explanation_row: Any, max_display: int = 10, title: str | None = None
) -> Figure:
    """SHAP waterfall for one account: from the average score to this account's score."""
    import shap

    with _pyplot_figure((8, 5)) as fig:
        shap.plots.waterfall(explanation_row, max_display=max_display, show=False)
        # padded: SHAP writes f(x) just above the axes
        fig.axes[0].set_title(title or "Why this account scores as it does", pad=22)
        fig.tight_layout()
    return fig


def drivers_heatmap(
    by_segment: pd.DataFrame,
    top: int = 12,
    counts: Mapping[str, int] | pd.Series | None = None,
    units: str = "",
) -> Figure:
    """Mean SHAP value of the strongest features (rows) in each segment (columns).

    ``by_segment``: :func:`valuemodel.models.shap_values.drivers_by_segment` (rows = segments); the
    ``top`` features by largest mean |SHAP| across segments are shown. Red pushes the score
    up, blue down. ``counts`` (accounts per segment) are added to the segment labels.
    """
    strength = by_segment.abs().max(axis=0)
    order = np.argsort(-strength.to_numpy(), kind="stable")[:top]
    shown = by_segment.iloc[:, order].T
    values = shown.to_numpy(dtype=float)
    limit = float(np.nanmax(np.abs(values))) if values.size else 1.0
    limit = limit if limit > 0 else 1.0
    fig = Figure(figsize=(1.6 * shown.shape[1] + 4, 0.45 * shown.shape[0] + 1.8))
    ax = fig.subplots()
    image = ax.imshow(values, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
    labels = [str(s) for s in shown.columns]
    if counts is not None:
        labels = [f"{s}\n(n={int(counts.get(s, 0)):,})" for s in labels]
    ax.set_xticks(np.arange(shown.shape[1]), labels)
    ax.set_yticks(np.arange(shown.shape[0]), [str(f) for f in shown.index])
    for (i, j), v in np.ndenumerate(values):
        ink = "white" if abs(v) > 0.6 * limit else "black"
        ax.text(j, i, f"{v:+.2f}", ha="center", va="center", fontsize=8, color=ink)
    bar = fig.colorbar(image, ax=ax)
    bar.set_label(f"mean SHAP value ({units})" if units else "mean SHAP value")
    ax.set_title("Drivers by service segment")
    fig.tight_layout()
    return fig


# --- features ------------------------------------------------------------------------------


def _wide_range(values: np.ndarray) -> bool:
    """Non-negative values spanning more than three orders of magnitude (money, counts)."""
    positive = values[values > 0]
    return bool(len(positive) and values.min() >= 0 and positive.max() > 1e3 * positive.min())


def distributions_by_segment(
    features: pd.DataFrame,
    segments: pd.Series | Sequence[Any],
    columns: Sequence[str],
    ncols: int = 3,
) -> Figure:
    """Box plots of each of ``columns`` per segment (one panel per feature).

    Panels of non-negative features spanning several orders of magnitude use a symmetric
    log scale. Missing values are left out; segments are sorted by name.
    """
    labels = pd.Series(np.asarray(segments, dtype=object), index=features.index)
    labels = labels.where(labels.notna(), "unassigned").astype(str)
    names = sorted(labels.unique())
    nrows = -(-len(columns) // ncols)
    fig = Figure(figsize=(4.2 * ncols, 3.4 * nrows))
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False).ravel())
    for ax, column in zip(axes, columns, strict=False):
        values = pd.to_numeric(features[column], errors="coerce")
        groups = [values[labels == n].dropna().to_numpy(dtype=float) for n in names]
        ax.boxplot(groups, tick_labels=names, showfliers=False)
        if _wide_range(values.dropna().to_numpy(dtype=float)):
            ax.set_yscale("symlog", linthresh=1.0)
        ax.set_title(column)
        ax.tick_params(axis="x", labelrotation=30)
    for ax in axes[len(columns) :]:
        ax.set_visible(False)
    fig.suptitle("Feature distributions by service segment")
    fig.tight_layout()
    return fig


def feature_timeline(
    frame: pd.DataFrame,
    columns: Sequence[str],
    date_column: str = "as_of",
    marks: Mapping[str, Any] | None = None,
) -> Figure:
    """One account's features over its as-of dates, one panel per feature.

    ``frame``: rows of one account at several as-of dates (``build_features`` output);
    ``marks``: ``{label: date}`` drawn as vertical lines (e.g. an as-of date being checked).
    """
    dates = pd.to_datetime(frame[date_column])
    fig = Figure(figsize=(9, 2.2 * len(columns) + 0.6))
    axes = np.atleast_1d(fig.subplots(len(columns), 1, sharex=True, squeeze=False).ravel())
    for ax, column in zip(axes, columns, strict=True):
        ax.step(dates, pd.to_numeric(frame[column], errors="coerce"), where="post", marker=".")
        ax.set_ylabel(column, fontsize=8)
        for label, when in (marks or {}).items():
            ax.axvline(pd.Timestamp(when), color="tab:red", linestyle="--", label=label)
    if marks:
        axes[0].legend(loc="upper left", fontsize=8)
    axes[-1].set_xlabel("as-of date")
    fig.suptitle("One account's features over time (each point uses only data up to its date)")
    fig.tight_layout()
    return fig
