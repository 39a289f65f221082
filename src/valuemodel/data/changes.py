"""What reading changed in a table, per column, for validation to count and report.

Each change (``valuemodel.data.normalise`` does the reading) comes as a count expression, a
screen for the per-file check record, and a function that describes the counted change as a
:class:`~valuemodel.data.problem.Problem` with a few examples: value labels read as the
contract's values, time-zone-aware timestamps dated in the brokerage's zone, and dates written
otherwise than ``YYYY-MM-DD``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import ibis
import ibis.expr.datatypes as dt

from valuemodel import engine
from valuemodel.data import normalise
from valuemodel.data.problem import MAX_EXAMPLES, Problem
from valuemodel.data.reader import DataSet, as_date
from valuemodel.data.rules import Screen, labels_screen
from valuemodel.data.schema import TABLES, Column


def normalisations(
    data: DataSet, name: str, raw: ibis.Table
) -> Iterator[tuple[Callable, Screen | None, Callable]]:
    """Per changed column: (its count of changed rows, a screen, how to describe the change)."""
    spec, file = TABLES[name], data.files[name].name
    for col in spec.columns:
        if col.name not in raw.columns:
            continue
        stored = raw[col.name]
        if col.allowed is not None:
            labels = data.settings.labels.get(col.name, {})
            mapped = normalise.canonical(stored, labels, col.allowed)
            changed = ibis.cases(
                (stored.cast(dt.string).isin(list(col.allowed)), False),
                else_=stored.notnull() & mapped.isin(list(col.allowed)),
            )
            yield (
                lambda t, changed=changed: changed.cast("int64").sum(),
                labels_screen(col.name, col.allowed),
                _label_note(file, col, changed, mapped),
            )
        elif col.kind == "date":
            kind = stored.type()
            if kind.is_string():
                yield _date_form_note(file, col.name, stored)
            if kind.is_timestamp() and kind.timezone:
                what, count = "time-zone-aware timestamps", stored.count()
            elif kind.is_string():
                what = "timestamps with a UTC offset"
                count = stored.re_search(TEXT_OFFSET).cast("int64").sum()
            else:
                continue
            rule = f"{what}: dated in {data.settings.timezone} (the brokerage's time zone)"
            yield (
                lambda t, count=count: count,
                None,
                lambda raw, n, col=col, rule=rule: Problem(file, col.name, rule, n),
            )


TEXT_OFFSET = r"\d:\d\d(:\d\d(\.\d+)?)?\s*([zZ]|[+-]\d\d(:?\d\d)?)$"
"""A time of day and a UTC offset (``T07:30:00+08:00``, ``23:59Z``): ``as_date`` dates it in
the brokerage's time zone."""


def _date_form_note(file: str, column: str, stored: ibis.Value) -> tuple:
    """Dates written otherwise than YYYY-MM-DD: counted, with a few as they were written."""
    changed = normalise.non_iso_dates(stored)

    def describe(raw: ibis.Table, count: int) -> Problem:
        shown = raw.filter(changed).select(text=raw[column], day=as_date(raw[column]))
        shown = shown.distinct().order_by("text").limit(MAX_EXAMPLES)
        examples = tuple(
            f"{r.text!r} -> {str(r.day)[:10]}" for r in engine.execute(shown).itertuples()
        )
        rule = "dates not written YYYY-MM-DD: read as the date they name"
        return Problem(file, column, rule, count, examples)

    return (lambda t: changed.cast("int64").sum(), None, describe)


def _label_note(file: str, col: Column, changed: ibis.Value, mapped: ibis.Value) -> Callable:
    def describe(raw: ibis.Table, count: int) -> Problem:
        pairs = (
            raw.filter(changed)
            .select(label=raw[col.name].cast(dt.string), value=mapped)
            .distinct()
            .order_by("label")
            .limit(MAX_EXAMPLES)
        )
        examples = tuple(f"{r.label!r} -> {r.value}" for r in engine.execute(pairs).itertuples())
        rule = f"labels read as the contract's values ({', '.join(col.allowed or ())})"
        return Problem(file, col.name, rule, count, examples)

    return describe
