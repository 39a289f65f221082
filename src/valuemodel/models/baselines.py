"""Baselines every training run is measured against.

- Churn, the recency rule: the longer since the last trade, the higher the risk
  (``days_since_last_trade``; an account that never traded ranks highest).
- Churn, logistic regression on the same features: numbers through a signed ``log1p`` (heavy
  tails), median imputation and scaling; categories one-hot encoded.
- Value, last-period revenue: revenue over the most recent window, scaled to the horizon.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from valuemodel.models.schema import stable_float

RECENCY_FEATURE = "days_since_last_trade"
_REVENUE_WINDOW = re.compile(r"^revenue_(\d+)d$")


def recency_score(features: pd.DataFrame) -> np.ndarray:
    """The recency rule's churn score: days since the last trade (never traded: highest)."""
    if RECENCY_FEATURE not in features.columns:
        raise ValueError(f"the recency baseline needs the feature {RECENCY_FEATURE!r}")
    days = features[RECENCY_FEATURE].to_numpy(dtype=float, na_value=np.nan)
    finite = days[np.isfinite(days)]
    fill = (finite.max() + 1.0) if len(finite) else 0.0
    return np.where(np.isfinite(days), days, fill)


def signed_log1p(x):
    """``sign(x) * log1p(|x|)``: compresses heavy tails of either sign."""
    x = np.asarray(x, dtype=float)
    return np.sign(x) * np.log1p(np.abs(x))


def logistic_baseline(numeric: list[str], categorical: list[str], seed: int = 7) -> Pipeline:
    """An unfitted imputed, scaled logistic regression over the given feature columns."""
    numeric_steps = Pipeline(
        [
            ("log", FunctionTransformer(signed_log1p, feature_names_out="one-to-one")),
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
            ("scale", StandardScaler()),
        ]
    )
    categorical_steps = Pipeline(
        [
            ("impute", SimpleImputer(strategy="constant", fill_value="missing")),
            ("onehot", OneHotEncoder(handle_unknown="ignore")),
        ]
    )
    columns = ColumnTransformer(
        [("numeric", numeric_steps, numeric), ("categorical", categorical_steps, categorical)]
    )
    model = LogisticRegression(max_iter=2000, C=1.0, random_state=seed)
    return Pipeline([("features", columns), ("model", model)])


def as_logistic_input(features: pd.DataFrame, categorical: list[str]) -> pd.DataFrame:
    """Categorical columns as plain object strings (missing as NaN) for the one-hot encoder."""
    out = features.copy()
    for c in categorical:
        out[c] = out[c].astype(object).where(out[c].notna(), np.nan)
    return out


def revenue_window(columns, horizon_days: int) -> str | None:
    """The ``revenue_{w}d`` column used for the last-period baseline.

    The largest window not longer than the horizon, else the shortest window available.
    """
    windows = sorted(
        int(m.group(1)) for c in columns if (m := _REVENUE_WINDOW.match(str(c))) is not None
    )
    if not windows:
        return None
    fitting = [w for w in windows if w <= horizon_days]
    return f"revenue_{(fitting[-1] if fitting else windows[0])}d"


def last_period_revenue(features: pd.DataFrame, horizon_days: int) -> np.ndarray:
    """The value baseline: revenue of the latest window, scaled by ``horizon / window``."""
    column = revenue_window(features.columns, horizon_days)
    if column is None:
        raise ValueError("the last-period revenue baseline needs a revenue_{w}d feature")
    window = int(_REVENUE_WINDOW.match(column).group(1))
    # Quantised like the model's inputs: engine float sums differ in their last bits between
    # runs, and the baseline's metrics must reproduce as exactly as the model's.
    revenue = stable_float(features[column])
    return np.nan_to_num(revenue, nan=0.0) * horizon_days / window
