"""The row rules of the contract, each a boolean Ibis expression over a table as stored.

A rule says "this row breaks it"; :mod:`valuemodel.data.validate` counts the rules of a table
in one query, and the quarantine leaves out the rows that break one.

Most rules also have a **screen**: one cheap aggregate over the whole table (a minimum, a
count of values, the distinct labels of a categorical column) whose value can prove that no
row breaks the rule. Engines answer such aggregates from a file's statistics or with much
less work than a row-by-row test (DuckDB reads the minimum of a parquet column from its
metadata), so validation counts a rule row by row only when its screen cannot clear it. A
screen never decides that a rule is broken, only that it is not: the counts reported are the
same either way.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import pandas as pd

from valuemodel import engine
from valuemodel.data import normalise
from valuemodel.data.reader import DataSet, as_date, as_id
from valuemodel.data.schema import Column, Table

EARLIEST = "1970-01-01"
LATEST = "2099-12-31"


@dataclass(frozen=True)
class Screen:
    """An aggregate that may prove a rule unbroken: ``clean(value, rows)`` says whether it does.

    ``key`` names the aggregate, so rules that share one (a categorical column's labels serve
    its rule and its normalisation) compute it once. ``distinct``: the aggregate collects
    distinct values; such aggregates run in a query of their own (beside plain ones, DuckDB
    plans the whole query about three times slower).
    """

    key: str
    measure: Callable[[ibis.Table], ibis.Value]
    clean: Callable[[Any, int], bool]
    distinct: bool = False


@dataclass(frozen=True)
class Rule:
    column: str | None
    text: str
    bad: Callable[[ibis.Table], ibis.Value]
    show: tuple[str, ...]
    warning: bool = False
    screen: Screen | None = None


def complete(name: str, string: bool) -> Screen:
    """No value of ``name`` is missing: as many values as rows, and (text) none starts blank.

    A text value that is empty or starts with a blank sorts before every other, so the
    column's minimum starts with one when any value does.
    """
    if not string:
        return Screen(f"count:{name}", lambda t: t[name].count(), lambda n, rows: n == rows)
    return Screen(
        f"complete:{name}",
        lambda t: (t[name].count() == t.count()) & (t[name].min().ascii_str() > 32),
        lambda ok, rows: _proved(ok, empty=rows == 0),
    )


def labels_screen(name: str, allowed: tuple[str, ...]) -> Screen:
    """Every label of ``name`` is already one of the contract's values (nothing to map)."""
    return Screen(
        f"labels:{name}",
        lambda t: t[name].cast(dt.string).collect(distinct=True),
        lambda found, rows: found is not None and set(_values(found)) <= set(allowed),
        distinct=True,
    )


def _proved(ok: Any, empty: bool) -> bool:
    """A screen's boolean; ``empty`` when the engine gave null (no value to test: all null)."""
    return empty if ok is None or ok is pd.NA or ok != ok else bool(ok)


def _values(found: Any) -> list[Any]:
    """The non-null values of a collected array, as the engine handed it back."""
    return [v for v in list(found) if v is not None]


def any_bad(table: ibis.Table, rules: tuple[Rule, ...]) -> ibis.Value:
    bad = ibis.literal(False)
    for rule in rules:
        bad = bad | rule.bad(table).fill_null(False)
    return bad


def account_key(data: DataSet, name: str, table: ibis.Table) -> ibis.Value:
    """The account ID of ``table``'s rows as the typed view reads it (CSV ids trimmed)."""
    return as_id(table.account_id, strip=data.files[name].suffix == ".csv")


def account_table(data: DataSet) -> ibis.Table:
    """One row per account ID: ``_account``, ``_open`` and ``_close``.

    Accounts are reduced to one row per ID, so a duplicated account (itself an error) does
    not multiply the rows it is joined to.
    """
    accounts = data.raw("accounts")
    close = as_date(accounts.close_date) if "close_date" in accounts.columns else None
    return accounts.group_by(_account=account_key(data, "accounts", accounts)).aggregate(
        _open=as_date(accounts.open_date).min(),
        _close=close.max() if close is not None else ibis.null(dt.date),
    )


def with_accounts(data: DataSet, name: str, raw: ibis.Table) -> ibis.Table | None:
    """``raw`` with the account's ``_account``, ``_open`` and ``_close`` (null when unknown);
    None when there is nothing to join (``accounts`` itself, or no usable ``accounts``)."""
    if name == "accounts" or not data.has("accounts"):
        return None
    if not {"account_id", "open_date"} <= set(data.raw("accounts").columns):
        return None
    keys = account_table(data)
    return raw.left_join(keys, account_key(data, name, raw) == keys._account)


def account_rules(spec: Table) -> Iterator[Rule]:
    day = spec.date_column or "account_id"
    yield Rule(
        "account_id",
        "account not in accounts (every account must be listed when accounts is given)",
        lambda t: t._account.isnull(),
        ("account_id", day),
    )
    yield Rule(
        day,
        "row dated before the account opened or after it closed",
        lambda t: (as_date(t[day]) < t._open) | (as_date(t[day]) > t._close),
        ("account_id", day, "_open", "_close"),
        warning=True,
    )


def row_rules(spec: Table, raw: ibis.Table, labels: Any, backend: str) -> Iterator[Rule]:
    """The row rules of a table as stored on the engine ``backend`` (its name)."""
    for col in spec.columns:
        if col.name in raw.columns:
            type_, own = raw[col.name].type(), labels.get(col.name, {})
            yield from _column_rules(col, type_, spec, own, backend)
    if spec.name == "accounts" and "close_date" in raw.columns:
        yield Rule(
            "close_date",
            "close_date is before open_date",
            lambda t: as_date(t.close_date) < as_date(t.open_date),
            ("account_id", "open_date", "close_date"),
        )


def _column_rules(
    col: Column, type_: dt.DataType, spec: Table, labels: dict[str, str], backend: str
) -> Iterator[Rule]:
    name = col.name
    show = tuple(dict.fromkeys(("account_id", spec.date_column or name, name)))
    if col.required:
        yield Rule(
            name,
            "value is missing (required)",
            lambda t: blank(t[name]),
            show,
            screen=complete(name, type_.is_string()),
        )
    if col.kind == "date":
        if type_.is_string():
            yield Rule(
                name,
                "not a date (expected YYYY-MM-DD)",
                lambda t: _unparsed(t[name], dt.date, backend),
                show,
            )
        yield Rule(
            name,
            f"date outside {EARLIEST}..{LATEST}",
            lambda t: (
                (as_date(t[name]) < ibis.date(EARLIEST)) | (as_date(t[name]) > ibis.date(LATEST))
            ),
            show,
            screen=None if type_.is_string() else _dates_within(name),
        )
    elif col.kind == "number":
        if type_.is_string() or type_.is_floating():
            yield Rule(
                name,
                "not a number",
                lambda t: _unparsed(t[name], dt.float64, backend),
                show,
                screen=_finite(name) if type_.is_floating() else None,
            )
        if col.minimum is not None:
            yield Rule(
                name,
                f"breaks rule {col.rule}",
                lambda t: _below(t[name], col),
                show,
                screen=None if type_.is_string() else _above(name, col),
            )
    elif col.allowed is not None:
        allowed = list(col.allowed)
        yield Rule(
            name,
            f"value not one of {', '.join(allowed)}",
            # most values are written as the contract's: only the others are mapped
            lambda t: ibis.cases(
                (t[name].cast(dt.string).isin(allowed), False),
                else_=~normalise.canonical(t[name], labels, col.allowed).isin(allowed)
                & ~blank(t[name]),
            ),
            show,
            screen=labels_screen(name, col.allowed),
        )


def _dates_within(name: str) -> Screen:
    """The earliest and latest date are inside the contract's range (dates are monotone in
    the stored dates and timestamps, so the extremes decide)."""
    return Screen(
        f"dates:{name}",
        lambda t: (
            (as_date(t[name].min()) >= ibis.date(EARLIEST))
            & (as_date(t[name].max()) <= ibis.date(LATEST))
        ),
        lambda ok, rows: _proved(ok, empty=True),
    )


def _finite(name: str) -> Screen:
    """The column's sum is a finite number, so no value is NaN or infinite (either makes the
    sum one). A null sum (no values) reads as NaN in pandas and is not taken as proof, nor is
    a sum that overflows: both go to the row-by-row count."""

    def clean(total: Any, rows: int) -> bool:
        return total is not None and total is not pd.NA and math.isfinite(float(total))

    return Screen(f"sum:{name}", lambda t: t[name].sum(), clean)


def _above(name: str, column: Column) -> Screen:
    """The smallest value keeps the minimum rule (NaN never breaks it: "not a number" does)."""

    def measure(t: ibis.Table) -> ibis.Value:
        low = t[name].min().cast(dt.float64)
        return low > column.minimum if column.strict else low >= column.minimum

    return Screen(f"min:{name}", measure, lambda ok, rows: _proved(ok, empty=True))


def blank(col: ibis.Value) -> ibis.Value:
    """Null, or text of blanks only (trimmed only where the first character is a blank)."""
    if col.type().is_string():
        starts_blank = col.ascii_str() <= 32  # also true for the empty string (0)
        return col.isnull() | ibis.cases((starts_blank, col.strip() == ""), else_=False)
    return col.isnull()


def _unparsed(col: ibis.Value, target: dt.DataType, backend: str) -> ibis.Value:
    if col.type().is_floating():
        return engine.non_finite(col, backend)
    if target.is_date():
        return ~blank(col) & as_date(col).isnull()
    parsed = col.try_cast(target)
    return ~blank(col) & (parsed.isnull() | parsed.isnan() | parsed.isinf())


def _below(col: ibis.Value, column: Column) -> ibis.Value:
    value = col.try_cast(dt.float64) if col.type().is_string() else col.cast(dt.float64)
    return value <= column.minimum if column.strict else value < column.minimum
