"""The reference churn model: what an analyst writes in an afternoon.

LightGBM with its default parameters (100 rounds, 31 leaves, learning rate 0.1; only the
seed and thread count fixed for reproducibility), no tuning, no early stopping, no
calibration, on a small fixed list of plain features (``REFERENCE_FEATURES``; those absent
from the data are skipped): activity, amounts, logins, money in and out and revenue per
30/90/180/365 days, the trading and login trends, assets now against 30/90/180 days ago,
P&L per window, the asset-mix change and the buy/sell balance of the last 30 days, drawdown,
tenure and the profile. Every training run measures it beside the tuned model, so that a run
that does not beat it says so.
"""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd

from valuemodel.models import boosting
from valuemodel.models.stability import stable_float

_WINDOWS = (30, 90, 180, 365)
REFERENCE_FEATURES: tuple[str, ...] = (
    *(f"{m}_{w}d" for m in ("trades", "traded_value", "login_days", "revenue") for w in _WINDOWS),
    *(f"{m}_{w}d" for m in ("inflow", "outflow") for w in (30, 90, 365)),
    *(f"pnl_{w}d" for w in _WINDOWS),
    *(f"asset_growth_{w}d" for w in (30, 90, 180)),
    "trading_days_trend",
    "login_days_trend",
    "cash_share_change_30d",
    "stock_weight_change_30d",
    "buy_sell_balance_30d",
    "drawdown_90d",
    "drawdown_365d",
    "total_assets",
    "days_since_last_trade",
    "tenure_days",
    "age",
    "gender",
    "risk_level",
    "investor_type",
)
ROUNDS = 100
"""LightGBM's default number of boosting rounds."""


def reference_columns(features: pd.DataFrame) -> list[str]:
    """The reference features present in ``features``, in ``REFERENCE_FEATURES`` order."""
    return [c for c in REFERENCE_FEATURES if c in features.columns]


def fit_reference(features: pd.DataFrame, y, seed: int = 7, num_threads: int = 1) -> lgb.Booster:
    """The reference booster trained on ``features`` (any extra columns ignored) and 0/1
    churn labels ``y``. Raises ValueError when none of the reference features is present."""
    columns = reference_columns(features)
    if not columns:
        raise ValueError("the reference model needs at least one of its plain features")
    params = boosting.booster_params({"objective": "binary"}, seed, num_threads)
    data = boosting.dataset(_numbers(features[columns]), y)
    return lgb.train(params, data, num_boost_round=ROUNDS)


def predict_reference(booster: lgb.Booster, features: pd.DataFrame) -> np.ndarray:
    """Churn probabilities of the reference booster for the rows of ``features``."""
    return booster.predict(_numbers(features[booster.feature_name()]))


def _numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """Numbers as float64 quantised as the models' inputs are (``stable_float``: the engine
    sums money in an order that depends on the file's layout and the other dates of a
    build, so a last bit may differ between two builds of the same rows, and a tree's
    split with it), categories kept (LightGBM splits on them natively)."""
    out = {}
    for c in frame.columns:
        col = frame[c]
        out[c] = col if isinstance(col.dtype, pd.CategoricalDtype) else stable_float(col)
    return pd.DataFrame(out, index=frame.index)
