"""Recency: days since the last trade, login, deposit, withdrawal; tenure (hand-computed)."""

from __future__ import annotations

import math

import pytest

from tests.features.conftest import frame, row
from valuemodel.features import build_features
from valuemodel.features.config import FeatureConfig

T = "2025-06-30"
RECENCY = FeatureConfig(families=("recency",))


@pytest.fixture
def data(make_data):
    return make_data(
        trades=frame(
            [
                ("a", "2025-06-20", 100.0, 1.0),
                ("a", "2025-06-30", 100.0, 1.0),
                ("a", "2025-06-30", 50.0, 0.5),
                ("a", "2025-07-05", 100.0, 1.0),  # after T: ignored
                ("b", "2024-01-10", 100.0, 1.0),
            ],
            "account_id trade_date amount commission",
        ),
        accounts=frame(
            [("a", "2025-01-01", None), ("b", "2020-06-30", None)],
            "account_id open_date close_date",
        ),
        balances=frame(
            [("a", "2025-06-01", 10_000.0), ("b", "2024-01-01", 5_000.0)],
            "account_id date total_assets",
        ),
        logins=frame([("a", "2025-06-29"), ("a", "2025-07-01")], "account_id date"),
        cashflows=frame(
            [("a", "2025-05-01", 1000.0), ("a", "2025-06-10", -500.0), ("a", "2025-07-02", -9.0)],
            "account_id date amount",
        ),
    )


def test_days_since_each_last_event_are_counted_to_the_as_of_date(data):
    df = build_features(data, T, RECENCY)
    a = row(df, "a")
    assert a.days_since_last_trade == 0  # traded on T itself
    assert a.days_since_last_login == 1  # 2025-06-29 -> 06-30
    assert a.days_since_last_deposit == 60  # 05-01 -> 05-31 is 30 days, + 30 in June
    assert a.days_since_last_withdrawal == 20  # 06-10 -> 06-30


def test_an_event_that_never_happened_reads_as_null_not_zero(data):
    b = row(build_features(data, T, RECENCY), "b")
    # 2024-01-10 -> 2025-01-10 is 366 days (2024 is a leap year), + 21 + 28 + 31 + 30 + 31 + 30
    assert b.days_since_last_trade == 537
    assert math.isnan(b.days_since_last_login)
    assert math.isnan(b.days_since_last_deposit)
    assert math.isnan(b.days_since_last_withdrawal)


def test_tenure_is_days_since_the_account_opened(data):
    df = build_features(data, T, RECENCY)
    assert row(df, "a").tenure_days == 180  # 31+28+31+30+31+30 - 1 from 01-01 to 06-30
    assert row(df, "b").tenure_days == 1826  # five years including one 29 February


def test_without_logins_or_cashflows_those_columns_are_absent(make_data):
    data = make_data(
        trades=frame([("a", "2025-06-20", 100.0, 1.0)], "account_id trade_date amount commission")
    )
    df = build_features(data, T, RECENCY)
    assert list(df.columns) == [
        "account_id",
        "as_of",
        "days_since_last_trade",
        "tenure_days",
        "trading_days_since_last_trade",
    ]
    # without accounts, the account opened on its first activity
    assert row(df, "a").tenure_days == 10
