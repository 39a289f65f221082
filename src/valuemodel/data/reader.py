"""Reading a data directory (CONTRACT.md section 1) into typed Ibis tables.

The engine reads the files itself: nothing is loaded into pandas here. ``DataSet.raw`` gives a
table as stored (CSV columns as text, so that validation can count unparsable values);
``DataSet.table`` gives the contract's typed view, with optional columns that are absent filled
with typed nulls, ``accounts`` derived from activity when absent and ``revenue`` derived from
trade commissions when absent.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import pandas as pd

from valuemodel import engine
from valuemodel.data.schema import TABLES, Column
from valuemodel.errors import InputError

_TYPES: dict[str, dt.DataType] = {
    "id": dt.string,
    "date": dt.date,
    "number": dt.float64,
    "text": dt.string,
}


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
        raise InputError(
            f"{path}: required table 'trades' is missing (expected trades.parquet or trades.csv)"
        )
    return files


@dataclass
class DataSet:
    """A data directory opened on an engine connection.

    Attributes: ``path``, ``files`` (table name -> file), ``con`` (an Ibis backend).
    """

    path: Path
    files: dict[str, Path]
    con: Any
    _raw: dict[str, ibis.Table] = field(default_factory=dict, repr=False)
    cutoff: date | None = None
    _typed: dict[str, ibis.Table] = field(default_factory=dict, repr=False)

    def has(self, name: str) -> bool:
        """Whether the table was given (derived ``accounts``/``revenue`` do not count)."""
        return name in self.files

    def has_column(self, name: str, column: str) -> bool:
        """Whether a given table carries ``column`` in its file."""
        return self.has(name) and column in self.raw(name).columns

    def raw(self, name: str) -> ibis.Table:
        """The table as stored in its file (CSV: every column as text)."""
        if name not in self._raw:
            self._raw[name] = _read(self.con, self.files[name])
        return self._raw[name]

    def until(self, cutoff: date | str) -> DataSet:
        """The same data as it was known on ``cutoff``: rows dated after it are left out.

        An account opened after the cutoff does not exist yet, and a close date after the
        cutoff is not known yet (it reads as open).
        """
        cutoff = _as_date(cutoff)
        if self.cutoff is not None:
            cutoff = min(cutoff, self.cutoff)
        return DataSet(self.path, self.files, self.con, self._raw, cutoff=cutoff)

    def table(self, name: str) -> ibis.Table:
        """The typed contract view of a table (derived when ``accounts``/``revenue`` absent)."""
        if name not in self._typed:
            if name in self.files:
                text = self.files[name].suffix == ".csv"
                typed = _typed(self.raw(name), name, strip_ids=text)
                self._typed[name] = _known_by(typed, name, self.cutoff)
            elif name == "accounts":
                self._typed[name] = self._derived_accounts()
            elif name == "revenue":
                self._typed[name] = self._derived_revenue()
            else:
                raise KeyError(f"table {name!r} is not in {self.path}")
        return self._typed[name]

    def _derived_accounts(self) -> ibis.Table:
        spec = TABLES["accounts"]
        firsts = [
            self.table(n).select("account_id", first=self.table(n)[TABLES[n].date_column])
            for n in self.files
            if n != "accounts"
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

    def end_date(self) -> date | None:
        """The latest date in any table: labels need their whole window before it."""
        ends = [
            engine.execute(self.table(n)[TABLES[n].date_column].max())
            for n in self.files
            if n != "accounts"
        ]
        ends = [_as_date(e) for e in ends if e is not None]
        return max(ends) if ends else None

    def fingerprint(self, as_of: date | str | None = None) -> str:
        """SHA-256 over the input files' names and bytes, and the as-of date if given."""
        h = hashlib.sha256()
        for name in sorted(self.files):
            f = self.files[name]
            h.update(f.name.encode())
            with f.open("rb") as fh:
                for chunk in iter(lambda fh=fh: fh.read(1 << 20), b""):
                    h.update(chunk)
        if as_of is not None:
            h.update(str(as_of).encode())
        return h.hexdigest()


def open_data(path: str | Path, con: Any = None) -> DataSet:
    """Open a data directory on ``con`` (default: a new embedded DuckDB connection)."""
    path = Path(path)
    return DataSet(path=path, files=find_files(path), con=con or engine.connect())


def _known_by(table: ibis.Table, name: str, cutoff: date | None) -> ibis.Table:
    if cutoff is None:
        return table
    table = table.filter(table[TABLES[name].date_column] <= cutoff)
    if name == "accounts":
        closed = table.close_date
        table = table.mutate(close_date=ibis.ifelse(closed <= cutoff, closed, ibis.null(dt.date)))
    return table


def _read(con: Any, file: Path) -> ibis.Table:
    try:
        if file.suffix == ".parquet":
            return con.read_parquet(str(file))
        if con.name == "duckdb":
            return con.read_csv(str(file), all_varchar=True, header=True)
        return con.read_csv(str(file), header=True, inferSchema=False)
    except Exception as err:  # the engine's own error types differ by engine
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise InputError(f"{file}: cannot be read as {file.suffix[1:]}: {first}") from err


def _typed(raw: ibis.Table, name: str, strip_ids: bool = True) -> ibis.Table:
    spec = TABLES[name]
    return raw.select(**{c.name: _cast(raw, c, strip_ids) for c in spec.columns})


def _cast(raw: ibis.Table, column: Column, strip_ids: bool = True) -> ibis.Value:
    target = _TYPES[column.kind]
    if column.name not in raw.columns:
        return ibis.null(target)
    col = raw[column.name]
    if column.kind == "date":
        return as_date(col)
    if column.kind == "number":
        return col if col.type().is_floating() else col.try_cast(dt.float64)
    if column.kind == "id" and col.type().is_string():
        # Text files may pad ids with blanks; typed files (parquet) store them as written,
        # and trimming every id of a large table costs as much as the query itself.
        return col.strip() if strip_ids else col
    return col.cast(target)


def as_date(col: ibis.Value) -> ibis.Value:
    """A date from a date, timestamp or ISO text column (timestamps truncated to the date)."""
    t = col.type()
    if t.is_date():
        return col
    if t.is_timestamp():
        return col.cast(dt.date)
    return col.try_cast(dt.timestamp).cast(dt.date)


def _as_date(value: Any) -> date:
    return pd.Timestamp(value).date()
