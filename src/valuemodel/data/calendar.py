"""Exchange trading days, from ``exchange_calendars`` (no holiday list is kept here).

The calendar is configuration: an ``exchange_calendars`` name, ``XSHG`` (Shanghai Stock
Exchange, whose trading days Shenzhen shares) by default; ``XHKG`` for Hong Kong, ``XNYS``
for New York. A calendar's holidays are recorded for a bounded range of years
(``bound_min``..``bound_max``; XSHG: 1990-12 to the end of next year); outside it, every
weekday counts as a trading day, and ``sessions`` says so in its result.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from functools import lru_cache

import numpy as np
import pandas as pd

from valuemodel.errors import InputError

DEFAULT_CALENDAR = "XSHG"


@lru_cache(maxsize=8)
def _calendar(name: str):
    import exchange_calendars as xcals

    try:
        cls = type(xcals.get_calendar(name))
        return xcals.get_calendar(name, start=_bound(cls, "min"), end=_bound(cls, "max"))
    except xcals.errors.InvalidCalendarName as exc:
        raise InputError(
            f"calendar: {name!r} is not an exchange_calendars name (e.g. XSHG, XHKG, XNYS)"
        ) from exc


def _bound(cls: type, which: str) -> pd.Timestamp:
    """The first or last date the calendar class records holidays for (or a wide default)."""
    bound = getattr(cls, f"bound_{which}")()
    if bound is None:
        return pd.Timestamp("1990-01-01" if which == "min" else "2035-12-31")
    return pd.Timestamp(bound)


@lru_cache(maxsize=32)
def _sessions(name: str, start: date, end: date) -> np.ndarray:
    calendar = _calendar(name)
    first, last = calendar.first_session.date(), calendar.last_session.date()
    weekdays = pd.bdate_range(start, end).date
    known = calendar.sessions.date
    inside = known[(known >= start) & (known <= end)]
    outside = weekdays[(weekdays < first) | (weekdays > last)]
    return np.sort(np.concatenate([inside, outside]))


def sessions(name: str, start: date, end: date) -> np.ndarray:
    """The trading days from ``start`` to ``end`` (inclusive), ascending ``date`` objects."""
    return _sessions(name, start, end)


def latest_session(name: str, day: date) -> date:
    """The latest trading day on or before ``day``."""
    days = sessions(name, day - timedelta(days=40), day)
    return days[-1] if len(days) else day


def window_start(name: str, day: date, n: int) -> date:
    """The day before the first of the last ``n`` trading days on or before ``day``.

    The last ``n`` sessions up to ``day`` are then the days in ``(window_start, day]``; a
    day without a session (weekend, holiday) belongs to the session before it, so it is in
    the window exactly when that session is.
    """
    days = sessions(name, day - timedelta(days=2 * n + 40), day)
    return days[-n] - timedelta(days=1)


def session_numbers(name: str, first: date, days: Sequence[date]) -> np.ndarray:
    """For each of ``days``, how many trading days lie in ``[first, day]`` (int64).

    The difference of two such numbers is the count of sessions after the earlier day up to
    the later one: the trading days between two dates, whatever weekends and holidays lie
    between them.
    """
    if not len(days):
        return np.zeros(0, np.int64)
    known = sessions(name, first, max(days))
    return np.searchsorted(known, np.asarray(days, dtype=object), side="right").astype(np.int64)
