"""Trading-day recency and session windows: a hand-made National Day week (XSHG has no
sessions from 2024-10-01 to 10-07), and a Friday, Sunday and Monday on generated data."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from tests.features.conftest import GENERATED_END, GENERATED_START, frame, row, write_tables
from valuemodel.data.calendar import sessions
from valuemodel.data.reader import open_data
from valuemodel.errors import InputError
from valuemodel.features import build_features
from valuemodel.features.config import FeatureConfig

RECENCY_FREQUENCY = FeatureConfig(families=("recency", "frequency"))
EVENTS = ("trade", "login", "deposit", "withdrawal")
SINCE = [f"trading_days_since_last_{e}" for e in EVENTS]
WINDOWED = [f"{m}_{n}td" for n in (5, 10) for m in ("trades", "active_trading_days", "login_days")]


@pytest.fixture
def national_day(make_data):
    # XSHG sessions: 09-23..09-27 (Mon-Fri), 09-30 (Mon), then 10-08..10-11 (Tue-Fri), 10-14
    return make_data(
        trades=frame(
            [
                ("a", "2024-09-27", 100.0, 1.0),
                ("a", "2024-09-27", 50.0, 0.5),
                ("a", "2024-09-30", 100.0, 1.0),
            ],
            "account_id trade_date amount commission",
        ),
        balances=frame([("a", "2024-09-01", 10_000.0)], "account_id date total_assets"),
        logins=frame([("a", "2024-09-25"), ("a", "2024-10-03")], "account_id date"),
        cashflows=frame(
            [("a", "2024-09-20", 1000.0), ("a", "2024-10-05", -500.0)],
            "account_id date amount",
        ),
    )


def test_the_xshg_calendar_knows_the_national_day_week():
    days = [
        d.isoformat() for d in sessions("XSHG", *pd.to_datetime(["2024-09-27", "2024-10-09"]).date)
    ]
    assert days == ["2024-09-27", "2024-09-30", "2024-10-08", "2024-10-09"]


def test_trading_days_since_stand_still_over_the_holiday_week(national_day):
    dates = ["2024-09-30", "2024-10-07", "2024-10-08", "2024-10-11"]
    df = build_features(national_day, dates, RECENCY_FREQUENCY)
    got = {d: row(df, "a", d) for d in dates}
    trade = [got[d].trading_days_since_last_trade for d in dates]
    assert trade == [0, 0, 1, 4]  # traded 09-30; 10-08 is the first session after it
    assert [got[d].days_since_last_trade for d in dates] == [0, 7, 8, 11]
    # logins 09-25 (then 09-26, 09-27, 09-30 went by) and 10-03 (a holiday: session 09-30's)
    assert [got[d].trading_days_since_last_login for d in dates] == [3, 0, 1, 4]
    # the deposit of Friday 09-20: 09-23..09-27, 09-30, 10-08 went by at 10-08
    assert got["2024-10-08"].trading_days_since_last_deposit == 7
    # the withdrawal of Saturday 10-05 counts with session 09-30
    assert math.isnan(got["2024-09-30"].trading_days_since_last_withdrawal)
    assert [got[d].trading_days_since_last_withdrawal for d in dates[1:]] == [0, 1, 4]


def test_session_windows_reach_back_over_the_holiday(national_day):
    dates = ["2024-10-08", "2024-10-11", "2024-10-14"]
    df = build_features(national_day, dates, RECENCY_FREQUENCY)
    at = {d: row(df, "a", d) for d in dates}
    # 10-08: the last 5 sessions are 09-25..09-27, 09-30, 10-08: all three trades
    assert (at["2024-10-08"].trades_5td, at["2024-10-08"].active_trading_days_5td) == (3, 2)
    assert at["2024-10-08"].login_days_5td == 2  # 09-25 and the holiday login of 10-03
    # 10-11: 09-30, 10-08..10-11; the holiday login counts with 09-30
    assert (at["2024-10-11"].trades_5td, at["2024-10-11"].login_days_5td) == (1, 1)
    # 10-14: 10-08..10-14, nothing; 10 sessions reach back to 09-24
    assert (at["2024-10-14"].trades_5td, at["2024-10-14"].login_days_5td) == (0, 0)
    assert (at["2024-10-14"].trades_10td, at["2024-10-14"].active_trading_days_10td) == (3, 2)
    assert at["2024-10-14"].login_days_10td == 2
    assert at["2024-10-14"].trades_14d == 0  # 14 calendar days: (09-30, 10-14]


def test_the_calendar_is_configuration(national_day):
    # New York has sessions in the Chinese holiday week: 10-01..10-04 and 10-07
    nyse = FeatureConfig(families=("recency",), calendar="XNYS")
    a = row(build_features(national_day, "2024-10-07", nyse), "a")
    assert a.trading_days_since_last_trade == 5
    with pytest.raises(InputError, match="'NOPE' is not an exchange_calendars name"):
        build_features(national_day, "2024-10-07", FeatureConfig(calendar="NOPE"))


FRIDAY, SUNDAY, MONDAY = "2025-05-23", "2025-05-25", "2025-05-26"


@pytest.fixture(scope="module")
def weekday_features(tmp_path_factory):
    """Features at a Friday, the Sunday and the Monday after it, on a generated brokerage
    whose events never fall on a weekend."""
    generate = pytest.importorskip("valuemodel.data.generate")
    tables = generate.generate_brokerage(60, start=GENERATED_START, end=GENERATED_END, seed=5)
    dated = {"trades": "trade_date", "logins": "date", "cashflows": "date", "revenue": "date"}
    dated |= {"balances": "date", "positions": "date"}
    for name, col in dated.items():
        df = tables[name]
        tables[name] = df[pd.to_datetime(df[col]).dt.day_of_week < 5]
    data = open_data(write_tables(tmp_path_factory.mktemp("weekdays"), tables))
    df = build_features(data, [FRIDAY, SUNDAY, MONDAY])
    monday = {e: set() for e in EVENTS}
    for event, (name, col, keep) in {
        "trade": ("trades", "trade_date", None),
        "login": ("logins", "date", None),
        "deposit": ("cashflows", "date", lambda d: d.amount > 0),
        "withdrawal": ("cashflows", "date", lambda d: d.amount < 0),
    }.items():
        d = tables[name]
        d = d[pd.to_datetime(d[col]) == pd.Timestamp(MONDAY)]
        monday[event] = set((d[keep(d)] if keep else d).account_id)
    return df, monday


def _at(df: pd.DataFrame, day: str) -> pd.DataFrame:
    return df[df.as_of == pd.Timestamp(day)].set_index("account_id")


def test_trading_day_features_are_equal_at_a_friday_and_the_sunday_after(weekday_features):
    df, _ = weekday_features
    friday, sunday = _at(df, FRIDAY), _at(df, SUNDAY)
    both = friday.index.intersection(sunday.index)
    assert len(both) > 30
    pd.testing.assert_frame_equal(
        friday.loc[both, SINCE + WINDOWED], sunday.loc[both, SINCE + WINDOWED]
    )
    # the calendar-day counts move by the two weekend days
    gap = sunday.loc[both, "days_since_last_trade"] - friday.loc[both, "days_since_last_trade"]
    assert set(gap.dropna()) == {2.0}


def test_a_monday_session_moves_trading_days_since_by_one_or_to_zero(weekday_features):
    df, monday_events = weekday_features
    sunday, monday = _at(df, SUNDAY), _at(df, MONDAY)
    both = sunday.index.intersection(monday.index)
    for event in EVENTS:
        col = f"trading_days_since_last_{event}"
        happened = monday.index.isin(list(monday_events[event])) & monday.index.isin(both)
        assert (monday.loc[happened, col] == 0).all()
        quiet = both.difference(monday.index[happened])
        expected = sunday.loc[quiet, col] + 1  # Monday's session went by without the event
        pd.testing.assert_series_equal(monday.loc[quiet, col], expected)
