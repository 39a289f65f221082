"""Checking a data directory against the contract before any work starts.

Every rule is a boolean Ibis expression over the table as stored ("this row breaks the rule").
All rules of a table are counted in one aggregate query, so a large table is scanned once; the
examples of a broken rule are fetched only when it is broken. A problem names the file, the
column, the rule, the number of offending rows and up to five examples.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import ibis
import ibis.expr.datatypes as dt

from valuemodel import engine
from valuemodel.data.reader import DataSet, as_date
from valuemodel.data.schema import TABLES, Column, Table
from valuemodel.errors import ProblemReport

MAX_EXAMPLES = 5
_LABELS = {"_open": "accounts.open_date", "_close": "accounts.close_date"}
EARLIEST = "1970-01-01"
LATEST = "2099-12-31"


@dataclass(frozen=True)
class Problem:
    """One broken rule: where, what, how often, and a few of the offending values."""

    file: str
    column: str | None
    rule: str
    count: int | None
    examples: tuple[str, ...] = ()

    def __str__(self) -> str:
        where = f"{self.file}, column '{self.column}'" if self.column else self.file
        text = f"{where}: {self.rule}"
        if self.count is not None:
            text += f" ({self.count:,} row{'s' if self.count != 1 else ''})"
        if self.examples:
            text += "; e.g. " + "; ".join(self.examples)
        return text


@dataclass
class ValidationReport:
    """The outcome of ``validate``: errors reject the input, warnings are only reported."""

    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def raise_for_errors(self) -> None:
        """Raise ``ProblemReport`` (an ``InputError``: exit code 2) when any rule is broken."""
        if self.errors:
            raise ProblemReport(self.errors)


@dataclass(frozen=True)
class _Rule:
    column: str | None
    text: str
    bad: Callable[[ibis.Table], ibis.Value]
    show: tuple[str, ...]
    warning: bool = False


def validate(data: DataSet) -> ValidationReport:
    """Check every table of ``data`` against the contract (CONTRACT.md section 1)."""
    report = ValidationReport()
    for name, file in data.files.items():
        raw = data.raw(name)
        missing = [c for c in TABLES[name].required_columns if c not in raw.columns]
        for col in missing:
            report.errors.append(Problem(file.name, col, "required column is missing", None))
        if missing:
            continue
        rules = list(_row_rules(TABLES[name], raw))
        with_accounts = _with_accounts(data, name, raw)
        if with_accounts is not None:
            raw = with_accounts
            rules += list(_account_rules(TABLES[name]))
        _run_rules(report, file.name, raw, rules)
        _check_duplicates(report, file.name, data.raw(name), TABLES[name])
    _check_empty(report, data)
    if report.ok:
        _check_missing_balances(report, data)
    return report


def _account_key(data: DataSet, name: str) -> ibis.Value:
    col = data.raw(name).account_id.cast(dt.string)
    return col.strip() if data.files[name].suffix == ".csv" else col


def _with_accounts(data: DataSet, name: str, raw: ibis.Table) -> ibis.Table | None:
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
    keys = accounts.group_by(_account=_account_key(data, "accounts")).aggregate(
        _open=as_date(accounts.open_date).min(),
        _close=close.max() if close is not None else ibis.null(dt.date),
    )
    return raw.left_join(keys, _account_key(data, name) == keys._account)


def _account_rules(spec: Table) -> Iterator[_Rule]:
    day = spec.date_column or "account_id"
    yield _Rule(
        "account_id",
        "account not in accounts (every account must be listed when accounts is given)",
        lambda t: t._account.isnull(),
        ("account_id", day),
    )
    yield _Rule(
        day,
        "row dated before the account opened or after it closed",
        lambda t: (as_date(t[day]) < t._open) | (as_date(t[day]) > t._close),
        ("account_id", day, "_open", "_close"),
        warning=True,
    )


def _check_missing_balances(report: ValidationReport, data: DataSet) -> None:
    if data.has("balances"):
        traded = data.table("trades").account_id
        held = data.table("balances").account_id
        lonely = data.table("trades").filter(~traded.isin(held)).account_id
        n = int(engine.execute(lonely.nunique()))
        if n:
            ex = engine.execute(lonely.as_table().distinct().order_by("account_id").limit(5))
            examples = tuple(f"account_id={_fmt(v)}" for v in ex.account_id)
            rule = "accounts with trades but no balances (their asset features will be missing)"
            report.warnings.append(
                Problem(data.files["trades"].name, "account_id", rule, n, examples)
            )


def _run_rules(report: ValidationReport, file: str, raw: ibis.Table, rules: list[_Rule]) -> None:
    if not rules:
        report.rows.setdefault(file, int(engine.execute(raw.count())))
        return
    counts = raw.aggregate(
        n_rows=raw.count(),
        **{
            f"r{i}": rule.bad(raw).fill_null(False).cast("int64").sum()
            for i, rule in enumerate(rules)
        },
    )
    row = engine.execute(counts).iloc[0]
    report.rows[file] = int(row["n_rows"])
    for i, rule in enumerate(rules):
        count = int(row[f"r{i}"] or 0)
        if count:
            problem = Problem(file, rule.column, rule.text, count, _examples(raw, rule))
            (report.warnings if rule.warning else report.errors).append(problem)


def _examples(raw: ibis.Table, rule: _Rule) -> tuple[str, ...]:
    cols = [c for c in rule.show if c in raw.columns]
    rows = engine.execute(
        raw.filter(rule.bad(raw).fill_null(False)).select(cols).limit(MAX_EXAMPLES)
    )
    return tuple(
        ", ".join(f"{_LABELS.get(c, c)}={_fmt(v)}" for c, v in zip(cols, values, strict=True))
        for values in rows.itertuples(index=False)
    )


def _fmt(value: object) -> str:
    return "<empty>" if value is None or value != value else repr(str(value))


def _row_rules(spec: Table, raw: ibis.Table) -> Iterator[_Rule]:
    for col in spec.columns:
        if col.name in raw.columns:
            yield from _column_rules(col, raw[col.name].type(), spec)
    if spec.name == "accounts" and "close_date" in raw.columns:
        yield _Rule(
            "close_date",
            "close_date is before open_date",
            lambda t: as_date(t.close_date) < as_date(t.open_date),
            ("account_id", "open_date", "close_date"),
        )


def _column_rules(col: Column, type_: dt.DataType, spec: Table) -> Iterator[_Rule]:
    name = col.name
    show = tuple(dict.fromkeys(("account_id", spec.date_column or name, name)))
    if col.required:
        yield _Rule(name, "value is missing (required)", lambda t: _blank(t[name]), show)
    if col.kind == "date":
        if type_.is_string():
            yield _Rule(
                name,
                "not a date (expected YYYY-MM-DD)",
                lambda t: _unparsed(t[name], dt.date),
                show,
            )
        yield _Rule(
            name,
            f"date outside {EARLIEST}..{LATEST}",
            lambda t: (
                (as_date(t[name]) < ibis.date(EARLIEST)) | (as_date(t[name]) > ibis.date(LATEST))
            ),
            show,
        )
    elif col.kind == "number":
        if type_.is_string() or type_.is_floating():
            yield _Rule(name, "not a number", lambda t: _unparsed(t[name], dt.float64), show)
        if col.minimum is not None:
            yield _Rule(name, f"breaks rule {col.rule}", lambda t: _below(t[name], col), show)
    elif col.allowed is not None:
        allowed = list(col.allowed)
        yield _Rule(
            name,
            f"value not one of {', '.join(allowed)}",
            lambda t: ~t[name].cast(dt.string).strip().isin(allowed) & ~_blank(t[name]),
            show,
        )


def _check_duplicates(report: ValidationReport, file: str, raw: ibis.Table, spec: Table) -> None:
    key = list(spec.unique_key or ())
    if not key or not all(k in raw.columns for k in key):
        return
    groups = raw.group_by(key).aggregate(n=raw.count()).filter(lambda g: g.n > 1)
    stats = engine.execute(groups.aggregate(rows=groups.n.sum(), keys=groups.count())).iloc[0]
    if not stats["keys"]:
        return
    rows = engine.execute(groups.order_by(key).limit(MAX_EXAMPLES))
    examples = tuple(
        ", ".join(f"{k}={_fmt(getattr(r, k))}" for k in key) + f" ({r.n} times)"
        for r in rows.itertuples(index=False)
    )
    rule = f"duplicate {' + '.join(key)} (must be unique)"
    report.errors.append(Problem(file, key[-1], rule, int(stats["rows"]), examples))


def _check_empty(report: ValidationReport, data: DataSet) -> None:
    for name, file in data.files.items():
        if report.rows.get(file.name) == 0:
            problem = Problem(file.name, None, "table is empty (no rows)", None)
            (report.errors if TABLES[name].required else report.warnings).append(problem)


def _blank(col: ibis.Value) -> ibis.Value:
    if col.type().is_string():
        return col.isnull() | (col.strip() == "")
    return col.isnull()


def _unparsed(col: ibis.Value, target: dt.DataType) -> ibis.Value:
    if col.type().is_floating():
        return col.isnan() | col.isinf()
    if target.is_date():
        return ~_blank(col) & as_date(col).isnull()
    parsed = col.try_cast(target)
    return ~_blank(col) & (parsed.isnull() | parsed.isnan() | parsed.isinf())


def _below(col: ibis.Value, column: Column) -> ibis.Value:
    value = col.try_cast(dt.float64) if col.type().is_string() else col.cast(dt.float64)
    return value <= column.minimum if column.strict else value < column.minimum
