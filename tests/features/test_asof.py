"""As-of building blocks: date normalisation, buckets, latest snapshot on or before T."""

from __future__ import annotations

from datetime import date

import ibis
import pandas as pd
import pyarrow as pa
import pytest

from valuemodel import engine
from valuemodel.errors import InputError
from valuemodel.features.asof import (
    as_of_dates,
    bucket,
    calendar_table,
    last_month_end,
    latest_on_or_before,
)


def test_as_of_dates_are_distinct_sorted_dates():
    got = as_of_dates(["2025-06-30", date(2025, 1, 31), pd.Timestamp("2025-06-30")])
    assert got == (date(2025, 1, 31), date(2025, 6, 30))
    with pytest.raises(InputError, match="cannot read"):
        as_of_dates("2025-13-45")


def test_bucket_is_the_first_target_on_or_after_the_date():
    targets = [date(2025, 1, d) for d in (5, 10, 15, 20, 25)]
    days = [date(2025, 1, d) for d in (1, 5, 6, 10, 11, 24, 25)]
    t = ibis.memtable(pa.table({"d": pa.array(days, pa.date32())}))
    got = engine.execute(t.select(k=bucket(t.d, targets)))
    assert list(got.k) == [0, 0, 1, 1, 2, 4, 4]


def test_latest_on_or_before_carries_the_last_snapshot_forward():
    snaps = ibis.memtable(
        pa.table(
            {
                "account_id": ["a", "a", "a", "b"],
                "date": pa.array(
                    [date(2025, 1, 3), date(2025, 1, 8), date(2025, 2, 1), date(2025, 1, 20)],
                    pa.date32(),
                ),
                "v": [1.0, 2.0, 3.0, 9.0],
            }
        )
    )
    targets = [date(2025, 1, 1), date(2025, 1, 8), date(2025, 1, 15), date(2025, 1, 31)]
    got = engine.execute(latest_on_or_before(snaps, "date", targets, ["v"]))
    got = {(r.account_id, r.at.day): r.v for r in got.itertuples()}
    # a: nothing by 01-01; 01-08 on the day; 01-15 and 01-31 carry 01-08 forward
    # b: first snapshot 01-20 -> only for 01-31
    assert got == {("a", 8): 2.0, ("a", 15): 2.0, ("a", 31): 2.0, ("b", 31): 9.0}


def test_calendar_bounds():
    cal = engine.execute(calendar_table([date(2024, 12, 31), date(2025, 3, 15)], back=[30]))
    assert list(cal.start_30.dt.date) == [date(2024, 12, 1), date(2025, 2, 13)]
    assert list(cal.pnl_to.dt.date) == [date(2024, 12, 31), date(2025, 2, 28)]
    assert list(cal.pnl_from.dt.date) == [date(2023, 12, 31), date(2024, 2, 29)]
    assert last_month_end(date(2025, 3, 1)) == date(2025, 2, 28)
