"""Screens (cheap whole-table aggregates that clear a rule) never change what validation says.

Typed parquet files are where screens apply (a column's minimum, its count of values, its
distinct labels); the values below include the ones that file statistics get wrong or leave
out (NaN, infinities, blanks, empty text, labels to map, dates out of range).
"""

from __future__ import annotations

import math
import sys
from datetime import date

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from valuemodel.data import open_data, tally, validate

IDS = st.sampled_from(["A1", "A2", "A3", "", " ", "\tA1", None])
DAYS = st.sampled_from(
    [date(2024, 1, 2), date(2024, 3, 1), date(2023, 1, 1), date(1900, 1, 1), date(2200, 1, 1)]
)
NUMBERS = st.sampled_from([1.0, 250.5, 0.0, -3.0, math.nan, math.inf, -math.inf, None])
SIDES = st.sampled_from(["buy", "sell", "BUY", " sell", "买入", "卖出", "hold", "", None])


def _trades(draw, n: int) -> pa.Table:
    return pa.table(
        {
            "account_id": pa.array([draw(IDS) for _ in range(n)], pa.string()),
            "trade_date": pa.array([draw(DAYS) for _ in range(n)], pa.date32()),
            "amount": pa.array([draw(NUMBERS) for _ in range(n)], pa.float64()),
            "commission": pa.array([draw(NUMBERS) for _ in range(n)], pa.float64()),
            "side": pa.array([draw(SIDES) for _ in range(n)], pa.string()),
        }
    )


@st.composite
def brokerages(draw) -> dict[str, pa.Table]:
    """A tiny brokerage whose cells are mostly clean and sometimes broken."""
    clean = draw(st.booleans())
    n = draw(st.integers(1, 6))
    if clean:  # half the examples keep every screen clear, the others break some
        trades = pa.table(
            {
                "account_id": ["A1", "A2"] * n,
                "trade_date": pa.array([date(2024, 1, 2)] * 2 * n, pa.date32()),
                "amount": [100.0] * 2 * n,
                "commission": [1.0] * 2 * n,
                "side": ["buy", "sell"] * n,
            }
        )
    else:
        trades = _trades(draw, n)
    accounts = pa.table(
        {
            "account_id": ["A1", "A2"],
            "open_date": pa.array([date(2023, 6, 1), date(2024, 2, 1)], pa.date32()),
            "close_date": pa.array(
                [None, draw(st.sampled_from([None, date(2024, 1, 1)]))], pa.date32()
            ),
        }
    )
    balances = pa.table(
        {
            "account_id": ["A1", draw(st.sampled_from(["A1", "A2", "A9"]))],
            "date": pa.array([date(2024, 1, 5), date(2024, 1, 5)], pa.date32()),
            "total_assets": pa.array([50_000.0, draw(NUMBERS)], pa.float64()),
        }
    )
    return {"trades": trades, "accounts": accounts, "balances": balances}


def _written(path, tables: dict[str, pa.Table]):
    """``path`` with each table written as ``<name>.parquet``."""
    for name, table in tables.items():
        pq.write_table(table, path / f"{name}.parquet")
    return path


def _said(path) -> tuple[list[str], list[str], list[str]]:
    report = validate(open_data(path))
    return (
        [str(p) for p in report.errors],
        [str(p) for p in report.warnings],
        [str(p) for p in report.normalised],
    )


@pytest.mark.slow
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tables=brokerages())
def test_screens_never_change_the_report(tmp_path_factory, monkeypatch, tables):
    path = _written(tmp_path_factory.mktemp("screens"), tables)
    screened = _said(path)
    unscreened = tally.Tally
    with monkeypatch.context() as patch:  # every count made row by row
        patch.setattr(tally, "Tally", lambda key, exact, screen: unscreened(key, exact, None))
        exact = _said(path)
    assert screened == exact


def test_nan_that_parquet_statistics_leave_out_is_still_found(tmp_path):
    # pyarrow writes min/max statistics without NaN: the screen must not trust them for it
    trades = pa.table(
        {
            "account_id": ["A1", "A2", "A1"],
            "trade_date": pa.array([date(2024, 1, 2)] * 3, pa.date32()),
            "amount": pa.array([1.0, math.nan, 3.0], pa.float64()),  # NaN, not null
            "commission": [0.0, 0.0, 0.0],
        }
    )
    pq.write_table(trades, tmp_path / "trades.parquet")
    (problem,) = validate(open_data(tmp_path)).errors
    assert str(problem).startswith("trades.parquet, column 'amount': not a number (1 row)")


def test_a_blank_id_sorts_first_and_is_found_in_parquet(tmp_path):
    trades = pd.DataFrame(
        {
            "account_id": ["A1", " ", "A2"],
            "trade_date": pd.to_datetime(["2024-01-02"] * 3).date,
            "amount": [1.0, 2.0, 3.0],
            "commission": [0.0, 0.0, 0.0],
        }
    )
    trades.to_parquet(tmp_path / "trades.parquet", index=False)
    (problem,) = validate(open_data(tmp_path)).errors
    assert "column 'account_id': value is missing (required) (1 row)" in str(problem)


BALANCE_DAYS = st.sampled_from([date(2024, 1, 5), date(2024, 1, 6), date(2025, 2, 1), None])


@st.composite
def balance_tables(draw) -> dict[str, pa.Table]:
    """Daily balances of a few accounts with exact repeats, conflicting snapshots of a day,
    missing dates and an unknown account among them (or none of these)."""
    n = draw(st.integers(1, 8))
    rows = [
        (
            draw(st.sampled_from(["A1", "A2", "A9"])),
            draw(BALANCE_DAYS),
            draw(st.sampled_from([1.0, 2.0])),
        )
        for _ in range(n)
    ]
    ids, days, assets = zip(*rows, strict=True)
    accounts = pa.table(
        {
            "account_id": ["A1", "A2"],
            "open_date": pa.array([date(2023, 6, 1)] * 2, pa.date32()),
        }
    )
    balances = pa.table(
        {
            "account_id": list(ids),
            "date": pa.array(days, pa.date32()),
            "total_assets": pa.array(assets, pa.float64()),
        }
    )
    trades = pa.table(
        {
            "account_id": ["A1"],
            "trade_date": pa.array([date(2024, 1, 2)], pa.date32()),
            "amount": [1.0],
            "commission": [0.0],
        }
    )
    return {"trades": trades, "accounts": accounts, "balances": balances}


def _checked(path) -> tuple[tuple[list[str], ...], dict[str, bool]]:
    data = open_data(path)
    report = validate(data)
    said = tuple(
        [str(p) for p in problems]
        for problems in (report.errors, report.warnings, report.normalised)
    )
    return said, dict(data.state.collapse)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tables=balance_tables())
def test_day_bitmaps_prove_a_key_unique_only_when_it_is(tmp_path_factory, monkeypatch, tables):
    path = _written(tmp_path_factory.mktemp("bitmaps"), tables)
    with_bitmaps = _checked(path)
    with monkeypatch.context() as patch:  # every key proven by the hash count
        patch.setattr(tally, "_day_bitmap", lambda *args: {})
        without = _checked(path)
    assert with_bitmaps == without


def test_clean_daily_balances_are_proven_unique_by_their_bitmaps(tmp_path, monkeypatch):
    tables = {
        "trades": pa.table(
            {
                "account_id": ["A1"],
                "trade_date": pa.array([date(2024, 1, 2)], pa.date32()),
                "amount": [1.0],
                "commission": [0.0],
            }
        ),
        "accounts": pa.table(
            {"account_id": ["A1", "A2"], "open_date": pa.array([date(2023, 6, 1)] * 2)}
        ),
        "balances": pa.table(
            {
                "account_id": ["A1", "A1", "A2"],
                "date": pa.array([date(2024, 1, 5), date(2024, 1, 6), date(2024, 1, 5)]),
                "total_assets": [1.0, 2.0, 3.0],
            }
        ),
    }
    for name, table in tables.items():
        pq.write_table(table, tmp_path / f"{name}.parquet")
    checking = sys.modules["valuemodel.data.validate"]  # the module, not the function
    hashed: list[list[str]] = []
    key_hash = checking._key_hash

    def recorded(raw, key):
        hashed.append(list(key))
        return key_hash(raw, key)

    monkeypatch.setattr(checking, "_key_hash", recorded)
    data = open_data(tmp_path)
    assert validate(data).ok and data.state.collapse["balances"] is False
    assert ["account_id"] in hashed  # accounts' key is still counted by its hashes
    assert ["account_id", "date"] not in hashed  # balances' is proven by the bitmaps
