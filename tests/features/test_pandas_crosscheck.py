"""An independent check on a trades-only data set: recency, frequency and monetary values
agree with a straightforward pandas computation (loop over as-of dates, masks, groupby)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.features.conftest import write_tables
from valuemodel.data.reader import open_data
from valuemodel.features import build_features

DATES = [pd.Timestamp("2025-03-31"), pd.Timestamp("2025-06-30")]
WINDOWS = (30, 90, 180, 365)
SHORT = (7, 14)  # the short windows count trades and trading days only


@pytest.fixture(scope="module")
def trades() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    n = 3000
    days = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 550, n), "D")
    return pd.DataFrame(
        {
            "account_id": [f"acc{i:03d}" for i in rng.integers(0, 120, n)],
            "trade_date": days.date,
            "amount": rng.lognormal(9, 1, n).round(2),
            "commission": rng.uniform(0, 30, n).round(2),
        }
    )


def by_pandas(trades: pd.DataFrame) -> pd.DataFrame:
    t = trades.assign(trade_date=pd.to_datetime(trades.trade_date))
    frames = []
    for as_of in DATES:
        seen = t[t.trade_date <= as_of]
        g = seen.groupby("account_id")
        out = pd.DataFrame({"first": g.trade_date.min(), "last": g.trade_date.max()})
        out = out[out["last"] > as_of - pd.Timedelta(days=365)]  # the population
        out["days_since_last_trade"] = (as_of - out["last"]).dt.days.astype(float)
        out["tenure_days"] = (as_of - out["first"]).dt.days.astype(float)
        for w in WINDOWS:
            win = seen[seen.trade_date > as_of - pd.Timedelta(days=w)].groupby("account_id")
            out[f"trades_{w}d"] = win.size()
            out[f"active_trading_days_{w}d"] = win.trade_date.nunique()
            out[f"traded_value_{w}d"] = win.amount.sum()
            out[f"commission_{w}d"] = win.commission.sum()
        for w in SHORT:
            win = seen[seen.trade_date > as_of - pd.Timedelta(days=w)].groupby("account_id")
            out[f"trades_{w}d"] = win.size()
            out[f"active_trading_days_{w}d"] = win.trade_date.nunique()
        out = out.drop(columns=["first", "last"]).fillna(0.0).astype(float)
        frames.append(out.reset_index().assign(as_of=as_of))
    return pd.concat(frames, ignore_index=True)


def test_features_agree_with_pandas(tmp_path, trades):
    data = open_data(write_tables(tmp_path, {"trades": trades}))
    ours = build_features(data, DATES)
    expected = by_pandas(trades)
    merged = ours.merge(
        expected, on=["account_id", "as_of"], suffixes=("", "_pd"), how="outer", indicator=True
    )
    assert (merged._merge == "both").all(), "the populations differ"
    for col in [c for c in expected.columns if c not in ("account_id", "as_of")]:
        np.testing.assert_allclose(merged[col], merged[f"{col}_pd"], rtol=1e-9, err_msg=col)


def test_rfm_scores_agree_with_pandas_ranks(tmp_path, trades):
    df = build_features(open_data(write_tables(tmp_path, {"trades": trades})), DATES)
    for _, day in df.groupby("as_of"):
        n = len(day)
        for col, key in [
            ("rfm_recency_score", -day.days_since_last_trade),
            ("rfm_frequency_score", day.trades_365d),
            ("rfm_monetary_score", day.commission_365d.round(6)),
        ]:
            rank = key.rank(method="min") - 1  # 0-based, ties share the lowest rank
            np.testing.assert_array_equal(day[col], np.floor(5 * rank / n) + 1, err_msg=col)
