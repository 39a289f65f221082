"""Cash flows, hand-computed at T = 2025-06-30."""

from __future__ import annotations

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
