"""Assets and P&L, hand-computed at T = 2025-06-30 (a month end).

Account a's snapshots: 2024-06-30 80k, 2025-03-31 90k, 2025-05-31 100k, 2025-06-10 120k,
2025-06-30 110k (cash 11k, margin debt 5.5k); one deposit of 15k on 2025-06-10.
"""

from __future__ import annotations

import math

import pytest

from tests.features.conftest import frame, row
from valuemodel.features import build_features
from valuemodel.features.config import FeatureConfig

T = "2025-06-30"
ASSETS = FeatureConfig(families=("assets",))


@pytest.fixture
def data(make_data):
    balances = [
        ("a", "2024-06-30", 80_000.0, None, None),
        ("a", "2025-03-31", 90_000.0, None, None),
        ("a", "2025-05-31", 100_000.0, None, None),
        ("a", "2025-06-10", 120_000.0, None, None),
        ("a", "2025-06-30", 110_000.0, 11_000.0, 5_500.0),
        ("a", "2025-07-31", 1.0, None, None),  # after T
        ("b", "2025-06-15", 5_000.0, 5_000.0, 0.0),
    ]
    return make_data(
        trades=frame([("a", "2025-06-01", 1.0, 0.0)], "account_id trade_date amount commission"),
        balances=frame(balances, "account_id date total_assets cash margin_debt"),
        cashflows=frame([("a", "2025-06-10", 15_000.0)], "account_id date amount"),
    )


def test_total_and_average_assets(data):
    a = row(build_features(data, T, ASSETS), "a")
    assert a.total_assets == 110_000
    assert a.avg_assets_30d == pytest.approx((120_000 + 110_000) / 2)
    assert a.avg_assets_90d == pytest.approx((100_000 + 120_000 + 110_000) / 3)
    # 180d adds 03-31; 365d excludes 2024-06-30, the first day outside the window
    assert a.avg_assets_180d == pytest.approx(420_000 / 4)
    assert a.avg_assets_365d == pytest.approx(420_000 / 4)


def test_growth_compares_with_the_latest_snapshot_on_or_before_t_minus_w(data):
    a = row(build_features(data, T, ASSETS), "a")
    assert a.asset_growth_30d == pytest.approx(110 / 100 - 1)  # T-30 = 05-31
    assert a.asset_growth_90d == pytest.approx(110 / 90 - 1)  # T-90 = 04-01 -> 03-31
    assert a.asset_growth_180d == pytest.approx(110 / 80 - 1)  # T-180 = 01-01 -> 2024-06-30
    assert a.asset_growth_365d == pytest.approx(110 / 80 - 1)  # T-365 = 2024-06-30


def test_pnl_removes_flows_and_return_is_modified_dietz(data):
    a = row(build_features(data, T, ASSETS), "a")
    assert a.pnl_30d == pytest.approx(110_000 - 100_000 - 15_000)
    # the deposit came 20 days before T: weight 20/30 -> 100k + 10k invested
    assert a.return_30d == pytest.approx(-5_000 / 110_000)
    assert a.pnl_90d == pytest.approx(110_000 - 90_000 - 15_000)
    assert a.return_90d == pytest.approx(5_000 / (90_000 + 15_000 * 20 / 90))


def test_drawdown_margin_and_cash(data):
    df = build_features(data, T, ASSETS)
    a = row(df, "a")
    assert a.drawdown_30d == pytest.approx(1 - 110 / 120)
    assert a.drawdown_365d == pytest.approx(1 - 110 / 120)
    assert a.margin_usage == pytest.approx(0.05)
    assert a.cash_share == pytest.approx(0.1)
    b = row(df, "b")
    # b's only snapshot is inside every window; no base 30 days before -> no growth, no P&L
    assert math.isnan(b.asset_growth_30d) and math.isnan(b.pnl_30d)
    assert b.drawdown_30d == 0


def test_profitable_month_share_counts_months_with_a_profit(data):
    a = row(build_features(data, T, ASSETS), "a")
    # month ends 2024-07 .. 2025-02: 80k each (flat); March 90k (+10k); April 90k (flat);
    # May 100k (+10k); June 110k - 100k - 15k deposit = -5k -> 2 profitable of 12
    assert a.profitable_month_share_12m == pytest.approx(2 / 12)


def test_without_cashflows_pnl_is_absent_and_without_balances_the_family_is(make_data):
    trades = frame([("a", "2025-06-01", 1.0, 0.0)], "account_id trade_date amount commission")
    balances = frame([("a", "2025-06-01", 5_000.0)], "account_id date total_assets")
    cols = build_features(make_data(trades=trades, balances=balances), T, ASSETS).columns
    assert "total_assets" in cols and "pnl_30d" not in cols and "return_30d" not in cols
    assert list(build_features(make_data(trades=trades), T, ASSETS).columns) == [
        "account_id",
        "as_of",
    ]


@pytest.fixture
def mix_data(make_data):
    """Asset mix at 03-31 (T - 90 -> 04-01 -> 03-31), 05-31 (T - 30), 06-23 (T - 7) and T.

    Columns: total_assets, cash, stock_value, fund_value, bond_value, margin_debt.
    """
    balances = [
        ("a", "2025-03-31", 100_000.0, 10_000.0, 60_000.0, 20_000.0, 10_000.0, 5_000.0),
        ("a", "2025-05-31", 120_000.0, 12_000.0, 72_000.0, 24_000.0, 12_000.0, 8_000.0),
        ("a", "2025-06-23", 110_000.0, 22_000.0, 66_000.0, 11_000.0, 11_000.0, 6_000.0),
        ("a", "2025-06-30", 100_000.0, 50_000.0, 30_000.0, 10_000.0, 10_000.0, 2_000.0),
        ("b", "2025-06-30", 5_000.0, 5_000.0, 0.0, 0.0, 0.0, 0.0),
    ]
    columns = "account_id date total_assets cash stock_value fund_value bond_value margin_debt"
    return make_data(
        trades=frame([("a", "2025-06-01", 1.0, 0.0)], "account_id trade_date amount commission"),
        balances=frame(balances, columns),
    )


def test_asset_change_compares_with_the_snapshot_w_days_before(mix_data):
    a = row(build_features(mix_data, T, ASSETS), "a")
    assert (a.asset_change_7d, a.asset_change_30d, a.asset_change_90d) == (-10_000, -20_000, 0)
    assert a.asset_growth_7d == pytest.approx(100 / 110 - 1)


def test_asset_mix_changes_are_share_point_differences(mix_data):
    df = build_features(mix_data, T, ASSETS)
    a = row(df, "a")
    assert a.cash_share_change_7d == pytest.approx(0.5 - 0.2)
    assert a.cash_share_change_30d == pytest.approx(0.5 - 0.1)
    assert a.cash_share_change_90d == pytest.approx(0.5 - 0.1)
    assert a.stock_weight_change_7d == pytest.approx(0.3 - 0.6)
    assert a.fund_weight_change_7d == pytest.approx(0.0)
    assert a.fund_weight_change_30d == pytest.approx(0.1 - 0.2)
    assert a.bond_weight_change_90d == pytest.approx(0.0)
    margin = (a.margin_debt_change_7d, a.margin_debt_change_30d, a.margin_debt_change_90d)
    assert margin == (-4_000, -6_000, -3_000)
    b = row(df, "b")  # no snapshot before T: no change
    assert math.isnan(b.asset_change_7d) and math.isnan(b.cash_share_change_30d)
