"""Reading exports the way their owners meant them: one place for every normalisation.

Exports differ in shape, and these are not errors (``docs/data-contract.md``, "Export shapes"):

- column names in any case, with stray spaces or a byte-order mark: matched to the contract's;
- CSV files in UTF-8 (with or without BOM), GBK or GB18030: detected, or given, and read as
  UTF-8 (a file in another encoding is transcoded once to a temporary UTF-8 copy);
- value labels: the contract's values in any case, and the synonyms of ``labels.yaml``
  (Chinese labels, ``B``/``S``), mapped to the contract's values;
- time-zone-aware timestamps: converted to the brokerage's time zone before truncation to a
  date (the engine session runs in that zone, see :func:`valuemodel.engine.set_timezone`);
- dates in text written otherwise than ``YYYY-MM-DD`` (``2024/03/01``, ``2024-3-1``): read as
  the date they name;
- several ``positions`` rows for one account, date and symbol (lots, custody seats): summed;
- a ``balances`` row repeated exactly: kept once.

Each function here is pure (an Ibis expression or a file path); validation counts what each
one changed and reports it.
"""

from __future__ import annotations

import atexit
import codecs
import difflib
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import ibis
import ibis.expr.datatypes as dt

from valuemodel.data.schema import Table
from valuemodel.errors import InputError

_CHUNK = 1 << 24
_DETECTED = ("utf-8", "gb18030")
_BOM = "\ufeff"


def column_key(name: str) -> str:
    """How a column name is compared with the contract's: no case, spaces or BOM."""
    return name.replace(_BOM, "").strip().lower()


def contract_names(columns: list[str], spec: Table, file: str) -> dict[str, str]:
    """``{stored name: contract name}`` for the stored columns that are written differently.

    A column already spelled as the contract's wins; two other spellings of one contract
    column are ambiguous and rejected (InputError naming the file and both columns).
    """
    wanted = {c.name: c.name for c in spec.columns}
    exact = set(columns) & set(wanted)
    renames: dict[str, str] = {}
    for stored in columns:
        target = wanted.get(column_key(stored))
        if target is None or stored == target or target in exact:
            continue
        if target in renames.values():
            other = next(s for s, t in renames.items() if t == target)
            raise InputError(
                f"{file}: columns {other!r} and {stored!r} both name '{target}'; keep one"
            )
        renames[stored] = target
    return renames


def trimmed(col: ibis.Value) -> ibis.Value:
    """A text column without surrounding blanks, trimmed only where it starts or ends with one.

    Trimming every value of a large table costs ten times the rest of its validation (the
    engine's trim with a character set is slow); most values need none.
    """
    padded = (col.substr(0, 1).ascii_str() <= 32) | (col.right(1).ascii_str() <= 32)
    return ibis.cases((padded, col.strip()), else_=col)


def canonical(col: ibis.Value, labels: dict[str, str], allowed: tuple[str, ...]) -> ibis.Value:
    """A categorical column with its labels mapped to the contract's values.

    The contract's values match in any case; ``labels`` maps lower-case synonyms. Anything
    else is kept as written (trimmed), so validation can still report it. A value already
    written as the contract's is taken as it is (most are: the mapping runs for the others).
    """
    text = col.cast(dt.string)
    clean = trimmed(text)
    mapping = {value.lower(): value for value in allowed}
    mapping.update({k.lower(): v for k, v in labels.items()})
    mapped = clean.lower().substitute(mapping, else_=clean)
    return ibis.cases((text.isin(list(allowed)), text), else_=mapped)


def utf8_source(path: Path, encoding: str | None = None) -> tuple[Path, str]:
    """A UTF-8 file with the content of the CSV file ``path``, and the encoding it was in.

    Without ``encoding``, the file is read as UTF-8 if all of it decodes (a BOM is allowed),
    else as GB18030 (a superset of GBK). A file in another encoding is transcoded to a
    temporary copy, removed at exit. Raises InputError naming the file and the encodings tried.
    """
    tried = [encoding] if encoding else list(_DETECTED)
    for name in tried:
        if codecs.lookup(name).name == "utf-8" and _decodes(path, "utf-8"):
            return path, "utf-8"
        if codecs.lookup(name).name != "utf-8" and _decodes(path, name):
            return _transcode(path, name), codecs.lookup(name).name
    names = " or ".join(t.upper() for t in tried)
    raise InputError(
        f"{path}: cannot be read as text in encoding {names}; save it as UTF-8, or give its "
        "encoding with --encoding (e.g. --encoding gbk)"
    )


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _transcode(path: Path, encoding: str) -> Path:
    handle, name = tempfile.mkstemp(prefix=f"{path.stem}.", suffix=".utf8.csv", dir=_scratch())
    os.close(handle)
    target = Path(name)
    with (
        path.open("r", encoding=encoding, newline="") as src,
        target.open("w", encoding="utf-8", newline="") as dst,
    ):
        shutil.copyfileobj(src, dst, _CHUNK)
    return target


_SCRATCH: list[str] = []


def _scratch() -> str:
    """One temporary folder per process for transcoded copies, removed at exit."""
    if not _SCRATCH:
        _SCRATCH.append(tempfile.mkdtemp(prefix="valuemodel-utf8-"))
        atexit.register(shutil.rmtree, _SCRATCH[0], True)
    return _SCRATCH[0]


def sum_lots(positions: ibis.Table, by: tuple[str, ...] = ("account_id", "date")) -> ibis.Table:
    """One row per ``by`` and symbol: market value and cost basis summed over lots."""
    return positions.group_by([*by, "symbol"]).aggregate(
        market_value=positions.market_value.sum(),
        cost_basis=positions.cost_basis.sum(),
    )


ISO_DATE = r"^\s*\d{4}-\d{2}-\d{2}"
"""Text that starts as the contract writes a date; anything else that still parses is
reported as a normalisation (``2024/03/01`` read as 2024-03-01)."""


def non_iso_dates(text: ibis.Value) -> ibis.Value:
    """Whether each text value is a date written otherwise than ``YYYY-MM-DD`` that the engine
    still reads as one (what ``reader.as_date`` does with it)."""
    parsed = text.try_cast(dt.Timestamp(timezone="UTC")).notnull()
    return text.notnull() & ~text.re_search(ISO_DATE) & parsed


def closest(name: str, candidates: Sequence[str]) -> str | None:
    """The candidate closest to ``name`` (a misspelt column or file name), or None. Names are
    compared as the reader matches them (case and spaces ignored); ``difflib``'s ratio of at
    least 0.75 counts as close."""
    keys = {" ".join(str(c).split()).lower(): str(c) for c in candidates}
    close = difflib.get_close_matches(" ".join(name.split()).lower(), keys, n=1, cutoff=0.75)
    return keys[close[0]] if close else None


def did_you_mean(name: str, candidates: Sequence[str], what: str = "column") -> str:
    """``"; did you mean ...?"`` naming the candidate closest to ``name``, else ``""``."""
    found = closest(name, candidates)
    if found is None:
        return ""
    if what == "table":
        return f"; did you mean the table '{found}'? (rename the file to {found}.csv or .parquet)"
    return f"; did you mean '{found}'? (the file has it: rename it to '{name}')"
