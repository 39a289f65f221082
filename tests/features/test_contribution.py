"""Turnover and contribution, hand-computed at T = 2025-06-30."""

from __future__ import annotations

import math

import pytest

from tests.features.conftest import frame, row
from valuemodel.features import build_features
from valuemodel.features.config import FeatureConfig

T = "2025-06-30"
CONTRIBUTION = FeatureConfig(families=("contribution",))
COLUMNS = "account_id trade_date amount commission side product"


@pytest.fixture
def data(make_data):
    trades = [
        ("a", "2025-06-20", 10_000.0, 5.0, "buy", "stock"),
        ("a", "2025-05-10", 20_000.0, 4.0, "sell", "fund"),
        ("a", "2024-12-01", 30_000.0, 3.0, "buy", "bond"),
        ("b", "2025-06-01", 10_000.0, 10.0, "buy", "stock"),
        ("c", "2025-06-01", 100_000.0, 10.0, "buy", "stock"),
    ]
    balances = [
        ("a", "2025-04-15", 200_000.0),
        ("a", "2025-06-01", 100_000.0),
        ("b", "2025-06-01", 100_000.0),
        ("c", "2025-06-01", 6_000_000.0),
        ("d", "2025-06-01", 50_000.0),
    ]
    revenue = [
        ("a", "2025-06-25", 7.0, "commission"),
        ("a", "2025-06-26", 3.0, "margin_interest"),
        ("a", "2025-03-01", 2.0, "product_fee"),
    ]
    return make_data(
        trades=frame(trades, COLUMNS),
        balances=frame(balances, "account_id date total_assets"),
        revenue=frame(revenue, "account_id date amount kind"),
    )


def test_traded_value_commission_and_revenue_per_window(data):
    a = row(build_features(data, T, CONTRIBUTION), "a")
    # 30d: 06-20; 90d and 180d: + 05-10; 365d: + 2024-12-01
    assert [a[f"traded_value_{w}d"] for w in (30, 90, 180, 365)] == [1e4, 3e4, 3e4, 6e4]
    assert [a[f"commission_{w}d"] for w in (30, 90, 180, 365)] == [5, 9, 9, 12]
    # revenue comes from the revenue table: 7 + 3 in June, + 2 on 03-01 (in 180d and 365d)
    assert [a[f"revenue_{w}d"] for w in (30, 90, 180, 365)] == [10, 10, 12, 12]


def test_asset_turnover_divides_by_the_average_snapshot_in_the_window(data):
    a = row(build_features(data, T, CONTRIBUTION), "a")
    assert a.asset_turnover_30d == pytest.approx(10_000 / 100_000)  # only 06-01 in 30 days
    assert a.asset_turnover_90d == pytest.approx(30_000 / 150_000)  # 04-15 and 06-01
    assert a.asset_turnover_365d == pytest.approx(60_000 / 150_000)


def test_effective_rate_and_product_and_side_shares(data):
    a = row(build_features(data, T, CONTRIBUTION), "a")
    assert a.effective_commission_rate == pytest.approx(12 / 60_000)
    assert a.stock_share_365d == pytest.approx(1 / 6)
    assert a.fund_share_365d == pytest.approx(1 / 3)
    assert a.bond_share_365d == pytest.approx(1 / 2)
    assert a.option_share_365d == 0
    assert a.buy_share_90d == pytest.approx(10_000 / 30_000)  # the 05-10 trade was a sale


def test_commission_rate_percentile_ranks_within_the_asset_tier(data):
    df = build_features(data, T, CONTRIBUTION)
    # retail (< 500k): a pays 0.0002, b pays 0.001 -> a cheapest (0), b dearest (1)
    assert row(df, "a").commission_rate_percentile == 0
    assert row(df, "b").commission_rate_percentile == 1
    # c (6M) is alone among large accounts; d never traded: no rate, no percentile
    assert row(df, "c").commission_rate_percentile == 0
    assert math.isnan(row(df, "d").effective_commission_rate)
    assert math.isnan(row(df, "d").commission_rate_percentile)
    assert row(df, "d").traded_value_30d == 0


def test_without_product_or_side_the_shares_are_null(make_data):
    data = make_data(
        trades=frame([("a", "2025-06-20", 100.0, 1.0)], "account_id trade_date amount commission")
    )
    a = row(build_features(data, T, CONTRIBUTION), "a")
    assert math.isnan(a.stock_share_365d) and math.isnan(a.buy_share_90d)
    assert a.revenue_30d == 1  # commission stands in for revenue
    assert not any(c.startswith("asset_turnover") for c in a.index)  # no balances
