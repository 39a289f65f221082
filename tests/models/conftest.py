"""Synthetic feature frames with a known signal, for fitting the estimators quickly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def make_frame(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Features (account_id, as_of, numbers, one category), churn 0/1 and revenue >= 0."""
    rng = np.random.default_rng(seed)
    recency = rng.exponential(30, n)
    trades = rng.poisson(5, n).astype(float)
    assets = rng.lognormal(11, 1.2, n)
    channel = rng.choice(["app", "branch", "web"], n)
    logit = -2.0 + 0.04 * recency - 0.3 * trades + (channel == "web") * 0.8
    churn = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float)
    active = rng.random(n) < 1 / (1 + np.exp(-(trades - 4)))
    revenue = np.where(active, rng.lognormal(np.log1p(assets) * 0.4, 0.8), 0.0)
    frame = pd.DataFrame(
        {
            "account_id": [f"A{i:05d}" for i in range(n)],
            "as_of": pd.Timestamp("2025-01-31"),
            "days_since_last_trade": recency,
            "trades_90d": trades,
            "total_assets": assets,
            "revenue_365d": revenue * rng.lognormal(0, 0.5, n),
            "channel": pd.Categorical(channel, categories=["app", "branch", "web"]),
        }
    )
    frame.loc[rng.random(n) < 0.05, "total_assets"] = np.nan
    return frame, churn, revenue


@pytest.fixture(scope="module")
def synthetic():
    """(train frame, churn, revenue), (valid frame, churn, revenue)."""
    return make_frame(3000, 1), make_frame(1500, 2)
