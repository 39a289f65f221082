"""Trading days: counting recency and short windows in sessions of the exchange calendar.

The calendar (``FeatureConfig.calendar``, an ``exchange_calendars`` name, XSHG by default) is
read in Python only (``data.calendar``); the engine sees small in-memory tables, so the same
definitions run on DuckDB and Spark:

- ``session_days``: every calendar day from ``SESSIONS_FROM`` to the last as-of date with its
  *session number*, the count of trading days from ``SESSIONS_FROM`` up to and including it.
  A day without a session (weekend, holiday) has the number of the session before it.
- The session number of an as-of date ``T`` is that of the last session on or before ``T``;
  ``number(T) - number(event)`` is the count of sessions after the event up to ``T``: 0 for
  an event on ``T`` or on the last session before it (or on the weekend after that session),
  1 when one session went by without the event, and so on. Between a Friday, the following
  Sunday and a Monday holiday the count does not change; a Monday session adds one.
- A window of the last ``n`` sessions up to ``T`` is the days ``(start, T]``, ``start`` the
  day before the first of those sessions (``data.calendar.window_start``): an event on a day
  without a session counts with the session before it. The starts are cuts of the build
  (``Spine.cuts``), so the session windows are combined from the same per-interval sums as
  the windows in days.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import pyarrow as pa

from valuemodel.data.calendar import session_numbers
from valuemodel.features.asof import Spine
from valuemodel.features.parts import Source

SESSIONS_FROM = date(1990, 1, 1)
"""Session numbers count from here (the Shanghai exchange opened in December 1990); an event
before it counts as on it."""


def session_days(spine: Spine) -> ibis.Table:
    """(day, session): every day from ``SESSIONS_FROM`` to the last as-of date and its
    session number (see the module docstring)."""
    last = max(spine.dates)
    days = [SESSIONS_FROM + timedelta(days=i) for i in range((last - SESSIONS_FROM).days + 1)]
    numbers = session_numbers(spine.exchange, SESSIONS_FROM, days)
    return ibis.memtable(
        pa.table({"day": pa.array(days, pa.date32()), "session": pa.array(numbers, pa.int64())})
    )


def with_session(table: ibis.Table, date_col: str, out: str, spine: Spine) -> ibis.Table:
    """``table`` with ``out``, the session number of ``date_col`` (null when it is null; 0
    before ``SESSIONS_FROM``)."""
    days = session_days(spine)
    j = table.left_join(days, table[date_col] == days.day)
    number = ibis.ifelse(j[date_col].isnull(), ibis.null(dt.int64), j.session.fill_null(0))
    return j.select(*table.columns, **{out: number})


def as_of_session_source(data: Any, spine: Spine) -> Source:
    """``as_of_session``: the session number of each as-of date (a table keyed by as_of)."""
    numbers = session_numbers(spine.exchange, SESSIONS_FROM, list(spine.dates))
    table = ibis.memtable(
        pa.table(
            {
                "as_of": pa.array(spine.dates, pa.date32()),
                "as_of_session": pa.array(numbers, pa.int64()),
            }
        )
    )
    return Source("as_of_session", table)


def sessions_since(x: ibis.Table, name: str) -> ibis.Value:
    """Trading days from the latest ``name`` event up to the as-of date (float64; null when
    there was none): reads ``last_{name}_session`` and ``as_of_session``."""
    return (x.as_of_session - x[f"last_{name}_session"]).cast(dt.float64)


def session_rings(spine: Spine) -> ibis.Table:
    """Which intervals of ``spine.cuts`` each as-of date's session windows hold:
    (as_of, _k, _sring), ``_sring`` the fewest sessions whose window holds the interval (so
    the interval is inside the window of ``n`` sessions exactly when ``_sring <= n``)."""
    cuts, starts, ns = spine.cuts, spine.session_starts, sorted(spine.sessions)
    b = cuts.bounds
    rows: dict[str, list] = {"as_of": [], "_k": [], "_sring": []}
    for t in spine.dates if ns else ():
        for k in range(cuts.index(starts[(t, ns[-1])]) + 1, cuts.index(t) + 1):
            rows["as_of"].append(t)
            rows["_k"].append(k)
            rows["_sring"].append(next(n for n in ns if b[k - 1] >= starts[(t, n)]))
    return ibis.memtable(
        pa.table(
            {
                "as_of": pa.array(rows["as_of"], pa.date32()),
                "_k": pa.array(rows["_k"], pa.int64()),
                "_sring": pa.array(rows["_sring"], pa.int64()),
            }
        )
    )


def session_windowed(per: ibis.Table, spine: Spine, combine: Any) -> ibis.Table:
    """Session-window statistics per (account_id, as_of) from per-(account_id, _k) interval
    rows (as ``asof.windowed`` does for windows in days): ``combine(j, inside)`` gives the
    output columns, ``inside(n)`` selecting the rows in the window of the last ``n``
    sessions."""
    j = per.join(session_rings(spine), "_k")
    return j.group_by(["account_id", "as_of"]).aggregate(**combine(j, lambda n: j._sring <= n))
