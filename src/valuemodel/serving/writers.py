"""Writing the ranked list and its side files atomically, as CSV, Parquet or Excel.

Every file is first written to a temporary file in the target's folder, then moved over the
target with ``os.replace`` (atomic on one file system): a run that fails midway leaves any
earlier file untouched and no temporary file behind. Outputs are byte-identical for identical
frames: no timestamps (the Excel file's document date is pinned; XlsxWriter dates its zip
entries itself).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from valuemodel.errors import InputError
from valuemodel.io import atomic_write, check_table_path, staged
from valuemodel.serving.words import (
    CONTROL_SHEETS,
    LIST_SHEETS,
    SUMMARY_SHEETS,
    UNASSIGNED_KEYS,
    to_display,
)

__all__ = [
    "FORMATS",
    "atomic_write",
    "check_format",
    "csv_text",
    "sheet_groups",
    "staged",
    "write_csv",
    "write_json",
    "write_parquet",
    "write_table",
    "write_xlsx",
]

FORMATS = (".csv", ".parquet", ".xlsx")
_PINNED_CREATED = datetime(2000, 1, 1, tzinfo=UTC)
_PERCENT_FORMAT, _MONEY_FORMAT, _COUNT_FORMAT = "0.0%", "#,##0.00", "#,##0"
_PERCENT = {"churn_probability"}
_MONEY = {"clv", "value_at_risk", "priority_score", "total_assets"}
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def check_format(path: Path) -> str:
    """The output format from the suffix; ``InputError`` for an unsupported one."""
    return check_table_path(path, FORMATS).suffix.lower()


def write_csv(frame: pd.DataFrame, path: Path, lang: str = "en") -> None:
    """CSV, UTF-8; a boolean column (``control``) reads ``true`` / ``false``.

    ``lang="zh"``: Chinese headers and tier values (``words.to_display``), and UTF-8 with a
    byte-order mark, which Excel on Chinese Windows needs to read UTF-8 (without it, it reads
    the file as GBK and shows it garbled); pandas and most tools skip the mark.
    """
    encoding = "utf-8-sig" if lang == "zh" else "utf-8"
    _csv_ready(frame, lang).to_csv(path, index=False, lineterminator="\n", encoding=encoding)


def csv_text(frame: pd.DataFrame, lang: str = "en", header: bool = True) -> str:
    """The text :func:`write_csv` writes for ``frame`` (without the byte-order mark): Spark's
    executors format their rows of the list with it, so both engines' files read alike."""
    return _csv_ready(frame, lang).to_csv(index=False, lineterminator="\n", header=header)


def _csv_ready(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    flags = [c for c in frame.columns if pd.api.types.is_bool_dtype(frame[c].dtype)]
    if flags and lang != "zh":
        frame = frame.assign(**{c: frame[c].map({True: "true", False: "false"}) for c in flags})
    return to_display(frame, lang)


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    frame.to_parquet(path, index=False, engine="pyarrow", compression="zstd")


def write_json(data: Any, path: Path) -> None:
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False)
    path.write_text(text + "\n", encoding="utf-8")


def write_table(
    frame: pd.DataFrame,
    path: Path,
    *,
    fmt: str | None = None,
    summary: list[tuple[str, Any]] | None = None,
    lang: str = "en",
) -> None:
    """Write ``frame`` to ``path`` as ``fmt`` (default: by suffix); not atomic by itself.

    ``summary`` (key, value) pairs make the Excel file's ``Summary`` sheet. ``lang="zh"``:
    CSV and Excel in Chinese (:mod:`valuemodel.serving.words`); Parquet keeps the contract's
    names, for programs.
    """
    suffix = fmt or check_format(path)
    if suffix == ".csv":
        write_csv(frame, path, lang)
    elif suffix == ".parquet":
        write_parquet(frame, path)
    else:
        write_xlsx(frame, path, summary or [], lang)


def sheet_groups(
    frame: pd.DataFrame, lang: str = "en"
) -> tuple[str | None, list[tuple[str, pd.DataFrame]]]:
    """One sheet per manager, else per branch, else one sheet (``(column, [(name, rows)])``)."""
    for column in ("manager_id", "branch"):
        if column in frame.columns and frame[column].notna().any():
            keys = frame[column].astype("object").fillna(UNASSIGNED_KEYS[lang]).astype(str)
            groups = [(str(k), rows) for k, rows in frame.groupby(keys, sort=True)]
            return column, groups
    return None, [(LIST_SHEETS[lang], frame)]


def _sheet_name(name: str, used: set[str]) -> str:
    base = _SHEET_FORBIDDEN.sub("_", name).strip("'")[:31] or "sheet"
    candidate, i = base, 1
    while candidate.lower() in used:
        i += 1
        candidate = f"{base[: 31 - len(str(i)) - 1]}~{i}"
    used.add(candidate.lower())
    return candidate


CONTROL_SHEET = CONTROL_SHEETS["en"]


def write_xlsx(
    frame: pd.DataFrame, path: Path, summary: list[tuple[str, Any]], lang: str = "en"
) -> None:
    """A ``Summary`` sheet, one sheet per manager (or branch), formats and widths set.

    Accounts with ``control`` true are on a last sheet of their own, ``CONTROL_SHEET``, and on
    no manager's sheet: they are held out of contact. Written by XlsxWriter row by row
    (``constant_memory``); the document date is pinned and XlsxWriter gives every part of the
    file a fixed time, so identical frames give identical bytes.
    """
    import xlsxwriter

    with xlsxwriter.Workbook(path, {"constant_memory": True}) as workbook:
        workbook.set_properties({"created": _PINNED_CREATED})
        styles = _Styles(workbook)
        control_sheet = CONTROL_SHEETS[lang]
        used = {SUMMARY_SHEETS[lang].lower(), control_sheet.lower()}
        _summary_sheet(workbook, styles, summary, SUMMARY_SHEETS[lang])
        held = frame["control"].fillna(False).astype(bool) if "control" in frame.columns else None
        contacted = frame if held is None else frame.loc[~held]
        _, groups = sheet_groups(contacted, lang)
        for name, rows in groups:
            _list_sheet(workbook, styles, _sheet_name(name, used), rows, lang)
        if held is not None and held.any():
            _list_sheet(workbook, styles, control_sheet, frame.loc[held], lang)


class _Styles:
    """The cell formats of one workbook (XlsxWriter formats belong to the workbook that made
    them): ``bold``, and ``numbers`` by number format."""

    def __init__(self, workbook: Any):
        self.bold = workbook.add_format({"bold": True})
        self.numbers = {
            f: workbook.add_format({"num_format": f})
            for f in (_PERCENT_FORMAT, _MONEY_FORMAT, _COUNT_FORMAT)
        }


def _summary_sheet(
    workbook: Any, styles: _Styles, summary: list[tuple[str, Any]], title: str
) -> None:
    ws = workbook.add_worksheet(title)
    ws.set_column(0, 0, 40)
    ws.set_column(1, 1, 60)
    for row, (key, value) in enumerate(summary):
        ws.write_string(row, 0, str(key), styles.bold)
        if isinstance(value, int | float) and not isinstance(value, bool):
            shown = _MONEY_FORMAT if isinstance(value, float) else _COUNT_FORMAT
            _write(ws, row, 1, value, styles.numbers[shown])
        elif value is not None:
            ws.write_string(row, 1, str(value))


def _list_sheet(
    workbook: Any, styles: _Styles, title: str, rows: pd.DataFrame, lang: str = "en"
) -> None:
    ws = workbook.add_worksheet(title)
    columns = list(rows.columns)
    for i, column in enumerate(columns):
        ws.set_column(i, i, _width(column, rows[column]))
    ws.freeze_panes(1, 2)
    formats = [styles.numbers.get(_number_format(c)) for c in columns]
    rows = to_display(rows, lang)
    for i, column in enumerate(rows.columns):
        ws.write_string(0, i, column, styles.bold)
    for row, values in enumerate(rows.itertuples(index=False, name=None), start=1):
        for col, (value, cell_format) in enumerate(zip(values, formats, strict=True)):
            _write(ws, row, col, value, cell_format)


def _number_format(column: str) -> str | None:
    if column in _PERCENT:
        return _PERCENT_FORMAT
    return _MONEY_FORMAT if column in _MONEY else None


def _write(ws: Any, row: int, col: int, value: Any, cell_format: Any) -> None:
    """One cell by its Python type: a missing value stays empty, booleans and numbers are
    Excel's own, anything else is text (never a formula or a link, whatever it starts with)."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return
    if isinstance(value, bool):
        ws.write_boolean(row, col, value)
    elif isinstance(value, int | float):
        ws.write_number(row, col, value, cell_format)
    else:
        ws.write_string(row, col, str(value))


def _width(column: str, values: pd.Series) -> float:
    if column.startswith("reason_") or column == "recommended_action":
        return 48
    if column in _MONEY:
        return 16
    longest = max([len(column), *(len(str(v)) for v in values.head(200).tolist())])
    return min(max(longest + 2, 8), 40)


def side_paths(out: Path) -> tuple[Path, Path]:
    """``<stem>.summary.json`` and ``<stem>.drift.csv`` next to the list."""
    out = Path(out)
    return out.with_name(f"{out.stem}.summary.json"), out.with_name(f"{out.stem}.drift.csv")


def check_own_summary(out: str | Path) -> None:
    """Refuse (``InputError``) to write a list whose ``<stem>.summary.json`` belongs to another
    list that still exists (``x.csv``, then ``x.parquet``): the summary is what ``evaluate``
    judges that list by, and replacing it would leave ``x.csv`` without one."""
    out = Path(out)
    summary_path = side_paths(out)[0]
    if not summary_path.is_file():
        return
    try:
        owner = json.loads(summary_path.read_text(encoding="utf-8")).get("list")
    except (OSError, ValueError, AttributeError):
        return
    if not isinstance(owner, str) or owner == out.name or not (out.parent / owner).exists():
        return
    raise InputError(
        f"{summary_path} is the summary of the list {out.parent / owner}; writing {out.name} "
        f"would replace it, and evaluate could no longer judge {owner}. Write this list under "
        f"another name (e.g. --out {out.with_name(out.stem + '_' + out.suffix[1:] + out.suffix)})"
        f", or remove {owner} first."
    )
