"""The dates a data directory covers, and the as-of dates it can answer for.

An as-of date ``T`` after the last date in the data would read the silence after the data's
end as inactivity and withdrawals (every account churns); one before the first has no history
at all (an empty population). Both are rejected (exit 2) with the data's range.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import ibis
import pandas as pd

from valuemodel import engine
from valuemodel.data.reader import DataSet
from valuemodel.data.schema import TABLES
from valuemodel.errors import InputError

SPAN_TABLES = ("trades", "balances", "cashflows", "positions", "logins", "revenue")
"""The activity tables whose dates make the data's range (``accounts``' open dates reach back
before any activity, ``contacts`` are campaign dates)."""


@dataclass(frozen=True)
class DataSpan:
    """The first and last date of any activity table, and the table each comes from."""

    first: date
    last: date
    first_table: str
    last_table: str


def data_span(data: DataSet) -> DataSpan | None:
    """:class:`DataSpan` of ``data`` (as given, before any cutoff); None without dated rows.

    One query: each table's date column's minimum and maximum, the tables' rows in a union
    (on Spark a query costs about 0.2 s however small, and one per table took six).
    """
    parts = [
        data.table(name).aggregate(
            lo=data.table(name)[TABLES[name].date_column].min(),
            hi=data.table(name)[TABLES[name].date_column].max(),
            table=ibis.literal(name),
        )
        for name in SPAN_TABLES
        if data.has(name)
    ]
    if not parts:
        return None
    found = engine.execute(ibis.union(*parts) if len(parts) > 1 else parts[0])
    rows = {r.table: (r.lo, r.hi) for r in found.itertuples(index=False) if not pd.isna(r.lo)}
    bounds = [(_day(rows[n][0]), _day(rows[n][1]), n) for n in SPAN_TABLES if n in rows]
    if not bounds:
        return None
    first = min(bounds, key=lambda b: b[0])
    last = max(bounds, key=lambda b: b[1])
    return DataSpan(first[0], last[1], first[2], last[2])


def check_as_of(data: DataSet, as_of: date | str, option: str = "--as-of") -> DataSpan | None:
    """Reject (``InputError``) an as-of date after the data's last date or before its first.

    The message gives the data's range and what to do instead. Returns the span.
    """
    day = _day(as_of)
    span = data_span(data)
    if span is None:
        return None
    where = (
        f"{data.path} runs from {span.first} ({span.first_table}) to {span.last} "
        f"({span.last_table})"
    )
    if day > span.last:
        raise InputError(
            f"{option} {day} is after the last date in the data: {where}. After its end every "
            "account would look silent and be read as churning. Use an as-of date from "
            f"{span.first} to {span.last} (the latest: {option} {span.last}), or add the newer "
            "data first."
        )
    if day < span.first:
        raise InputError(
            f"{option} {day} is before the first date in the data: {where}. No account has "
            f"any history by then. Use an as-of date from {span.first} to {span.last}."
        )
    return span


def _day(value: object) -> date:
    if isinstance(value, date) and not hasattr(value, "hour"):
        return value
    if hasattr(value, "date"):
        return value.date()  # a datetime or pandas Timestamp
    return date.fromisoformat(str(value)[:10])
