"""As-of building blocks: date normalisation, buckets, latest snapshot on or before T."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import ibis
import pandas as pd
import pyarrow as pa
import pytest

from valuemodel import engine
from valuemodel.errors import InputError
from valuemodel.features.asof import (
    Cuts,
    as_of_dates,
    bucket,
    calendar_table,
    distinct_days,
    last_month_end,
    latest_on_or_before,
    spine_cuts,
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


def test_distinct_days_count_each_day_of_an_interval_once():
    day = [date(2025, 1, d) for d in (1, 1, 5, 31, 31, 31)] + [date(2025, 2, 2)]
    events = ibis.memtable(
        pa.table({"account_id": ["a"] * 6 + ["b"], "date": pa.array(day, pa.date32())})
    )
    cuts = Cuts.of([date(2024, 12, 31), date(2025, 1, 31), date(2025, 2, 28)])
    t = cuts.assign(events, "date", bit="_bit")
    per = t.group_by(["account_id", t._k.name("k")]).aggregate(days=distinct_days(t._bit))
    got = {(r.account_id, r.k): r.days for r in engine.execute(per).itertuples()}
    # a: 01-01 twice, 01-05, 01-31 three times (the interval's last day, bit 0)
    assert got == {("a", 1): 3.0, ("b", 2): 1.0}


def test_cuts_keep_intervals_within_a_month_for_long_windows():
    t = date(2025, 6, 30)
    cuts = spine_cuts([t], (7, 30, 730))
    assert cuts.bounds[0] == t - timedelta(days=730)
    assert max((b - a).days for a, b in pairwise(cuts.bounds)) <= 31


def test_day_bits_refuse_an_interval_longer_than_the_bits():
    events = ibis.memtable(
        pa.table({"account_id": ["a"], "date": pa.array([date(2024, 6, 1)], pa.date32())})
    )
    with pytest.raises(ValueError, match="366 days"):
        Cuts.of([date(2023, 12, 31), date(2024, 12, 31)]).assign(events, "date", bit="_bit")


def test_distinct_days_reach_the_first_day_of_the_longest_interval():
    day = [date(2025, 1, 2), date(2025, 1, 2), date(2025, 3, 5)]  # 62 and 0 days before 03-05
    events = ibis.memtable(pa.table({"account_id": ["a"] * 3, "date": pa.array(day, pa.date32())}))
    cuts = Cuts.of([date(2025, 1, 1), date(2025, 3, 5)])  # one interval of 63 days
    t = cuts.assign(events, "date", bit="_bit")
    got = engine.execute(t.group_by("account_id").aggregate(days=distinct_days(t._bit)))
    assert list(got.days) == [2.0]
