"""Frequency: trades, active days and logins per window, trends, active months, RFM, loyalty.

As-of date T = 2025-06-30; window starts (exclusive): 30d 2025-05-31, 90d 2025-04-01,
120d (trend base) 2025-03-02, 180d 2025-01-01, 365d 2024-06-30.
"""

from __future__ import annotations

import math

import pytest

from tests.features.conftest import frame, row
from valuemodel.features import build_features
from valuemodel.features.config import FeatureConfig

T = "2025-06-30"
FREQUENCY = FeatureConfig(families=("frequency",))
A_TRADES = [
    "2025-06-30",
    "2025-06-30",
    "2025-06-15",
    "2025-05-20",
    "2025-04-10",
    "2025-03-01",
    "2024-08-01",
    "2024-06-30",
]  # the last is outside every window (not after 06-30)


@pytest.fixture
def data(make_data):
    trades = [("a", d, 100.0, 1.0) for d in A_TRADES] + [
        ("a", "2025-07-01", 100.0, 1.0),  # after T
        ("b", "2025-01-15", 1000.0, 10.0),
    ]
    return make_data(
        trades=frame(trades, "account_id trade_date amount commission"),
        accounts=frame(
            [("a", "2020-01-01"), ("b", "2020-01-01"), ("c", "2025-03-01")],
            "account_id open_date",
        ),
        balances=frame(
            [(a, "2025-01-01", 10_000.0) for a in "abc"], "account_id date total_assets"
        ),
        logins=frame(
            [("a", d) for d in ["2025-06-29", "2025-06-29", "2025-06-01", "2025-03-15"]],
            "account_id date",
        ),
    )


def test_trades_and_active_days_per_window(data):
    a = row(build_features(data, T, FREQUENCY), "a")
    # 30d: 06-30 (two trades), 06-15 -> 3 trades on 2 days
    assert (a.trades_30d, a.active_trading_days_30d) == (3, 2)
    # 90d: + 05-20, 04-10 -> 5 trades on 4 days
    assert (a.trades_90d, a.active_trading_days_90d) == (5, 4)
    # 180d: + 03-01 -> 6 on 5; 365d: + 2024-08-01 -> 7 on 6 (2024-06-30 is the excluded start)
    assert (a.trades_180d, a.active_trading_days_180d) == (6, 5)
    assert (a.trades_365d, a.active_trading_days_365d) == (7, 6)


def test_login_days_count_distinct_days(data):
    a = row(build_features(data, T, FREQUENCY), "a")
    # two logins on 06-29 count once; 03-15 falls in the 180- and 365-day windows only
    assert [a[f"login_days_{w}d"] for w in (30, 90, 180, 365)] == [2, 2, 3, 3]


def test_trends_compare_the_last_30_days_with_the_monthly_pace_before(data):
    df = build_features(data, T, FREQUENCY)
    a = row(df, "a")
    # trading days in (03-02, 06-30]: 06-30, 06-15, 05-20, 04-10 = 4; last 30: 2; before: 2
    assert a.trading_days_trend == pytest.approx(2 / (2 / 3))
    # login days in (03-02, 06-30]: 06-29, 06-01, 03-15 = 3; last 30: 2; before: 1
    assert a.login_days_trend == pytest.approx(2 / (1 / 3))
    # b traded nowhere in the 120 days: 0 / 0 is null
    assert math.isnan(row(df, "b").trading_days_trend)


def test_active_months_counts_calendar_months_of_the_last_twelve(data):
    df = build_features(data, T, FREQUENCY)
    # 2025-06, 05, 04, 03 and 2024-08 (2024-06 is before the 12 months 2024-07..2025-06)
    assert row(df, "a").active_months_12m == 5
    assert row(df, "b").active_months_12m == 1
    assert row(df, "c").active_months_12m == 0


def test_rfm_scores_are_quintiles_within_the_as_of_date(data):
    df = build_features(data, T, FREQUENCY)
    a, b, c = (row(df, x) for x in "abc")
    # n = 3, score = floor(5 * rank / 3) + 1 for ranks 0, 1, 2 -> 1, 2, 4
    # recency: c never traded (worst), b 166 days, a 0 days
    assert (c.rfm_recency_score, b.rfm_recency_score, a.rfm_recency_score) == (1, 2, 4)
    # frequency (trades_365d): c 0, b 1, a 7
    assert (c.rfm_frequency_score, b.rfm_frequency_score, a.rfm_frequency_score) == (1, 2, 4)
    # monetary (commission_365d): c 0, a 7, b 10
    assert (c.rfm_monetary_score, a.rfm_monetary_score, b.rfm_monetary_score) == (1, 2, 4)
    assert (a.rfm_score, b.rfm_score, c.rfm_score) == (10, 8, 3)


def test_loyalty_stage_climbs_with_active_months(data):
    df = build_features(data, T, FREQUENCY)
    assert str(df.loyalty_stage.dtype) == "category"
    assert row(df, "a").loyalty_stage == "regular"  # 5 active months
    assert row(df, "b").loyalty_stage == "potential"  # 1 active month
    assert row(df, "c").loyalty_stage == "new"  # opened 121 days before T


def test_tied_accounts_share_a_score(make_data):
    trades = [(x, "2025-06-01", 10.0, 1.0) for x in "pqrs"]
    data = make_data(trades=frame(trades, "account_id trade_date amount commission"))
    df = build_features(data, T, FREQUENCY)
    assert set(df.rfm_frequency_score) == {1.0}


@pytest.fixture
def short_data(make_data):
    """Trades and logins around the short windows: 7d is (06-23, 06-30], 14d (06-16, 06-30]."""
    trades = [
        ("a", "2025-06-30", 100.0, 0.0, "buy"),
        ("a", "2025-06-30", 300.0, 0.0, "sell"),
        ("a", "2025-06-24", 200.0, 0.0, "sell"),
        ("a", "2025-06-23", 50.0, 0.0, "buy"),  # T - 7: in 14d, not in 7d
        ("a", "2025-06-16", 1_000.0, 0.0, "buy"),  # T - 14: in 30d, not in 14d
        ("a", "2025-06-01", 500.0, 0.0, None),  # no side: not in the balance
        ("a", "2025-04-15", 400.0, 0.0, "buy"),
        ("b", "2025-06-29", 10.0, 0.0, "sell"),
        ("c", "2025-06-29", 10.0, 0.0, None),
    ]
    logins = [("a", d) for d in ("2025-06-30", "2025-06-25", "2025-06-20", "2025-06-10")]
    return make_data(
        trades=frame(trades, "account_id trade_date amount commission side"),
        logins=frame(logins, "account_id date"),
    )


def test_short_windows_count_trades_days_and_logins(short_data):
    a = row(build_features(short_data, T, FREQUENCY), "a")
    assert (a.trades_7d, a.active_trading_days_7d) == (3, 2)
    assert (a.trades_14d, a.active_trading_days_14d) == (4, 3)
    assert (a.login_days_7d, a.login_days_14d) == (2, 3)


def test_buy_sell_balance_is_bought_minus_sold_over_sided_value(short_data):
    df = build_features(short_data, T, FREQUENCY)
    a = row(df, "a")
    assert a.buy_sell_balance_7d == pytest.approx((100 - 500) / 600)
    assert a.buy_sell_balance_14d == pytest.approx((150 - 500) / 650)
    assert a.buy_sell_balance_30d == pytest.approx((1_150 - 500) / 1_650)
    assert a.buy_sell_balance_90d == pytest.approx((1_550 - 500) / 2_050)
    assert row(df, "b").buy_sell_balance_7d == -1  # only sells
    assert math.isnan(row(df, "c").buy_sell_balance_7d)  # no side known
