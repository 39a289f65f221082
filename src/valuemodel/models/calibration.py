"""Probability calibration fitted on out-of-time data, stored as plain JSON.

The churn booster is trained on older snapshots; the churn rate of the validation period (the
most recent one) differs from the training period's as markets move, so raw probabilities are
off mostly by a shift of the log-odds. **Platt scaling is the default**: a logistic map
``p = 1 / (1 + exp(-(a * margin + b)))`` on the booster's raw margin. It

- corrects exactly that shift (``b``) and over/under-confidence (``a``) with two parameters,
  which is stable on a validation part with a few hundred churners;
- is strictly increasing, so the ranking, ROC-AUC and the ranked list are unchanged; isotonic
  regression is a step function that ties many of the highest-risk accounts together, which
  the ranked list (sorted by value at risk) would then order by value alone.

Isotonic regression is available (``method="isotonic"``) for large validation sets where the
miscalibration is not sigmoid-shaped. Both are fitted by scikit-learn and serialise to JSON
(the two coefficients, or thresholds for ``numpy.interp``): no serialised Python objects, and
loading and applying a calibrator needs no scikit-learn object.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

METHODS = ("platt", "isotonic")


def _fit_platt(margin: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Maximum-likelihood ``(a, b)`` with Platt's smoothed targets, by scikit-learn.

    Platt's targets (``(n_pos + 1) / (n_pos + 2)`` for a churner, ``1 / (n_neg + 2)`` for the
    others) are soft labels, which ``LogisticRegression`` takes as each row twice: once as a
    churner weighted by its target, once as a non-churner weighted by the rest. ``C=inf``: no
    penalty. The margin is standardised first so that a nearly constant margin (a booster of
    one or two trees) is as easy to fit as any other; ``(a, b)`` are mapped back to the raw
    margin.
    """
    n_pos, n_neg = y.sum(), len(y) - y.sum()
    target = np.where(y > 0, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))
    center, scale = float(margin.mean()), float(margin.std())
    scale = scale if scale > 1e-12 else 1.0
    x = ((margin - center) / scale)[:, None]
    fit = LogisticRegression(C=np.inf, tol=1e-10).fit(
        np.vstack([x, x]),
        np.r_[np.ones(len(y)), np.zeros(len(y))],
        sample_weight=np.r_[target, 1 - target],
    )
    a = float(fit.coef_[0, 0]) / scale
    return a, float(fit.intercept_[0]) - a * center


class ProbabilityCalibrator(BaseEstimator):
    """Maps a churn booster's output to a calibrated probability.

    Parameters: ``method`` ``"platt"`` (input: the raw margin, log-odds) or ``"isotonic"``
    (input: the uncalibrated probability).
    Learned: ``a_``, ``b_`` (Platt) or ``x_thresholds_``, ``y_thresholds_`` (isotonic).
    """

    def __init__(self, method: str = "platt"):
        self.method = method

    def fit(self, raw, y) -> ProbabilityCalibrator:
        """Fit on the booster's raw margin (Platt) or probability (isotonic) and 0/1 ``y``."""
        if self.method not in METHODS:
            raise ValueError(f"calibration method must be one of {METHODS}, got {self.method!r}")
        raw = np.asarray(raw, dtype=float)
        y = np.asarray(y, dtype=float)
        if raw.shape != y.shape or len(y) == 0:
            raise ValueError("calibration needs equal-length, non-empty raw scores and labels")
        if len(np.unique(y)) < 2:
            raise ValueError("calibration needs both churners and non-churners")
        if self.method == "platt":
            self.a_, self.b_ = _fit_platt(raw, y)
        else:
            iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(raw, y)
            self.x_thresholds_ = iso.X_thresholds_.astype(float)
            self.y_thresholds_ = iso.y_thresholds_.astype(float)
        return self

    def transform(self, raw) -> np.ndarray:
        """Calibrated probabilities for raw margins (Platt) or raw probabilities (isotonic)."""
        raw = np.asarray(raw, dtype=float)
        if self.method == "platt":
            check_is_fitted(self, ["a_", "b_"])
            return expit(self.a_ * raw + self.b_)
        check_is_fitted(self, ["x_thresholds_", "y_thresholds_"])
        return np.interp(raw, self.x_thresholds_, self.y_thresholds_)

    @property
    def uses_margin(self) -> bool:
        """Whether ``transform`` expects the raw margin (else the raw probability)."""
        return self.method == "platt"

    def to_dict(self) -> dict[str, Any]:
        """The fitted map as JSON-ready data."""
        if self.method == "platt":
            check_is_fitted(self, ["a_", "b_"])
            return {"method": "platt", "input": "margin", "a": self.a_, "b": self.b_}
        check_is_fitted(self, ["x_thresholds_", "y_thresholds_"])
        return {
            "method": "isotonic",
            "input": "probability",
            "x_thresholds": self.x_thresholds_.tolist(),
            "y_thresholds": self.y_thresholds_.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProbabilityCalibrator:
        """Rebuild a fitted calibrator from :meth:`to_dict` output (raises on bad data)."""
        method = data.get("method")
        cal = cls(method)
        if method == "platt":
            cal.a_, cal.b_ = float(data["a"]), float(data["b"])
        elif method == "isotonic":
            x = np.asarray(data["x_thresholds"], dtype=float)
            y = np.asarray(data["y_thresholds"], dtype=float)
            if x.shape != y.shape or len(x) == 0 or np.any(np.diff(x) < 0):
                raise ValueError("isotonic thresholds must be equal-length and increasing")
            cal.x_thresholds_, cal.y_thresholds_ = x, y
        else:
            raise ValueError(f"unknown calibration method {method!r}")
        return cal
