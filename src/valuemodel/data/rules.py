"""The row rules of the contract, each a boolean Ibis expression over a table as stored.

A rule says "this row breaks it"; :mod:`valuemodel.data.validate` counts every rule of a table
in one query, and the quarantine leaves out the rows that break one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.datatypes as dt

from valuemodel.data import normalise
from valuemodel.data.reader import DataSet, as_date, as_id
from valuemodel.data.schema import Column, Table

EARLIEST = "1970-01-01"
LATEST = "2099-12-31"


@dataclass(frozen=True)
class Rule:
    column: str | None
    text: str
    bad: Callable[[ibis.Table], ibis.Value]
    show: tuple[str, ...]
    warning: bool = False


def any_bad(table: ibis.Table, rules: tuple[Rule, ...]) -> ibis.Value:
    bad = ibis.literal(False)
    for rule in rules:
        bad = bad | rule.bad(table).fill_null(False)
    return bad


def _account_key(data: DataSet, name: str, table: ibis.Table) -> ibis.Value:
    return as_id(table.account_id, strip=data.files[name].suffix == ".csv")


def with_accounts(data: DataSet, name: str, raw: ibis.Table) -> ibis.Table | None:
    """``raw`` with the account's ``_account``, ``_open`` and ``_close`` (null when unknown).

    Accounts are reduced to one row per ID first, so a duplicated account (itself an error)
    does not multiply the rows counted here.
    """
    if name == "accounts" or not data.has("accounts"):
        return None
    accounts = data.raw("accounts")
    if not {"account_id", "open_date"} <= set(accounts.columns):
        return None
    close = as_date(accounts.close_date) if "close_date" in accounts.columns else None
    keys = accounts.group_by(_account=_account_key(data, "accounts", accounts)).aggregate(
        _open=as_date(accounts.open_date).min(),
        _close=close.max() if close is not None else ibis.null(dt.date),
    )
    return raw.left_join(keys, _account_key(data, name, raw) == keys._account)


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


def row_rules(spec: Table, raw: ibis.Table, labels: Any) -> Iterator[Rule]:
    for col in spec.columns:
        if col.name in raw.columns:
            yield from _column_rules(col, raw[col.name].type(), spec, labels.get(col.name, {}))
    if spec.name == "accounts" and "close_date" in raw.columns:
        yield Rule(
            "close_date",
            "close_date is before open_date",
            lambda t: as_date(t.close_date) < as_date(t.open_date),
            ("account_id", "open_date", "close_date"),
        )


def _column_rules(
    col: Column, type_: dt.DataType, spec: Table, labels: dict[str, str]
) -> Iterator[Rule]:
    name = col.name
    show = tuple(dict.fromkeys(("account_id", spec.date_column or name, name)))
    if col.required:
        yield Rule(name, "value is missing (required)", lambda t: blank(t[name]), show)
    if col.kind == "date":
        if type_.is_string():
            yield Rule(
                name,
                "not a date (expected YYYY-MM-DD)",
                lambda t: _unparsed(t[name], dt.date),
                show,
            )
        yield Rule(
            name,
            f"date outside {EARLIEST}..{LATEST}",
            lambda t: (
                (as_date(t[name]) < ibis.date(EARLIEST)) | (as_date(t[name]) > ibis.date(LATEST))
            ),
            show,
        )
    elif col.kind == "number":
        if type_.is_string() or type_.is_floating():
            yield Rule(name, "not a number", lambda t: _unparsed(t[name], dt.float64), show)
        if col.minimum is not None:
            yield Rule(name, f"breaks rule {col.rule}", lambda t: _below(t[name], col), show)
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
        )


def blank(col: ibis.Value) -> ibis.Value:
    """Null, or text of blanks only (trimmed only where the first character is a blank)."""
    if col.type().is_string():
        starts_blank = col.ascii_str() <= 32  # also true for the empty string (0)
        return col.isnull() | ibis.cases((starts_blank, col.strip() == ""), else_=False)
    return col.isnull()


def _unparsed(col: ibis.Value, target: dt.DataType) -> ibis.Value:
    if col.type().is_floating():
        return col.isnan() | col.isinf()
    if target.is_date():
        return ~blank(col) & as_date(col).isnull()
    parsed = col.try_cast(target)
    return ~blank(col) & (parsed.isnull() | parsed.isnan() | parsed.isinf())


def _below(col: ibis.Value, column: Column) -> ibis.Value:
    value = col.try_cast(dt.float64) if col.type().is_string() else col.cast(dt.float64)
    return value <= column.minimum if column.strict else value < column.minimum
