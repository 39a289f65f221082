"""Reading a data directory (docs/data-contract.md) into typed Ibis tables.

The engine reads the files itself: nothing is loaded into pandas here. ``DataSet.raw`` gives a
table as stored (CSV columns as text, so that validation can count unparsable values), with
its column names matched to the contract's and any quarantined rows left out;
``DataSet.table`` gives the contract's typed view: labels mapped to the contract's values,
positions lots summed, repeated balance rows kept once, optional columns that are absent
filled with typed nulls, ``accounts`` derived from activity when absent and ``revenue``
derived from trade commissions when absent. Every normalisation is defined in
:mod:`valuemodel.data.normalise`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import pandas as pd

from valuemodel import engine
from valuemodel.data import normalise
from valuemodel.data.schema import CAMPAIGN_TABLES, TABLES, Column
from valuemodel.data.settings import ReadSettings
from valuemodel.errors import InputError

_TYPES: dict[str, dt.DataType] = {
    "id": dt.string,
    "date": dt.date,
    "number": dt.float64,
    "text": dt.string,
}
WAREHOUSE = "spark:"
"""``--data spark:DB`` names a warehouse database instead of a directory."""


def find_files(path: Path) -> dict[str, Path]:
    """Map each contract table present in ``path`` to its file; reject ambiguous or no data."""
    path = Path(path)
    if not path.is_dir():
        raise InputError(f"{path}: not a directory (expected a data directory of tables)")
    files: dict[str, Path] = {}
    for name in TABLES:
        found = [p for p in (path / f"{name}.parquet", path / f"{name}.csv") if p.is_file()]
        if len(found) > 1:
            raise InputError(
                f"{path}: both {name}.parquet and {name}.csv exist; keep one file per table"
            )
        if found:
            files[name] = found[0]
    if "trades" not in files:
        data_files = {p.stem: p.name for p in path.iterdir() if p.suffix in (".csv", ".parquet")}
        near = normalise.closest("trades", list(data_files))
        hint = f"; {data_files[near]} is not read: is it the trades table?" if near else ""
        raise InputError(
            f"{path}: required table 'trades' is missing (expected trades.parquet or "
            f"trades.csv){hint}"
        )
    return files


@dataclass
class InputState:
    """What reading and validating a data directory decided, shared by its ``until`` views.

    ``stored``: the tables as read, columns renamed to the contract's; ``renamed``: per table,
    ``{stored name: contract name}``; ``encodings``: per CSV table, the encoding it was read
    in; ``keep``: per table, the filter that leaves out its quarantined rows; ``collapse``:
    per table, whether its duplicate rows must be merged (None: not checked yet);
    ``normalised`` and ``quarantined``: what validation reported (for run summaries);
    ``checked_before``: when the checks were not run again because these unchanged files
    passed them before (``data.record``), the time they passed (UTC, ISO), else None;
    ``cached``: on Spark, per table, its normalised rows cached once (``DataSet._cached``).
    """

    stored: dict[str, ibis.Table] = field(default_factory=dict)
    renamed: dict[str, dict[str, str]] = field(default_factory=dict)
    encodings: dict[str, str] = field(default_factory=dict)
    keep: dict[str, Callable[[ibis.Table], ibis.Table]] = field(default_factory=dict)
    collapse: dict[str, bool] = field(default_factory=dict)
    normalised: list[Any] = field(default_factory=list)
    quarantined: dict[str, int] = field(default_factory=dict)
    checked_before: str | None = None
    cached: dict[str, tuple[tuple, ibis.Table]] = field(default_factory=dict)


@dataclass
class DataSet:
    """A data directory opened on an engine connection.

    Attributes: ``path``, ``files`` (table name -> file), ``con`` (an Ibis backend),
    ``settings`` (time zone, encoding, labels), ``cutoff`` (see :meth:`until`),
    ``database`` (for warehouse tables, ``spark:DB``: the database; ``files`` then holds
    ``DB.<table>`` names), ``state`` (what reading and validation decided; shared with the
    ``until`` views).
    """

    path: Path
    files: dict[str, Path]
    con: Any
    settings: ReadSettings = field(default_factory=ReadSettings)
    cutoff: date | None = None
    database: str | None = None
    state: InputState = field(default_factory=InputState, repr=False)
    _typed: dict[str, ibis.Table] = field(default_factory=dict, repr=False)

    def has(self, name: str) -> bool:
        """Whether the table was given (derived ``accounts``/``revenue`` do not count)."""
        return name in self.files

    def has_column(self, name: str, column: str) -> bool:
        """Whether a given table carries ``column`` in its file (in any spelling)."""
        return self.has(name) and column in self.stored(name).columns

    def stored(self, name: str) -> ibis.Table:
        """The table as stored in its file, column names matched to the contract's."""
        if name not in self.state.stored:
            file = self.files[name]
            source = file
            if self.database is not None:
                table = self.con.table(name, database=self.database)
            else:
                if file.suffix == ".csv":
                    source, self.state.encodings[name] = normalise.utf8_source(
                        file, self.settings.encoding
                    )
                table = _read(self.con, source, file)
                if _renamed_twins(table.columns):  # the engine renamed `AMOUNT` to `AMOUNT_1`:
                    # judge the file's own names (raises when two spell one contract column)
                    header = _file_header(self.con, source, file)
                    normalise.contract_names(header, TABLES[name], file.name)
            renames = normalise.contract_names(list(table.columns), TABLES[name], file.name)
            if renames:
                table = table.rename({new: old for old, new in renames.items()})
                self.state.renamed[name] = renames
            self.state.stored[name] = table
        return self.state.stored[name]

    def raw(self, name: str) -> ibis.Table:
        """The stored table without its quarantined rows (CSV: every column as text)."""
        table = self.stored(name)
        keep = self.state.keep.get(name)
        return keep(table) if keep is not None else table

    def until(self, cutoff: date | str) -> DataSet:
        """The same data as it was known on ``cutoff``: rows dated after it are left out.

        An account opened after the cutoff does not exist yet, and a close date after the
        cutoff is not known yet (it reads as open).
        """
        cutoff = _as_date(cutoff)
        if self.cutoff is not None:
            cutoff = min(cutoff, self.cutoff)
        return DataSet(
            self.path,
            self.files,
            self.con,
            self.settings,
            cutoff=cutoff,
            database=self.database,
            state=self.state,
        )

    def table(self, name: str) -> ibis.Table:
        """The typed contract view of a table (derived when ``accounts``/``revenue`` absent)."""
        if name not in self._typed:
            if name in self.files:
                typed = self._normalised(name)
                self._typed[name] = _known_by(typed, name, self.cutoff)
            elif name == "accounts":
                self._typed[name] = self._derived_accounts()
            elif name == "revenue":
                self._typed[name] = self._derived_revenue()
            else:
                raise KeyError(f"table {name!r} is not in {self.path}")
        return self._typed[name]

    def lots(self) -> ibis.Table:
        """``positions`` typed like ``table("positions")`` but one row per lot: its lots not
        summed per account, date and symbol. For a feature that sums them itself once it has
        cut the table down (the holdings read a few snapshots per account); ``sums_lots``
        says whether it must."""
        key = "positions lots"
        if key not in self._typed:
            self._typed[key] = _known_by(self._typed_rows("positions"), "positions", self.cutoff)
        return self._typed[key]

    @property
    def sums_lots(self) -> bool:
        """Whether ``positions`` may hold several lots of one symbol on one date (True
        unless validation found none)."""
        return self.state.collapse.get("positions", True)

    def _typed_rows(self, name: str) -> ibis.Table:
        text = self.files[name].suffix == ".csv"
        return _typed(self.raw(name), name, self.settings.labels, strip_ids=text)

    def _normalised(self, name: str) -> ibis.Table:
        typed = self._typed_rows(name)
        # Lots are summed unless validation found none (summing is right either way); exact
        # repeats of balance rows are dropped only where validation found some, as the
        # distinct costs a full pass over the largest table.
        if name == "positions" and self.sums_lots:
            typed = normalise.sum_lots(typed)
        elif name == "balances" and self.state.collapse.get(name, False):
            typed = typed.distinct()
        if self.con.name == "pyspark":
            typed = self._cached(name, typed)
        return typed

    def _cached(self, name: str, typed: ibis.Table) -> ibis.Table:
        """On Spark, ``typed`` read from the files once and cached on the executors (memory,
        then disk): the feature plan reads a table in many places (cashflows 17 times,
        trades 10), and Spark reuses only identical subplans, so each would read and
        normalise the file again. Keyed by what the view depends on (quarantine, repeats)."""
        key = (name, id(self.state.keep.get(name)), self.state.collapse.get(name))
        if self.state.cached.get(name, (None,))[0] != key:
            self.state.cached[name] = (key, engine.materialize(self.con, f"_vm_{name}", typed))
        return self.state.cached[name][1]

    def summary(self) -> dict[str, Any]:
        """What was normalised and quarantined, for the summaries of runs (JSON-ready)."""
        return {
            "normalised": [str(p) for p in self.state.normalised],
            "quarantined_rows": dict(self.state.quarantined),
            "checks_reused_from": self.state.checked_before,
            "timezone": self.settings.timezone,
            "encodings": dict(self.state.encodings),
        }

    def _derived_accounts(self) -> ibis.Table:
        spec = TABLES["accounts"]
        firsts = [
            self.table(n).select("account_id", first=self.table(n)[TABLES[n].date_column])
            for n in self.files
            if n != "accounts" and n not in CAMPAIGN_TABLES
        ]
        seen = ibis.union(*firsts) if len(firsts) > 1 else firsts[0]
        opened = seen.group_by("account_id").aggregate(open_date=seen.first.min())
        fill = {c.name: ibis.null(_TYPES[c.kind]) for c in spec.columns[2:]}
        return opened.mutate(**fill)

    def _derived_revenue(self) -> ibis.Table:
        trades = self.table("trades")
        return trades.select(
            "account_id",
            date=trades.trade_date,
            amount=trades.commission,
            kind=ibis.literal("commission"),
        )

    def table_end(self, name: str) -> date | None:
        """The latest date in one table (``revenue`` without its file: the trades'); a label
        that reads the table is complete only when its window ends on or before it."""
        value = engine.execute(self.table(name)[TABLES[name].date_column].max())
        return None if value is None or pd.isna(value) else _as_date(value)

    def end_date(self) -> date | None:
        """The latest date in any table: nothing can be known after it."""
        ends = [
            engine.execute(self.table(n)[TABLES[n].date_column].max())
            for n in self.files
            if n != "accounts" and n not in CAMPAIGN_TABLES
        ]
        ends = [_as_date(e) for e in ends if e is not None]
        return max(ends) if ends else None

    def fingerprint(self, as_of: date | str | None = None) -> str:
        """SHA-256 over the input files' names and bytes, and the as-of date if given.

        Warehouse tables are fingerprinted by name, schema and row count (their bytes are
        the warehouse's business).
        """
        h = hashlib.sha256()
        if self.database is not None:
            for name in sorted(self.files):
                table = self.stored(name)
                rows = engine.execute(table.count())
                h.update(f"{self.files[name]}|{table.schema()}|{rows}".encode())
            if as_of is not None:
                h.update(str(as_of).encode())
            return h.hexdigest()
        for name in sorted(self.files):
            f = self.files[name]
            h.update(f.name.encode())
            with f.open("rb") as fh:
                for chunk in iter(lambda fh=fh: fh.read(1 << 20), b""):
                    h.update(chunk)
        if as_of is not None:
            h.update(str(as_of).encode())
        return h.hexdigest()


def open_data(path: str | Path, con: Any = None, settings: ReadSettings | None = None) -> DataSet:
    """Open a data directory on ``con`` (default: a new embedded DuckDB connection).

    The connection's session time zone is set to ``settings.timezone`` (default
    Asia/Shanghai), so that time-zone-aware timestamps fall on the brokerage's dates.
    """
    settings = settings or ReadSettings.load()
    con = con if con is not None else engine.connect()
    engine.set_timezone(con, settings.timezone)
    if str(path).startswith(WAREHOUSE):
        return _open_database(str(path)[len(WAREHOUSE) :], con, settings)
    path = Path(path)
    return DataSet(path=path, files=find_files(path), con=con, settings=settings)


def _open_database(database: str, con: Any, settings: ReadSettings) -> DataSet:
    """The contract's tables of a warehouse database (``--data spark:DB``)."""
    if con.name != "pyspark":
        raise InputError(f"--data {WAREHOUSE}{database}: warehouse tables need --engine spark")
    try:
        present = set(con.list_tables(database=database))
    except Exception as err:  # noqa: BLE001 - the engine's own error types differ by version
        raise InputError(f"--data {WAREHOUSE}{database}: cannot list its tables ({err})") from err
    files = {name: Path(f"{database}.{name}") for name in TABLES if name in present}
    if "trades" not in files:
        raise InputError(f"{WAREHOUSE}{database}: required table 'trades' is missing")
    path = Path(f"{WAREHOUSE}{database}")
    return DataSet(path, files, con, settings, database=database)


def _known_by(table: ibis.Table, name: str, cutoff: date | None) -> ibis.Table:
    if cutoff is None:
        return table
    table = table.filter(table[TABLES[name].date_column] <= cutoff)
    if name == "accounts":
        closed = table.close_date
        table = table.mutate(close_date=ibis.ifelse(closed <= cutoff, closed, ibis.null(dt.date)))
    return table


def _read(con: Any, source: Path, file: Path) -> ibis.Table:
    """``source`` (``file`` itself, or its UTF-8 copy) as an engine table."""
    try:
        if file.suffix == ".parquet":
            return con.read_parquet(str(source))
        if con.name == "duckdb":
            return con.read_csv(str(source), all_varchar=True, header=True)
        return con.read_csv(str(source), header=True, inferSchema=False)
    except Exception as err:  # the engine's own error types differ by engine
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise InputError(f"{file}: cannot be read as {file.suffix[1:]}: {first}") from err


def _renamed_twins(columns: Sequence[str]) -> bool:
    """Whether a column looks renamed by the engine for repeating another's name in another
    case (DuckDB reads the columns `Amount`, `AMOUNT` as `Amount`, `AMOUNT_1`)."""
    keys = {c.casefold() for c in columns}
    return any(
        (m := re.fullmatch(r"(.+)_\d+", c)) is not None and m.group(1).casefold() in keys
        for c in columns
    )


def _file_header(con: Any, source: Path, file: Path) -> list[str]:
    """The column names as written in the file (the engine may have renamed repeats)."""
    if file.suffix == ".parquet":
        import pyarrow.parquet as pq

        return list(pq.read_schema(source).names)
    if con.name != "duckdb":
        return []
    first = con.read_csv(str(source), header=False, all_varchar=True).head(1).to_pyarrow()
    return [str(v) for v in first.to_pylist()[0].values()] if first.num_rows else []


def _typed(raw: ibis.Table, name: str, labels: Any = None, strip_ids: bool = True) -> ibis.Table:
    spec = TABLES[name]
    labels = labels or {}
    return raw.select(**{c.name: _cast(raw, c, labels, strip_ids) for c in spec.columns})


def _cast(raw: ibis.Table, column: Column, labels: Any, strip_ids: bool = True) -> ibis.Value:
    target = _TYPES[column.kind]
    if column.name not in raw.columns:
        return ibis.null(target)
    col = raw[column.name]
    if column.kind == "date":
        return as_date(col)
    if column.kind == "number":
        return col if col.type().is_floating() else col.try_cast(dt.float64)
    if column.kind == "id":
        return as_id(col, strip=strip_ids)
    if column.allowed is not None:
        return normalise.canonical(col, labels.get(column.name, {}), column.allowed)
    return col.cast(target)


def as_id(col: ibis.Value, strip: bool = True) -> ibis.Value:
    """An ID as text: an integer ID as its decimal text (``1001.0`` stored as float too)."""
    t = col.type()
    if t.is_string():
        # Text files may pad ids with blanks; typed files (parquet) store them as written,
        # and trimming every id of a large table costs as much as the query itself.
        return normalise.trimmed(col) if strip else col
    if t.is_floating():
        whole = col == col.round()
        return ibis.ifelse(whole, col.cast(dt.int64).cast(dt.string), col.cast(dt.string))
    return col.cast(dt.string)


def as_date(col: ibis.Value) -> ibis.Value:
    """A date from a date, timestamp or ISO text column (timestamps truncated to the date).

    Time-zone-aware timestamps, and text with a UTC offset (``2024-03-01T07:30:00+08:00``),
    take their date in the session's time zone, the brokerage's (``engine.set_timezone``).
    """
    t = col.type()
    if t.is_date():
        return col
    if t.is_timestamp():
        return col.cast(dt.date)
    return col.try_cast(dt.Timestamp(timezone="UTC")).cast(dt.date)


def _as_date(value: Any) -> date:
    return pd.Timestamp(value).date()
