"""Baselines every training run is measured against.

- Churn, the recency rule: the longer since the last trade, the higher the risk
  (``days_since_last_trade``; an account that never traded ranks highest).
- Churn, logistic regression on the same features: numbers through a signed ``log1p`` (heavy
  tails), median imputation and scaling; categories one-hot encoded.
- Value, last-period revenue: revenue over the most recent window, scaled to the horizon.
- Value, the service manuals' rule ``CLV = P / R`` (:class:`ClvRule`): the contribution per
  period ``P`` over the account's capital tier's churn rate per period ``R``, taken over the
  value horizon (see the class for the exact formula and its cap).
"""

from __future__ import annotations

import math
import re
from typing import Any

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


# --- CLV = P / R ------------------------------------------------------------------------------

NO_ASSETS = "(no assets)"
"""The capital segment of an account without ``total_assets`` (no balances table)."""


def capital_segment(features: pd.DataFrame, medium: float, large: float) -> np.ndarray:
    """``large`` (total_assets >= large), ``medium`` (>= medium), ``retail``, else NO_ASSETS.

    The capital tiers of the service manuals (大户 / 中户 / 散户), on ``total_assets`` at T.
    """
    if "total_assets" not in features.columns:
        return np.full(len(features), NO_ASSETS, dtype=object)
    assets = features["total_assets"].to_numpy(dtype=float, na_value=np.nan)
    out = np.where(assets >= large, "large", np.where(assets >= medium, "medium", "retail"))
    return np.where(np.isnan(assets), NO_ASSETS, out).astype(object)


def periods_value(rate, periods: float) -> np.ndarray:
    """``sum_{k=1..n} (1 - R)^(k-1) = (1 - (1 - R)^n) / R``: periods of contribution expected
    over ``n`` periods at a constant churn rate ``R`` per period; ``n`` when ``R`` is 0.

    The closed form extends to a fractional ``n`` (a 365-day horizon is 4.06 quarters). It
    never exceeds ``n`` nor ``1 / R``, so ``P / R`` stays finite as ``R`` approaches 0.
    """
    rate = np.clip(np.asarray(rate, dtype=float), 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        closed = (1.0 - (1.0 - rate) ** periods) / rate
    return np.where(rate > 1e-12, closed, float(periods))


class ClvRule:
    """The manuals' value formula ``CLV = P / R`` as a value baseline, over the value horizon.

    ``P`` = the account's contribution per period: ``revenue_{contribution_days}d`` (revenue
    over the last ``contribution_days``, 365 by default; missing or negative counts as 0)
    scaled to ``period_days``. ``R`` = the churn rate per period of the account's capital
    segment (:func:`capital_segment`), the share of the training snapshots' accounts of that
    segment that churned within ``period_days`` (the churn horizon): a rule, not a model. A
    segment with fewer than ``min_segment_rows`` training rows, or unseen in training, takes
    the rate of all rows.

    The value over ``horizon_days`` (``n = horizon_days / period_days`` periods) that ``P / R``
    implies under a constant churn rate, the account contributing ``P`` in every period it
    is still there: ``clv_rule = P * (1 - (1 - R)^n) / R`` (:func:`periods_value`). ``P / R``
    is the limit for an endless horizon; the finite horizon caps it at ``P * n`` (the
    contribution at the current pace over the horizon) as ``R`` approaches 0.

    ``fit(features, churned)`` learns ``rates_`` (segment -> rate), ``rows_`` (segment ->
    training rows) and ``overall_rate_``; ``to_dict`` / ``from_dict`` store them as plain
    JSON in the value model's metadata, so scoring needs no training data.
    """

    def __init__(
        self,
        period_days: int = 90,
        horizon_days: int = 365,
        contribution_days: int = 365,
        medium: float = 500_000,
        large: float = 5_000_000,
        min_segment_rows: int = 30,
    ):
        self.period_days = period_days
        self.horizon_days = horizon_days
        self.contribution_days = contribution_days
        self.medium = medium
        self.large = large
        self.min_segment_rows = min_segment_rows

    @property
    def contribution_feature(self) -> str:
        return f"revenue_{self.contribution_days}d"

    def fit(self, features: pd.DataFrame, churned) -> ClvRule:
        """Churn rate per capital segment from training rows (``total_assets``, churn 0/1)."""
        y = np.asarray(churned, dtype=float)
        if len(y) != len(features) or len(y) == 0:
            raise ValueError(
                f"the P / R rule needs labelled rows: got {len(features)} feature rows and "
                f"{len(y)} churn labels"
            )
        segments = capital_segment(features, self.medium, self.large)
        frame = pd.DataFrame({"segment": segments, "churn": y})
        grouped = frame.groupby("segment", sort=True)["churn"].agg(["mean", "size"])
        self.overall_rate_ = float(y.mean())
        self.rows_ = {str(s): int(n) for s, n in grouped["size"].items()}
        self.rates_ = {
            str(s): float(r)
            for s, r in grouped["mean"].items()
            if grouped.loc[s, "size"] >= self.min_segment_rows
        }
        return self

    def rates(self, features: pd.DataFrame) -> np.ndarray:
        """``R``: each account's segment churn rate per period (the overall rate if unknown)."""
        segments = capital_segment(features, self.medium, self.large)
        return np.array([self.rates_.get(s, self.overall_rate_) for s in segments], dtype=float)

    def contribution(self, features: pd.DataFrame) -> np.ndarray:
        """``P``: the contribution per period, from ``revenue_{contribution_days}d``."""
        column = self.contribution_feature
        if column not in features.columns:
            raise ValueError(f"the P / R rule needs the feature {column!r}")
        revenue = np.nan_to_num(stable_float(features[column]), nan=0.0)
        return np.clip(revenue, 0.0, None) * self.period_days / self.contribution_days

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        """``clv_rule``: the value over ``horizon_days`` that ``P / R`` implies, per row."""
        if not hasattr(self, "rates_"):
            raise ValueError("the P / R rule is not fitted: call fit or from_dict first")
        periods = self.horizon_days / self.period_days
        return self.contribution(features) * periods_value(self.rates(features), periods)

    def to_dict(self) -> dict[str, Any]:
        return {
            "formula": "P * (1 - (1 - R)^n) / R, n = horizon_days / period_days",
            "segment": "capital tier of total_assets (large / medium / retail)",
            "period_days": self.period_days,
            "horizon_days": self.horizon_days,
            "contribution_days": self.contribution_days,
            "medium": self.medium,
            "large": self.large,
            "min_segment_rows": self.min_segment_rows,
            "rates": dict(self.rates_),
            "rows": dict(self.rows_),
            "overall_rate": self.overall_rate_,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClvRule:
        """The fitted rule stored by :meth:`to_dict` (``ValueError`` when malformed)."""
        try:
            rule = cls(
                period_days=int(data["period_days"]),
                horizon_days=int(data["horizon_days"]),
                contribution_days=int(data["contribution_days"]),
                medium=float(data["medium"]),
                large=float(data["large"]),
                min_segment_rows=int(data["min_segment_rows"]),
            )
            rule.rates_ = {str(k): float(v) for k, v in data["rates"].items()}
            rule.rows_ = {str(k): int(v) for k, v in data.get("rows", {}).items()}
            rule.overall_rate_ = float(data["overall_rate"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"the stored P / R rule is malformed ({exc!r})") from None
        if not math.isfinite(rule.overall_rate_) or rule.period_days < 1:
            raise ValueError("the stored P / R rule is malformed (rate or period)")
        return rule
