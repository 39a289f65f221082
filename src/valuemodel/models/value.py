"""The value (CLV) model: revenue over the next ``V`` days, zero-inflated and heavy-tailed.

Two structures, compared on the out-of-time part by normalized Gini (the better one is kept):

- ``tweedie``: one LightGBM regression with the Tweedie objective (log link), which models a
  point mass at zero and a skewed positive part in one compound Poisson-gamma likelihood;
- ``two_part``: ``P(revenue > 0)`` (binary LightGBM) times ``E[revenue | revenue > 0]`` (LightGBM
  L2 on ``log1p(revenue)`` over the positive rows, back-transformed with Duan's smearing factor
  ``mean(exp(residual))`` estimated on the training positives).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from valuemodel.models import boosting, trees
from valuemodel.models.churn import DEFAULT_PARAMS

STRUCTURES = ("tweedie", "two_part")


def _revenue(y) -> np.ndarray:
    y = np.asarray(y, dtype=float)
    if np.isnan(y).any():
        raise ValueError("value labels must not be missing")
    if (y < 0).any():
        raise ValueError("value labels must be >= 0 (revenue over the horizon)")
    if not (y > 0).any():
        raise ValueError("value labels are all zero; there is no revenue to model")
    return y


class ValueRegressor(RegressorMixin, BaseEstimator):
    """Expected revenue over the value horizon.

    Parameters: ``structure`` (``"tweedie"`` or ``"two_part"``), ``params`` (LightGBM tree
    parameters over ``DEFAULT_PARAMS``), ``tweedie_variance_power`` (1 < p < 2), ``seed``,
    ``num_threads``, ``max_rounds``, ``early_stopping_rounds``, ``n_jobs`` (how many of the
    two-part model's boosters train at once; each keeps ``num_threads``).

    ``fit(X, y, eval_set=(X_valid, y_valid))`` stops each booster early on the validation part.
    Learned: ``boosters_`` (``{"main": ...}`` for Tweedie; ``{"occurrence": ..., "amount": ...}``
    for two-part), ``smearing_`` (two-part; 1.0 for Tweedie), ``feature_names_in_``.
    """

    def __init__(
        self,
        structure: str = "tweedie",
        params: dict[str, Any] | None = None,
        tweedie_variance_power: float = 1.5,
        seed: int = 7,
        num_threads: int = 1,
        max_rounds: int = 1000,
        early_stopping_rounds: int = 50,
        n_jobs: int = 1,
    ):
        self.structure = structure
        self.params = params
        self.tweedie_variance_power = tweedie_variance_power
        self.seed = seed
        self.num_threads = num_threads
        self.max_rounds = max_rounds
        self.early_stopping_rounds = early_stopping_rounds
        self.n_jobs = n_jobs

    def lightgbm_params(self, part: str = "main") -> dict[str, Any]:
        """The LightGBM parameters of one part: ``main``, ``occurrence`` or ``amount``."""
        base = {**DEFAULT_PARAMS, **(self.params or {})}
        if part == "main":
            base.update(
                objective="tweedie",
                metric="tweedie",
                tweedie_variance_power=self.tweedie_variance_power,
            )
        elif part == "occurrence":
            base.update(objective="binary", metric="binary_logloss")
        else:
            base.update(objective="regression", metric="l2")
        return boosting.booster_params(base, self.seed, self.num_threads)

    def _train(self, part: str, X, y, X_valid, y_valid):
        train_set = boosting.dataset(X, y)
        valid_set = boosting.dataset(X_valid, y_valid, reference=train_set)
        return boosting.train_booster(
            self.lightgbm_params(part),
            train_set,
            valid_set,
            max_rounds=self.max_rounds,
            early_stopping_rounds=self.early_stopping_rounds,
        )

    def fit(self, X: pd.DataFrame, y, eval_set: tuple[pd.DataFrame, Any] | None = None):
        if self.structure not in STRUCTURES:
            raise ValueError(f"structure must be one of {STRUCTURES}, got {self.structure!r}")
        if eval_set is None:
            raise ValueError("ValueRegressor.fit needs eval_set=(X_valid, y_valid), out of time")
        X_valid, y_valid = eval_set
        y, y_valid = _revenue(y), np.asarray(y_valid, dtype=float)
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        if self.structure == "tweedie":
            self.boosters_ = {"main": self._train("main", X, y, X_valid, y_valid)}
            self.smearing_ = 1.0
            return self
        pos, occurs_valid = y > 0, (y_valid > 0).astype(float)
        pos_valid = y_valid > 0
        if not pos_valid.any():
            pos_valid = np.ones(len(y_valid), dtype=bool)
        occurrence, amount = boosting.side_by_side(
            [
                lambda: self._train("occurrence", X, pos.astype(float), X_valid, occurs_valid),
                lambda: self._train(
                    "amount",
                    X[pos],
                    np.log1p(y[pos]),
                    X_valid[pos_valid],
                    np.log1p(y_valid[pos_valid]),
                ),
            ],
            self.n_jobs,
        )
        residual = np.log1p(y[pos]) - amount.predict(X[pos])
        self.smearing_ = float(np.mean(np.exp(residual)))
        self.boosters_ = {"occurrence": occurrence, "amount": amount}
        return self

    def from_booster(self, booster, columns) -> ValueRegressor:
        """This Tweedie model with ``booster`` as its trees (already trained on ``columns``
        with :meth:`lightgbm_params`, e.g. by the tuning): what :meth:`fit` would give."""
        if self.structure != "tweedie":
            raise ValueError("from_booster: only a tweedie model is one booster")
        self.feature_names_in_ = np.asarray(columns, dtype=object)
        self.boosters_, self.smearing_ = {"main": booster}, 1.0
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Expected revenue over the horizon (>= 0)."""
        check_is_fitted(self, "boosters_")
        return predict_value(self.boosters_, self.smearing_, X)

    def to_dict(self) -> dict[str, Any]:
        """The non-booster state as JSON-ready data."""
        check_is_fitted(self, "boosters_")
        return {
            "structure": self.structure,
            "smearing": self.smearing_,
            "boosters": sorted(self.boosters_),
            "tweedie_variance_power": self.tweedie_variance_power,
        }


def predict_value(boosters: dict[str, Any], smearing: float, X: pd.DataFrame) -> np.ndarray:
    """Expected revenue from a Tweedie (``main``) or two-part (``occurrence``/``amount``) model."""
    if "main" in boosters:
        return np.clip(trees.predict(boosters["main"], X), 0.0, None)
    p = trees.predict(boosters["occurrence"], X)
    amount = smearing * np.exp(trees.predict(boosters["amount"], X)) - 1.0
    return p * np.clip(amount, 0.0, None)
