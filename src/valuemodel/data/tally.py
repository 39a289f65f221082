"""Counting over a table: the exact aggregates, spared where a screen clears them.

A :class:`Tally` is one count to make (the rows breaking a rule, the rows a normalisation
changes). :func:`count` makes every tally of a table in one query (screens over distinct
values in a second), computing the cheap screens (:class:`valuemodel.data.rules.Screen`) in
place of the row-by-row counts they can clear, and a last query only for the tallies whose
screen did not clear them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import ibis

from valuemodel import engine
from valuemodel.data.reader import DataSet, as_date
from valuemodel.data.rules import Rule, Screen, account_key, account_table
from valuemodel.data.schema import TABLES


@dataclass(frozen=True)
class Tally:
    """One count to make over a table: its exact aggregate, and a screen that may spare it."""

    key: str
    exact: Callable[[ibis.Table], ibis.Value]
    screen: Screen | None


def bad_count(rule: Rule) -> Callable[[ibis.Table], ibis.Value]:
    """The exact count of the rows breaking ``rule``."""
    return lambda t: rule.bad(t).fill_null(False).cast("int64").sum()


def count(table: ibis.Table, tallies: list[Tally]) -> tuple[int, dict[str, int]]:
    """The number of rows and every tally, exactly.

    One query computes the rows, the tallies without a screen and the plain screens (a shared
    screen once), another the screens over distinct values; a last query counts, row by row,
    only the tallies whose screen did not clear them. A cleared tally is 0.
    """
    screens = {t.screen.key: t.screen for t in tallies if t.screen is not None}
    plain = {k: s for k, s in screens.items() if not s.distinct}
    direct = [t for t in tallies if t.screen is None]
    names = {k: f"s{i}" for i, k in enumerate(screens)}
    row = engine.execute(
        table.aggregate(
            n_rows=table.count(),
            **{t.key: t.exact(table) for t in direct},
            **{names[k]: s.measure(table) for k, s in plain.items()},
        )
    ).iloc[0]
    values = {k: row[names[k]] for k in plain}
    distinct = {k: s for k, s in screens.items() if s.distinct}
    if distinct:
        found = table.aggregate(**{names[k]: s.measure(table) for k, s in distinct.items()})
        row_distinct = engine.execute(found).iloc[0]
        values.update({k: row_distinct[names[k]] for k in distinct})
    rows = as_count(row["n_rows"])
    counted = {t.key: as_count(row[t.key]) for t in direct}
    cleared = {k for k, s in screens.items() if s.clean(values[k], rows)}
    rest = [t for t in tallies if t.screen is not None and t.screen.key not in cleared]
    counted.update({t.key: 0 for t in tallies if t.screen is not None and t not in rest})
    if rest:
        second = engine.execute(table.aggregate(**{t.key: t.exact(table) for t in rest}))
        counted.update({t.key: as_count(second.iloc[0][t.key]) for t in rest})
    return rows, counted


def as_count(value: object) -> int:
    """A count as the engine handed it back (a sum over no rows is null)."""
    return 0 if value is None or value != value else int(value)


def account_counts(
    data: DataSet,
    name: str,
    stored: ibis.Table,
    joined: ibis.Table,
    outside: Rule,
    seen: dict[str, ibis.Table],
) -> tuple[int, int]:
    """The counts of the two account rules: rows of an unknown account, and rows dated
    outside the account's life (``outside``, the rule that counts them row by row).

    The table is first reduced to one row per account (its rows, first and last date), and
    that small table is compared with ``accounts`` (it is kept in ``seen`` for the other
    cross-table checks). The rows of unknown accounts are counted exactly there; the rows
    outside an account's life are counted row by row only when some account's first or last
    date falls outside it.
    """
    day = as_date(stored[TABLES[name].date_column])
    per = stored.group_by(_key=account_key(data, name, stored)).aggregate(
        _n=stored.count(), _first=day.min(), _last=day.max()
    )
    per = seen[name] = engine.materialize(data.con, per_account_name(name), per)
    keys = account_table(data)
    both = per.left_join(keys, per._key == keys._account)
    late = (both._first < both._open) | (both._last > both._close)
    counts = engine.execute(
        both.aggregate(
            unknown=both._n.sum(where=both._account.isnull()),
            outside=late.fill_null(False).cast("int64").sum(),
        )
    ).iloc[0]
    exact = (
        as_count(engine.execute(bad_count(outside)(joined))) if as_count(counts["outside"]) else 0
    )
    return as_count(counts["unknown"]), exact


def per_account_name(name: str) -> str:
    return f"_valuemodel_validate_{name}_per_account"
