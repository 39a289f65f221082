"""As-of dates, the calendar of window bounds, and "latest snapshot on or before T".

Everything here is engine-neutral Ibis: window bounds (``T - w``, ``T + h``, month bounds) are
computed in Python and shipped to the engine as a small in-memory table (the *calendar*), so
the engine only ever compares dates; no date arithmetic, no ``now()``, no ``asof_join``.

Three building blocks serve every family, each computing any number of as-of dates in one
plan:

- ``Cuts`` / ``windowed``: every window bound (``T``, ``T - w``, month ends) cuts time into
  half-open intervals; events are reduced once per (account, interval) and each window
  ``(T - w, T]`` is combined from the intervals inside it (all windowed statistics here are
  sums, counts or maxima). ``window_join`` (events joined to the calendar on
  ``start < date <= end``) remains for the forward-looking labels.
- ``latest_on_or_before``: the latest event on or before each target date. Events are put into
  buckets between consecutive target dates (one scan, a balanced ``CASE`` of depth log2(n)),
  reduced to the last row per account and bucket, and each bucket is then valid until the next
  non-empty one (``lead`` over at most accounts x targets rows). This avoids the naive
  events x dates join + ``row_number``.
"""

from __future__ import annotations

import calendar as _calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import pandas as pd
import pyarrow as pa

from valuemodel.data.calendar import DEFAULT_CALENDAR, window_start
from valuemodel.errors import InputError

KEYS = ("account_id", "as_of")
ORDER = ("as_of", "account_id")
"""Output rows are sorted by as-of date, then account."""
ACTIVE_MONTHS = 12
"""Calendar months (including the month of T) that ``active_months_12m`` looks at."""


def as_of_dates(value: Any) -> tuple[date, ...]:
    """Normalise one date (``date``, ISO string, Timestamp) or a sequence of them.

    Returns the distinct dates in ascending order; raises InputError when empty or unparsable.
    """
    items = [value] if isinstance(value, str | date | pd.Timestamp) else list(value)
    if not items:
        raise InputError("as_of: at least one as-of date is needed")
    out = set()
    for item in items:
        try:
            ts = pd.Timestamp(item)
        except (ValueError, TypeError) as exc:
            raise InputError(f"as_of: cannot read {item!r} as a date (use YYYY-MM-DD)") from exc
        if pd.isna(ts):
            raise InputError(f"as_of: cannot read {item!r} as a date (use YYYY-MM-DD)")
        out.add(ts.date())
    return tuple(sorted(out))


def month_index(d: date) -> int:
    """Months since year 0 (so consecutive months differ by one)."""
    return d.year * 12 + d.month - 1


def month_end(index: int) -> date:
    """The last day of the month with ``month_index`` ``index``."""
    year, month0 = divmod(index, 12)
    return date(year, month0 + 1, _calendar.monthrange(year, month0 + 1)[1])


def last_month_end(d: date) -> date:
    """``d`` if it is a month end, else the end of the previous month."""
    m = month_index(d)
    return d if month_end(m) == d else month_end(m - 1)


def calendar_table(
    dates: Sequence[date], back: Iterable[int] = (), forward: Iterable[int] = ()
) -> ibis.Table:
    """A small table with one row per as-of date ``T`` and its window bounds.

    Columns: ``as_of``; ``start_{w}`` = T - w for each ``w`` in ``back`` (the window of w days
    is ``(start_w, T]``); ``until_{h}`` = T + h for each ``h`` in ``forward``; ``join_start``,
    the earliest bound any back-looking family needs (the longest window, and the day before
    the first of the 12 calendar months ending with T's month); ``month_from`` (month index of
    the earliest of those 12 months); ``pnl_from`` / ``pnl_to``: the month ends bracketing the
    last 12 complete months (``pnl_to`` = T if T is a month end, else the previous month end).
    """
    back = sorted(set(back))
    cols: dict[str, pa.Array] = {"as_of": pa.array(dates, pa.date32())}
    for w in back:
        cols[f"start_{w}"] = pa.array([d - timedelta(days=w) for d in dates], pa.date32())
    for h in sorted(set(forward)):
        cols[f"until_{h}"] = pa.array([d + timedelta(days=h) for d in dates], pa.date32())
    first_month = [month_end(month_index(d) - ACTIVE_MONTHS) for d in dates]
    longest = [d - timedelta(days=max(back, default=0)) for d in dates]
    cols["join_start"] = pa.array(
        [min(a, b) for a, b in zip(first_month, longest, strict=True)], pa.date32()
    )
    cols["month_from"] = pa.array([month_index(d) - ACTIVE_MONTHS + 1 for d in dates], pa.int64())
    pnl_to = [last_month_end(d) for d in dates]
    cols["pnl_to"] = pa.array(pnl_to, pa.date32())
    cols["pnl_from"] = pa.array([month_end(month_index(e) - 12) for e in pnl_to], pa.date32())
    return ibis.memtable(pa.table(cols))


@dataclass(frozen=True)
class Spine:
    """The as-of dates of one build: Python dates, their calendar and the population.

    ``base`` is the population, one row per (account_id, as_of), with the columns that
    deciding membership needed (open_date, close_date, and the balances at T or the last trade
    date); ``base_sources`` names the sources (see ``parts.Source``) already in it.
    ``calendar`` is ``calendar_table(dates, back, forward)``; ``windows`` are the configured
    windows, ``short`` the short windows of the activity and flow counts, ``changes`` the
    change-of-state look-backs, ``back`` all of those plus the fixed windows some features
    need, ``forward`` the label horizons; ``sessions`` the windows counted in trading days of
    the exchange calendar ``exchange`` (see ``session_starts``).
    """

    dates: tuple[date, ...]
    calendar: ibis.Table
    base: ibis.Table | None
    base_sources: tuple[str, ...]
    windows: tuple[int, ...]
    back: tuple[int, ...]
    forward: tuple[int, ...] = ()
    short: tuple[int, ...] = ()
    changes: tuple[int, ...] = ()
    sessions: tuple[int, ...] = ()
    exchange: str = DEFAULT_CALENDAR

    @property
    def activity_windows(self) -> tuple[int, ...]:
        """The windows of the activity and flow counts: the configured and the short ones."""
        return tuple(sorted({*self.windows, *self.short}))

    @property
    def session_starts(self) -> dict[tuple[date, int], date]:
        """``(T, n) -> start``: the last ``n`` trading days up to ``T`` are ``(start, T]``
        (``data.calendar.window_start``), for each as-of date and session window."""
        return {
            (t, n): window_start(self.exchange, t, n) for t in self.dates for n in self.sessions
        }

    @property
    def cuts(self) -> Cuts:
        """The interval cuts of the build's windows, in days and in sessions (see ``Cuts``)."""
        return spine_cuts(self.dates, self.back, extra=self.session_starts.values())

    @property
    def population(self) -> ibis.Table:
        """(account_id, as_of) of the accounts in the population at each as-of date."""
        return self.base.select(*KEYS)


def bucket(col: ibis.Value, dates: Sequence[date]) -> ibis.Value:
    """The index of the first of the sorted ``dates`` on or after ``col`` (depth log2(n)).

    Values after the last date get the last index; filter them out first.
    """

    def pick(lo: int, hi: int) -> ibis.Value:
        if lo == hi:
            return ibis.literal(lo, dt.int64)
        mid = (lo + hi) // 2
        return ibis.ifelse(
            col <= ibis.literal(dates[mid], dt.date), pick(lo, mid), pick(mid + 1, hi)
        )

    return pick(0, len(dates) - 1)


def latest_on_or_before(
    events: ibis.Table, date_col: str, dates: Iterable[date], values: Sequence[str] = ()
) -> ibis.Table:
    """For each account and each target date, the latest event dated on or before it.

    ``events`` needs ``account_id`` and ``date_col``; ``values`` are taken from the latest
    event (ties on the date are broken arbitrarily: use it with values only where the date is
    unique per account, as in ``balances``). Returns (account_id, at, last_date, *values);
    accounts without any event on or before a target have no row for it.
    """
    dates = sorted(set(dates))
    e = events.filter(events[date_col] <= ibis.literal(dates[-1], dt.date))
    e = e.mutate(_k=bucket(e[date_col], dates))
    per = e.group_by(["account_id", "_k"]).aggregate(
        last_date=e[date_col].max(), **{v: e[v].argmax(e[date_col]) for v in values}
    )
    nxt = per._k.lead().over(ibis.window(group_by="account_id", order_by="_k"))
    per = per.mutate(_k_next=nxt.fill_null(len(dates)))
    targets = ibis.memtable(
        pa.table({"at": pa.array(dates, pa.date32()), "_t": pa.array(range(len(dates)))})
    )
    joined = per.join(targets, [per._k <= targets._t, per._k_next > targets._t])
    return joined.select("account_id", "at", "last_date", *values)


def shifted_name(column: str, shift: int) -> str:
    """The column holding ``column`` at ``T + shift`` days in ``values_at``."""
    if shift == 0:
        return f"{column}_at_t"
    return f"{column}_at_t_{'plus' if shift > 0 else 'minus'}_{abs(shift)}"


def values_at(
    events: ibis.Table,
    date_col: str,
    dates: Sequence[date],
    values: Sequence[str],
    shifts: Iterable[int],
) -> ibis.Table:
    """The latest snapshot values on or before ``T + shift`` for every as-of date ``T``.

    Returns (account_id, as_of, ``shifted_name(v, s)`` for each value and shift); an account
    with no snapshot on or before any of the shifted dates has no row.
    """
    shifts = sorted(set(shifts))
    pairs = [(t, t + timedelta(days=s), s) for t in dates for s in shifts]
    latest = latest_on_or_before(events, date_col, [p[1] for p in pairs], values)
    pair_table = ibis.memtable(
        pa.table(
            {
                "as_of": pa.array([p[0] for p in pairs], pa.date32()),
                "_at": pa.array([p[1] for p in pairs], pa.date32()),
                "_shift": pa.array([p[2] for p in pairs], pa.int64()),
            }
        )
    )
    joined = latest.join(pair_table, latest.at == pair_table._at)
    aggs = {
        shifted_name(v, s): joined[v].max(where=joined._shift == s) for v in values for s in shifts
    }
    return joined.group_by(["account_id", "as_of"]).aggregate(**aggs)


def window_join(
    events: ibis.Table, date_col: str, calendar: ibis.Table, start: str, end: str = "as_of"
) -> ibis.Table:
    """Events joined to every as-of date whose window ``(start, end]`` contains them.

    ``start`` and ``end`` name calendar columns. The result has the events' columns and the
    calendar's; aggregate it per (account_id, as_of).
    """
    d = events[date_col]
    return events.join(calendar, [d > calendar[start], d <= calendar[end]])


def day_count(later: ibis.Value, earlier: ibis.Value) -> ibis.Value:
    """Whole days from ``earlier`` to ``later`` as float64 (null when either is null)."""
    return later.delta(earlier, unit="day").cast(dt.float64)


def ratio(numerator: ibis.Value, denominator: ibis.Value) -> ibis.Value:
    """``numerator / denominator``, null when the denominator is zero or null."""
    return numerator / ibis.ifelse(denominator == 0, ibis.null(dt.float64), denominator)


def pick(col: ibis.Value, dates: Sequence[date], values: Sequence[Any], type_: Any) -> ibis.Value:
    """``values[i]`` for the first ``i`` with ``col <= dates[i]`` (a balanced ``CASE``).

    ``dates`` are sorted; values after the last date get the last value (filter them out).
    """

    def go(lo: int, hi: int) -> ibis.Value:
        if lo == hi:
            return ibis.literal(values[lo], type_)
        mid = (lo + hi) // 2
        return ibis.ifelse(col <= ibis.literal(dates[mid], dt.date), go(lo, mid), go(mid + 1, hi))

    return go(0, len(dates) - 1)


@dataclass(frozen=True)
class Cuts:
    """Sorted dates ``b_0 < b_1 < ... < b_n`` cutting time into half-open intervals.

    Interval ``k`` (1..n) is ``(b_{k-1}, b_k]``. Every window bound of a build (``T`` and
    ``T - w`` for each as-of date and window, and the month ends the month features need) is a
    cut, so each window ``(T - w, T]`` is exactly a run of whole intervals. Events are reduced
    once per (account, interval) (one scan of each event table), and a window statistic is then
    combined from the intervals inside it: sums of sums, maxima of maxima, counts of counts.
    Intervals never overlap, so counts of distinct account-days stay additive.
    """

    bounds: tuple[date, ...]

    @classmethod
    def of(cls, dates: Iterable[date]) -> Cuts:
        return cls(tuple(sorted(set(dates))))

    def index(self, d: date) -> int:
        return self.bounds.index(d)

    def assign(
        self, events: ibis.Table, date_col: str, hi: str | None = None, bit: str | None = None
    ) -> ibis.Table:
        """``events`` dated in ``(b_0, b_n]`` with their interval ``_k``; when given, its upper
        bound as column ``hi``, and as column ``bit`` the event's day bit, ``1 << (days from
        the event to the upper bound)``, for ``distinct_days``."""
        b = self.bounds
        d = events[date_col]
        e = events.filter(d > ibis.literal(b[0], dt.date), d <= ibis.literal(b[-1], dt.date))
        d = e[date_col]
        cols = {"_k": pick(d, b[1:], range(1, len(b)), dt.int64)}
        upper = pick(d, b[1:], b[1:], dt.date)
        if hi is not None:
            cols[hi] = upper
        if bit is not None:
            longest = max((later - earlier).days for earlier, later in pairwise(b))
            if longest > MAX_BIT_DAYS:
                raise ValueError(f"an interval of {longest} days has no day bitmap")
            days = upper.delta(d, unit="day").cast(dt.int64)
            cols[bit] = ibis.literal(1, dt.int64) << days
        return e.mutate(**cols)

    def rings(self, dates: Sequence[date], windows: Sequence[int]) -> ibis.Table:
        """Which intervals each as-of date's windows hold: (as_of, _k, _ring, _gap).

        One row per as-of date ``T`` and interval inside its longest window; ``_ring`` is the
        shortest window holding the interval (so the interval is inside window ``w`` exactly
        when ``_ring <= w``) and ``_gap`` the days from the interval's upper bound to ``T``.
        """
        windows = sorted(windows)
        b = self.bounds
        rows: dict[str, list] = {"as_of": [], "_k": [], "_ring": [], "_gap": []}
        for t in dates:
            end = self.index(t)
            for k in range(self.index(t - timedelta(days=windows[-1])) + 1, end + 1):
                ring = next(w for w in windows if b[k - 1] >= t - timedelta(days=w))
                rows["as_of"].append(t)
                rows["_k"].append(k)
                rows["_ring"].append(ring)
                rows["_gap"].append(float((t - b[k]).days))
        return ibis.memtable(
            pa.table(
                {
                    "as_of": pa.array(rows["as_of"], pa.date32()),
                    "_k": pa.array(rows["_k"], pa.int64()),
                    "_ring": pa.array(rows["_ring"], pa.int64()),
                    "_gap": pa.array(rows["_gap"], pa.float64()),
                }
            )
        )


def spine_cuts(
    dates: Sequence[date],
    back: Sequence[int],
    months: int = ACTIVE_MONTHS,
    extra: Iterable[date] = (),
) -> Cuts:
    """The cuts of a build: every ``T``, every ``T - w`` (``w`` in ``back``), the ``extra``
    dates (the starts of the session windows) and the month ends
    from the one before the first of the ``months`` calendar months ending with the earliest
    ``T``'s month (or from the earliest ``T - w``, if earlier) up to the latest ``T``.

    So no interval is longer than a month, and an interval's distinct days fit the bits of
    one integer (see ``distinct_days``).
    """
    cuts = set(dates)
    cuts |= {t - timedelta(days=w) for t in dates for w in back}
    cuts |= set(extra)
    last = max(dates)
    first_month = min(month_index(min(dates)) - months, month_index(min(cuts)))
    for m in range(first_month, month_index(last) + 1):
        if month_end(m) <= last:
            cuts.add(month_end(m))
    return Cuts.of(cuts)


MAX_BIT_DAYS = 63
"""The longest interval whose days ``distinct_days`` can tell apart: bits 0-62 of an int64
(bit 63 is the sign)."""


@ibis.udf.agg.builtin(name="bit_or")
def _bit_or(x: int) -> int:  # DuckDB's and Spark's
    """The bitwise OR of the group's values."""


@ibis.udf.scalar.builtin(name="bit_count")
def _bit_count(x: int) -> int:  # DuckDB's and Spark's
    """The number of bits set in ``x``."""


def distinct_days(bit: ibis.Value) -> ibis.Value:
    """The number of distinct days among a group's events of one interval, from their
    ``bit`` column (``Cuts.assign``): the bits set in the OR of the events' day bits.

    One pass over the events: a ``count(DISTINCT day)`` beside other aggregates made DuckDB
    materialise the events and group them twice (at 100k accounts, trades per account and
    interval took 2.1 s against 1.1 s, login days 1.25 s against 0.46 s).
    """
    return _bit_count(_bit_or(bit)).cast(dt.float64)


def windowed(
    per: ibis.Table,
    cuts: Cuts,
    dates: Sequence[date],
    windows: Sequence[int],
    combine: Any,
    values: Any = None,
) -> ibis.Table:
    """Window statistics per (account_id, as_of) from per-(account_id, _k) interval rows.

    Each interval row is joined to every as-of date whose longest window holds it (``j`` has
    ``per``'s columns and ``_ring``, ``_gap``, see ``Cuts.rings``); ``values(j)`` (optional)
    adds row-level columns, and ``combine(j, inside)`` gives the output columns as
    aggregates over those rows, ``inside(w)`` selecting the rows in window ``w``. One
    group-by: at 100k accounts and 12 dates it beat first reducing per (account, as-of date,
    ring) and then combining the rings (the trade windows alone: 5.1 s against 5.6 s).
    Accounts without an interval row inside an as-of date's longest window have no row.
    """
    j = per.join(cuts.rings(dates, windows), "_k")
    if values is not None:
        j = j.mutate(**values(j))
    return j.group_by(["account_id", "as_of"]).aggregate(**combine(j, lambda w: j._ring <= w))
