"""Holdings from the latest positions snapshot on or before T = 2025-06-30."""

from __future__ import annotations

import math

import pytest

from tests.features.conftest import frame, row
from valuemodel.features import build_features
from valuemodel.features.config import FeatureConfig

T = "2025-06-30"
HOLDINGS = FeatureConfig(families=("holdings",))


@pytest.fixture
def data(make_data):
    positions = [
        ("a", "2025-05-31", "X", 1_000.0, 900.0),  # an older snapshot: ignored
        ("a", "2025-06-30", "X", 600.0, 500.0),
        ("a", "2025-06-30", "Y", 300.0, 400.0),
        ("a", "2025-06-30", "Z", 100.0, None),
        ("a", "2025-06-30", "W", 0.0, 50.0),  # sold out
        ("a", "2025-07-31", "X", 5.0, 5.0),  # after T
        ("b", "2025-05-31", "S", 200.0, 100.0),
    ]
    balances = [(x, "2025-06-01", 10_000.0) for x in "abc"]
    return make_data(
        trades=frame([("a", "2025-06-01", 1.0, 0.0)], "account_id trade_date amount commission"),
        balances=frame(balances, "account_id date total_assets"),
        positions=frame(positions, "account_id date symbol market_value cost_basis"),
    )


def test_concentration_and_unrealized_pnl_of_the_latest_snapshot(data):
    a = row(build_features(data, T, HOLDINGS), "a")
    assert a.positions_count == 3  # W has no market value
    # weights 0.6, 0.3, 0.1
    assert a.holdings_hhi == pytest.approx(0.36 + 0.09 + 0.01)
    assert a.top_holding_weight == pytest.approx(0.6)
    # positions with a cost basis: (600 + 300 + 0) / (500 + 400 + 50) - 1
    assert a.unrealized_pnl_ratio == pytest.approx(900 / 950 - 1)


def test_an_older_snapshot_still_counts_and_no_snapshot_means_no_holdings(data):
    df = build_features(data, T, HOLDINGS)
    b = row(df, "b")
    assert (b.positions_count, b.holdings_hhi, b.top_holding_weight) == (1, 1, 1)
    assert b.unrealized_pnl_ratio == pytest.approx(1.0)
    c = row(df, "c")
    assert c.positions_count == 0
    assert math.isnan(c.holdings_hhi) and math.isnan(c.unrealized_pnl_ratio)


@pytest.fixture
def history(make_data):
    """Snapshots at 03-31 (T - 90 -> 04-01 -> 03-31), 05-31 (T - 30), 06-23 (T - 7) and T."""
    positions = [
        ("a", "2025-03-31", "X", 500.0, 500.0),
        ("a", "2025-03-31", "Y", 500.0, 500.0),  # count 2, HHI 0.5, P&L 0
        ("a", "2025-05-31", "X", 600.0, 500.0),
        ("a", "2025-05-31", "Y", 200.0, 400.0),
        ("a", "2025-05-31", "Z", 200.0, 100.0),  # count 3, HHI 0.44, P&L 0
        ("a", "2025-06-23", "X", 900.0, 1_000.0),  # count 1, HHI 1, P&L -0.1
        ("a", "2025-06-30", "X", 800.0, 1_000.0),
        ("a", "2025-06-30", "Y", 200.0, 100.0),  # count 2, HHI 0.68, P&L 1000 / 1100 - 1
        ("b", "2025-06-30", "S", 100.0, 100.0),
    ]
    balances = [(x, "2025-06-01", 10_000.0) for x in "ab"]
    return make_data(
        trades=frame([("a", "2025-06-01", 1.0, 0.0)], "account_id trade_date amount commission"),
        balances=frame(balances, "account_id date total_assets"),
        positions=frame(positions, "account_id date symbol market_value cost_basis"),
    )


def test_holding_changes_compare_with_the_snapshot_w_days_before(history):
    df = build_features(history, T, HOLDINGS)
    a = row(df, "a")
    counts = (a.positions_count_change_7d, a.positions_count_change_30d)
    assert counts + (a.positions_count_change_90d,) == (1, -1, 0)
    assert a.holdings_hhi_change_7d == pytest.approx(0.68 - 1.0)
    assert a.holdings_hhi_change_30d == pytest.approx(0.68 - 0.44)
    assert a.holdings_hhi_change_90d == pytest.approx(0.68 - 0.5)
    pnl = 1_000 / 1_100 - 1
    assert a.unrealized_pnl_ratio_change_7d == pytest.approx(pnl + 0.1)
    assert a.unrealized_pnl_ratio_change_30d == pytest.approx(pnl)
    assert a.unrealized_pnl_ratio_change_90d == pytest.approx(pnl)
    b = row(df, "b")  # no earlier snapshot: counted as 0 positions, no concentration
    assert b.positions_count_change_7d == 1 and math.isnan(b.holdings_hhi_change_7d)
