"""Churn and value labels over (T, T+H] and (T, T+V], T = 2025-03-31, H = 90, V = 365.

T + 90 = 2025-06-29; T + 365 = 2026-03-31.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from tests.features.conftest import frame, row
from valuemodel.errors import InputError
from valuemodel.features import build_features, build_labels
from valuemodel.features.config import FeatureConfig

T = "2025-03-31"
TRADES = "account_id trade_date amount commission"


@pytest.fixture
def data(make_data):
    balances = [
        ("a", "2025-03-01", 100_000.0),
        ("a", "2025-06-29", 15_000.0),  # below 20% of 100k on T+H: churned
        ("b", "2025-03-01", 100_000.0),
        ("b", "2025-06-01", 50_000.0),  # halved, still above 20%
        ("b", "2025-06-30", 1.0),  # after T+H: does not count
        ("c", "2025-03-01", 100_000.0),
        ("d", "2025-03-01", 100_000.0),
    ]
    trades = [
        ("a", "2025-04-01", 1.0, 1.0),
        ("b", "2025-06-29", 1.0, 2.0),
        ("c", "2025-06-30", 1.0, 4.0),  # just after T+H
        ("d", "2025-03-31", 1.0, 8.0),  # on T, not in (T, T+H]
        ("d", "2026-03-31", 1.0, 16.0),  # last day of the value window
    ]
    accounts = [
        ("a", "2020-01-01", None),
        ("b", "2020-01-01", None),
        ("c", "2020-01-01", "2025-05-01"),  # closes within the horizon
        ("d", "2020-01-01", "2025-06-30"),  # closes the day after
    ]
    return make_data(
        trades=frame(trades, TRADES),
        balances=frame(balances, "account_id date total_assets"),
        accounts=frame(accounts, "account_id open_date close_date"),
    )


def test_assets_churn_is_closing_or_keeping_under_a_fifth_of_assets(data):
    labels = build_labels(data, T, churn_definition="assets", end="2026-12-31")
    churn = dict(zip(labels.account_id, labels.churn, strict=True))
    assert churn == {"a": 1.0, "b": 0.0, "c": 1.0, "d": 0.0}


def test_auto_means_assets_with_balances(data):
    auto = build_labels(data, T, end="2026-12-31")
    assets = build_labels(data, T, churn_definition="assets", end="2026-12-31")
    assert auto.equals(assets)


def test_inactivity_churn_is_no_trade_in_the_horizon(data):
    labels = build_labels(data, T, churn_definition="inactivity", end="2026-12-31")
    churn = dict(zip(labels.account_id, labels.churn, strict=True))
    assert churn == {"a": 0.0, "b": 0.0, "c": 1.0, "d": 1.0}


def test_value_is_revenue_in_the_value_window(data):
    labels = build_labels(data, T, end="2026-12-31")
    # no revenue table: commissions in (2025-03-31, 2026-03-31]
    assert dict(zip(labels.account_id, labels.value, strict=True)) == {
        "a": 1.0,
        "b": 2.0,
        "c": 4.0,
        "d": 16.0,
    }


def test_labels_are_missing_when_their_window_is_not_covered(data):
    labels = build_labels(data, T, end="2025-12-31")  # covers T + 90, not T + 365
    assert labels.churn.notna().all() and labels.value.isna().all()
    # default end: the latest date in any table (2026-03-31) covers both windows exactly
    assert build_labels(data, T).value.notna().all()
    early = build_labels(data, T, end="2025-06-28")
    assert early.churn.isna().all()


def test_labels_have_the_rows_of_the_features(data):
    dates = ["2025-03-31", "2025-06-30"]
    labels = build_labels(data, dates, end="2026-12-31")
    features = build_features(data, dates, FeatureConfig(families=("recency",)))
    assert labels[["account_id", "as_of"]].equals(features[["account_id", "as_of"]])
    assert list(labels.columns) == ["account_id", "as_of", "churn", "value"]


def test_assets_churn_without_balances_is_rejected(make_data):
    data = make_data(trades=frame([("a", "2025-03-01", 1.0, 1.0)], TRADES))
    with pytest.raises(InputError, match="churn_definition 'assets' needs the balances table"):
        build_labels(data, T, churn_definition="assets")
    with pytest.raises(InputError, match="churn_definition must be one of"):
        build_labels(data, T, churn_definition="gone")
    with pytest.raises(InputError, match="churn_horizon must be a positive number of days"):
        build_labels(data, T, churn_horizon=0)
    # auto falls back to inactivity; trades must run through T + H (b trades on 2026-12-31)
    later = frame([("a", "2025-03-01", 1.0, 1.0), ("b", "2026-12-31", 1.0, 1.0)], TRADES)
    labels = build_labels(make_data(trades=later), T, end="2026-12-31")
    assert row(labels, "a").churn == 1.0
    assert not math.isnan(row(labels, "a").value)
    assert math.isnan(row(build_labels(data, T, end="2026-12-31"), "a").churn)


def lagging(make_data, *, balances_end=None, trades_end="2026-03-31", revenue_end=None):
    """Account ``a`` holds 100k at T and trades on T + 10; the export of one table stops at
    its ``*_end`` while the others run on (a ``logins`` row through 2026-06-30)."""
    tables = {
        "trades": frame(
            [("a", "2025-03-01", 1.0, 1.0), ("a", "2025-04-10", 1.0, 1.0)]
            + [("a", trades_end, 1.0, 1.0)],
            TRADES,
        ),
        "logins": frame([("a", "2026-06-30")], "account_id date"),
    }
    if balances_end:
        tables["balances"] = frame(
            [("a", "2025-03-01", 100_000.0), ("a", balances_end, 100_000.0)],
            "account_id date total_assets",
        )
    if revenue_end:
        tables["revenue"] = frame(
            [("a", "2025-04-10", 5.0), ("a", revenue_end, 5.0)], "account_id date amount"
        )
    return make_data(**tables)


def test_asset_churn_is_missing_while_balances_lag_the_other_tables(make_data):
    # balances end 2025-06-01, before T + 90 = 2025-06-29: the held 100k is a stale snapshot
    data = lagging(make_data, balances_end="2025-06-01")
    labels = build_labels(data, T)
    assert math.isnan(row(labels, "a").churn)
    assert row(labels, "a").value == 2.0  # trades (the derived revenue) run on
    on_time = build_labels(lagging(make_data, balances_end="2025-06-29"), T)
    assert row(on_time, "a").churn == 0.0


def test_inactivity_churn_is_missing_while_trades_lag_the_other_tables(make_data):
    # trades end 2025-06-01, before T + 90: no trade after it is not known to be inactivity
    data = lagging(make_data, trades_end="2025-06-01", revenue_end="2026-06-30")
    labels = build_labels(data, "2025-04-30", churn_definition="inactivity")
    assert math.isnan(row(labels, "a").churn)
    assert row(labels, "a").value == 0.0  # revenue runs through 2026-04-30; none after T
    from valuemodel.features.labels import label_ends

    ends = label_ends(data, "inactivity", None)
    assert ends["churn"][:2] == ("trades", pd.Timestamp("2025-06-01").date())


def test_value_is_missing_while_revenue_lags_the_other_tables(make_data):
    data = lagging(make_data, balances_end="2026-06-30", revenue_end="2026-01-31")
    labels = build_labels(data, T)
    assert row(labels, "a").churn == 0.0 and math.isnan(row(labels, "a").value)
