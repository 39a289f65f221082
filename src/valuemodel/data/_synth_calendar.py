"""The clock of the synthetic brokerage: exchange trading days and the weekly statement cycle.

The simulation steps one week at a time. Week ``k`` covers the calendar days
``(friday_k - 7, friday_k]``; its statement (balance snapshot) is dated on its Friday, or on
``end`` for a last, partial week. A burn-in of ``BURN_IN_WEEKS`` weeks before ``start`` lets
the latent state (engagement, dormancy, recent returns) settle; nothing is recorded from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

BURN_IN_WEEKS = 26

# Spring Festival (first day of the lunar year); the exchanges close for about a week around it.
_LUNAR_NEW_YEAR = {
    2014: "2014-01-31", 2015: "2015-02-19", 2016: "2016-02-08", 2017: "2017-01-28",
    2018: "2018-02-16", 2019: "2019-02-05", 2020: "2020-01-25", 2021: "2021-02-12",
    2022: "2022-02-01", 2023: "2023-01-22", 2024: "2024-02-10", 2025: "2025-01-29",
    2026: "2026-02-17", 2027: "2027-02-06", 2028: "2028-01-26", 2029: "2029-02-13",
    2030: "2030-02-03", 2031: "2031-01-23", 2032: "2032-02-11", 2033: "2033-01-31",
}  # fmt: skip


def exchange_holidays(first_year: int, last_year: int) -> np.ndarray:
    """Weekday closures of the Shanghai/Shenzhen exchanges (approximate).

    New Year's Day, Spring Festival week, Labour Day (May 1-3) and National Day week
    (Oct 1-7). The shorter closures (Qingming, Dragon Boat, Mid-Autumn) are left out.
    """
    days: list[np.datetime64] = []
    for year in range(first_year, last_year + 1):
        days.append(np.datetime64(f"{year}-01-01"))
        days += [np.datetime64(f"{year}-05-0{d}") for d in (1, 2, 3)]
        days += [np.datetime64(f"{year}-10-0{d}") for d in range(1, 8)]
        if year in _LUNAR_NEW_YEAR:
            eve = np.datetime64(_LUNAR_NEW_YEAR[year]) - 1
            days += [eve + d for d in range(7)]
    return np.unique(np.array(days, dtype="datetime64[D]"))


def trading_days(first: np.datetime64, last: np.datetime64) -> np.ndarray:
    """Exchange trading days in ``[first, last]`` as ``datetime64[D]``."""
    holidays = exchange_holidays(_year(first), _year(last))
    days = np.arange(first, last + 1, dtype="datetime64[D]")
    return days[np.is_busday(days, holidays=holidays)]


@dataclass(frozen=True)
class Clock:
    """Trading days and weeks from the burn-in to ``end``.

    ``days`` are the trading days; ``day_week[i]`` is the week of ``days[i]``. Week ``k`` has
    the trading days ``days[week_first[k]:week_stop[k]]`` (empty for a closed week), its
    statement date ``statement[k]`` and its Friday ``friday[k]``. Weeks before
    ``first_week`` are burn-in. ``month_end[k]`` marks the last week of a statement month.
    """

    start: np.datetime64
    end: np.datetime64
    days: np.ndarray
    day_week: np.ndarray
    friday: np.ndarray
    statement: np.ndarray
    week_first: np.ndarray
    week_stop: np.ndarray
    first_week: int
    month_end: np.ndarray
    payday: np.ndarray

    @property
    def n_weeks(self) -> int:
        return len(self.friday)

    def trading_days_in(self, week: int) -> np.ndarray:
        """Indices into ``days`` of the trading days of ``week`` (none before ``start``)."""
        return np.arange(self.week_first[week], self.week_stop[week])


def make_clock(start: date, end: date) -> Clock:
    """The weekly clock for recording ``[start, end]`` after a burn-in."""
    start64, end64 = np.datetime64(start, "D"), np.datetime64(end, "D")
    first_friday = np.busday_offset(start64, 0, roll="forward", weekmask="Fri")
    last_friday = np.busday_offset(end64, 0, roll="forward", weekmask="Fri")
    n_recorded = int((last_friday - first_friday).astype(int)) // 7 + 1
    friday = first_friday + 7 * np.arange(-BURN_IN_WEEKS, n_recorded)
    statement = np.minimum(friday, end64)
    days = trading_days(friday[0] - 6, end64)
    day_week = np.searchsorted(friday, days).astype(np.int32)
    week_first = np.searchsorted(day_week, np.arange(len(friday)), side="left")
    week_stop = np.searchsorted(day_week, np.arange(len(friday)), side="right")
    first_week = BURN_IN_WEEKS
    week_first[first_week] = np.searchsorted(days, start64)
    months = statement.astype("datetime64[M]")
    month_end = np.append(months[1:] != months[:-1], True)
    payday = _contains_day_of_month(friday, 10)
    return Clock(
        start=start64, end=end64, days=days, day_week=day_week, friday=friday,
        statement=statement, week_first=week_first, week_stop=week_stop,
        first_week=first_week, month_end=month_end, payday=payday,
    )  # fmt: skip


def _contains_day_of_month(friday: np.ndarray, day: int) -> np.ndarray:
    """Whether the week ending on each Friday contains the given day of a month."""
    offsets = np.arange(7)
    covered = friday[:, None] - offsets[None, :]
    month_start = covered.astype("datetime64[M]").astype("datetime64[D]")
    return ((covered - month_start).astype(int) == day - 1).any(axis=1)


def _year(day: np.datetime64) -> int:
    return int(str(np.datetime64(day, "Y")))
