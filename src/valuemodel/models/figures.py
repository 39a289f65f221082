"""Training figures logged with each run: calibration, gains vs baselines, feature importance.

Functions return matplotlib ``Figure`` objects built without pyplot (no global state); the
caller saves or logs them. All inputs are aggregates of the validation part. What they draw is
computed by :mod:`valuemodel.models.metrics`, so a figure shows the numbers the run logs.
"""

from __future__ import annotations

from collections.abc import Mapping

import lightgbm as lgb
import numpy as np
from matplotlib.figure import Figure

from valuemodel.models.metrics import calibration_bins, gains_curve, lift_top_decile


def calibration_figure(y, probabilities: Mapping[str, np.ndarray], bins: int = 10) -> Figure:
    """Reliability diagram: mean predicted probability vs observed churn rate per bin
    (:func:`~valuemodel.models.metrics.calibration_bins`)."""
    fig = Figure(figsize=(5.5, 5))
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label="perfectly calibrated")
    for name, proba in probabilities.items():
        table = calibration_bins(y, proba, bins)
        ax.plot(table["predicted"], table["observed"], marker="o", label=name)
    ax.set_xlabel("predicted churn probability")
    ax.set_ylabel("observed churn rate")
    ax.set_title("Calibration on the out-of-time validation part")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left")
    return fig


def gains_figure(y, scores: Mapping[str, np.ndarray], what: str = "churners") -> Figure:
    """Cumulative gains and top-decile lift of the model and its baselines."""
    fig = Figure(figsize=(10, 4.5))
    gains_ax, lift_ax = fig.subplots(1, 2)
    gains_ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label="random")
    names, lifts = [], []
    for name, score in scores.items():
        curve = gains_curve(y, score, points=20)
        gains_ax.plot(curve.fraction_contacted, curve.fraction_captured, label=name)
        names.append(name)
        lifts.append(lift_top_decile(y, score))
    gains_ax.set_xlabel("share of accounts contacted (highest score first)")
    gains_ax.set_ylabel(f"share of {what} captured")
    gains_ax.set_title("Cumulative gains")
    gains_ax.legend(loc="lower right")
    lift_ax.bar(names, lifts, color="tab:blue")
    lift_ax.axhline(1.0, color="grey", linestyle="--")
    lift_ax.set_ylabel("lift in the top decile")
    lift_ax.set_title("Top-decile lift")
    fig.tight_layout()
    return fig


def importance_figure(booster: lgb.Booster, top: int = 20) -> Figure:
    """The ``top`` features by total split gain."""
    gains = booster.feature_importance(importance_type="gain")
    names = np.asarray(booster.feature_name())
    order = np.argsort(-gains, kind="stable")[:top][::-1]
    fig = Figure(figsize=(7, max(3, 0.3 * len(order) + 1)))
    ax = fig.subplots()
    ax.barh(names[order], gains[order], color="tab:green")
    ax.set_xlabel("total gain")
    ax.set_title(f"Feature importance (top {len(order)})")
    fig.tight_layout()
    return fig
