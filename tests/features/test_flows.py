"""Cash flows, hand-computed at T = 2025-06-30."""

from __future__ import annotations

import math

import pytest

from tests.features.conftest import frame, row
from valuemodel.features import build_features
from valuemodel.features.config import FeatureConfig

T = "2025-06-30"
FLOWS = FeatureConfig(families=("flows",))


@pytest.fixture
def data(make_data):
    flows = [
        ("a", "2025-06-20", -2_000.0),
        ("a", "2025-06-20", -1_000.0),
        ("a", "2025-05-15", 5_000.0),
        ("a", "2025-01-10", -4_000.0),
        ("a", "2024-05-01", -9_999.0),  # older than every window
        ("a", "2025-07-01", -50_000.0),  # after T
    ]
    balances = [
        ("a", "2024-06-01", 20_000.0),
        ("a", "2024-12-01", 30_000.0),
        ("a", "2025-03-01", 40_000.0),
        ("a", "2025-05-31", 50_000.0),
        ("b", "2025-05-31", 50_000.0),
    ]
    return make_data(
        trades=frame([("a", "2025-06-01", 1.0, 0.0)], "account_id trade_date amount commission"),
        balances=frame(balances, "account_id date total_assets"),
        cashflows=frame(flows, "account_id date amount"),
    )


def test_net_flow_outflow_and_withdrawals_per_window(data):
    a = row(build_features(data, T, FLOWS), "a")
    assert [a[f"net_flow_{w}d"] for w in (30, 90, 180, 365)] == [-3_000, 2_000, -2_000, -2_000]
    assert [a[f"outflow_{w}d"] for w in (30, 90, 180, 365)] == [3_000, 3_000, 7_000, 7_000]
    assert [a[f"withdrawals_{w}d"] for w in (30, 90, 180, 365)] == [2, 2, 3, 3]


def test_outflow_share_divides_by_assets_at_the_window_start(data):
    a = row(build_features(data, T, FLOWS), "a")
    assert a.outflow_share_30d == pytest.approx(3_000 / 50_000)  # assets on 05-31
    assert a.outflow_share_90d == pytest.approx(3_000 / 40_000)  # 04-01 -> 03-01 snapshot
    assert a.outflow_share_180d == pytest.approx(7_000 / 30_000)  # 01-01 -> 2024-12-01
    assert a.outflow_share_365d == pytest.approx(7_000 / 20_000)  # 2024-06-30 -> 06-01


def test_an_account_without_flows_has_zeros(data):
    b = row(build_features(data, T, FLOWS), "b")
    assert b.net_flow_30d == 0 and b.outflow_365d == 0 and b.withdrawals_90d == 0
    assert b.outflow_share_30d == 0


@pytest.fixture
def deposit_data(make_data):
    """Short-window flows, the largest withdrawal and deposit months (no balances).

    a: deposits in June (06-30, 06-20), May and March, none in April; two equal largest
    withdrawals (06-24, 06-25) and a larger one exactly 365 days before T (outside).
    b: a deposit in every month from 2024-06 to 2025-06. c: never deposited.
    """
    flows = [
        ("a", "2025-06-30", 1_000.0),
        ("a", "2025-06-25", -3_000.0),
        ("a", "2025-06-24", -3_000.0),
        ("a", "2025-06-20", 2_000.0),
        ("a", "2025-06-16", -500.0),  # T - 14: in 30d, not in 14d
        ("a", "2025-05-10", 100.0),
        ("a", "2025-03-05", 100.0),
        ("a", "2024-06-30", -10_000.0),  # T - 365: outside
        *[("b", f"{y}-{m:02d}-05", 10.0) for y, m in [(2024, 6 + i) for i in range(7)]],
        *[("b", f"2025-{m:02d}-05", 10.0) for m in range(1, 7)],
        ("c", "2025-06-01", -10.0),
    ]
    trades = [(x, "2025-06-01", 1.0, 0.0) for x in "abc"]
    return make_data(
        trades=frame(trades, "account_id trade_date amount commission"),
        cashflows=frame(flows, "account_id date amount"),
    )


def test_short_windows_and_deposits_of_their_own(deposit_data):
    a = row(build_features(deposit_data, T, FLOWS), "a")
    assert (a.inflow_7d, a.deposits_7d, a.inflow_14d, a.deposits_14d) == (1_000, 1, 3_000, 2)
    assert (a.outflow_7d, a.withdrawals_7d, a.outflow_14d) == (6_000, 2, 6_000)
    assert (a.net_flow_7d, a.net_flow_14d) == (-5_000, -3_000)
    assert (a.inflow_30d, a.deposits_90d) == (3_000, 3)  # 05-10 is in 90d only


def test_days_since_the_largest_withdrawal_takes_the_latest_of_equal_ones(deposit_data):
    df = build_features(deposit_data, T, FLOWS)
    assert row(df, "a").days_since_largest_withdrawal == 5  # 06-25, not 06-24 nor 2024-06-30
    assert row(df, "c").days_since_largest_withdrawal == 29
    assert math.isnan(row(df, "b").days_since_largest_withdrawal)


def test_deposit_streak_and_days_since_the_last_month_without_a_deposit(deposit_data):
    df = build_features(deposit_data, T, FLOWS)
    a, b, c = (row(df, x) for x in "abc")
    # T is a month end, so June counts: June and May had deposits, April did not
    assert (a.deposit_streak_months, a.days_since_deposit_free_month) == (2, 61)
    assert b.deposit_streak_months == 12 and math.isnan(b.days_since_deposit_free_month)
    assert (c.deposit_streak_months, c.days_since_deposit_free_month) == (0, 0)
    mid = build_features(deposit_data, "2025-06-15", FLOWS)  # June is not complete yet
    a, c = row(mid, "a"), row(mid, "c")
    assert (a.deposit_streak_months, a.days_since_deposit_free_month) == (1, 46)  # 04-30
    assert (c.deposit_streak_months, c.days_since_deposit_free_month) == (0, 15)  # 05-31
