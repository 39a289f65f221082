"""The churn model: a LightGBM binary classifier with out-of-time probability calibration."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from valuemodel.models import boosting
from valuemodel.models.calibration import ProbabilityCalibrator

DEFAULT_PARAMS: dict[str, Any] = {
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_data_in_leaf": 50,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
}


def _binary(y) -> np.ndarray:
    y = np.asarray(y, dtype=float)
    if np.isnan(y).any() or not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("churn labels must be 0 or 1 without missing values")
    if len(np.unique(y)) < 2:
        raise ValueError("churn labels have only one class; cannot train a classifier")
    return y


class ChurnClassifier(ClassifierMixin, BaseEstimator):
    """LightGBM on prepared features, then a calibrator fitted on the out-of-time part.

    Parameters: ``params`` (LightGBM tree parameters, merged over ``DEFAULT_PARAMS``),
    ``calibration`` (``"platt"`` or ``"isotonic"``, see :mod:`calibration`), ``seed``,
    ``num_threads``, ``max_rounds``, ``early_stopping_rounds``.

    ``fit(X, y, eval_set=(X_valid, y_valid))`` trains on ``X``, stops early on the validation
    part's ROC-AUC and fits the calibrator on the validation part's raw margins.
    Learned: ``booster_``, ``calibrator_``, ``feature_names_in_``, ``n_iterations_``,
    ``classes_``.
    """

    def __init__(
        self,
        params: dict[str, Any] | None = None,
        calibration: str = "platt",
        seed: int = 7,
        num_threads: int = 1,
        max_rounds: int = 1000,
        early_stopping_rounds: int = 50,
    ):
        self.params = params
        self.calibration = calibration
        self.seed = seed
        self.num_threads = num_threads
        self.max_rounds = max_rounds
        self.early_stopping_rounds = early_stopping_rounds

    def lightgbm_params(self) -> dict[str, Any]:
        """The full LightGBM parameter set this estimator trains with."""
        base = {**DEFAULT_PARAMS, **(self.params or {})}
        base.update(objective="binary", metric="auc")
        return boosting.booster_params(base, self.seed, self.num_threads)

    def fit(self, X: pd.DataFrame, y, eval_set: tuple[pd.DataFrame, Any] | None = None):
        if eval_set is None:
            raise ValueError("ChurnClassifier.fit needs eval_set=(X_valid, y_valid), out of time")
        X_valid, y_valid = eval_set
        y, y_valid = _binary(y), _binary(y_valid)
        if list(X.columns) != list(X_valid.columns):
            raise ValueError("training and validation features have different columns")
        train_set = boosting.dataset(X, y)
        valid_set = boosting.dataset(X_valid, y_valid, reference=train_set)
        self.booster_ = boosting.train_booster(
            self.lightgbm_params(),
            train_set,
            valid_set,
            max_rounds=self.max_rounds,
            early_stopping_rounds=self.early_stopping_rounds,
        )
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_iterations_ = self.booster_.current_iteration()
        self.classes_ = np.array([0, 1])
        self.calibrator_ = ProbabilityCalibrator(self.calibration).fit(
            self._calibrator_input(X_valid), y_valid
        )
        return self

    def _calibrator_input(self, X: pd.DataFrame) -> np.ndarray:
        raw = self.booster_.predict(X, raw_score=True)
        return raw if self.calibrator_uses_margin else 1 / (1 + np.exp(-raw))

    @property
    def calibrator_uses_margin(self) -> bool:
        return ProbabilityCalibrator(self.calibration).uses_margin

    def predict_raw(self, X: pd.DataFrame) -> np.ndarray:
        """The booster's uncalibrated probability."""
        check_is_fitted(self, "booster_")
        return self.booster_.predict(X)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Calibrated probabilities, columns (no churn, churn)."""
        check_is_fitted(self, ["booster_", "calibrator_"])
        p = self.calibrator_.transform(self._calibrator_input(X))
        return np.column_stack([1 - p, p])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """1 where the calibrated churn probability is at least 0.5."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)
