"""Writing the ranked list and its side files atomically, as CSV, Parquet or Excel.

Every file is first written to a temporary file in the target's folder, then moved over the
target with ``os.replace`` (atomic on one file system): a run that fails midway leaves any
earlier file untouched and no temporary file behind. Outputs are byte-identical for identical
frames: no timestamps (the Excel file's zip entries and document dates are pinned).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd

from valuemodel.io import atomic_write, check_table_path, staged

__all__ = [
    "FORMATS",
    "atomic_write",
    "check_format",
    "sheet_groups",
    "staged",
    "write_csv",
    "write_json",
    "write_parquet",
    "write_table",
    "write_xlsx",
]

FORMATS = (".csv", ".parquet", ".xlsx")
_PINNED_TIME = (1980, 1, 1, 0, 0, 0)
_PINNED_ISO = "2000-01-01T00:00:00Z"
_PERCENT = {"churn_probability"}
_MONEY = {"clv", "value_at_risk", "priority_score", "total_assets"}
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def check_format(path: Path) -> str:
    """The output format from the suffix; ``InputError`` for an unsupported one."""
    return check_table_path(path, FORMATS).suffix.lower()


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """CSV, UTF-8; a boolean column (``control``) reads ``true`` / ``false``."""
    flags = [c for c in frame.columns if pd.api.types.is_bool_dtype(frame[c].dtype)]
    if flags:
        frame = frame.assign(**{c: frame[c].map({True: "true", False: "false"}) for c in flags})
    frame.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


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
) -> None:
    """Write ``frame`` to ``path`` as ``fmt`` (default: by suffix); not atomic by itself.

    ``summary`` (key, value) pairs make the Excel file's ``Summary`` sheet.
    """
    suffix = fmt or check_format(path)
    if suffix == ".csv":
        write_csv(frame, path)
    elif suffix == ".parquet":
        write_parquet(frame, path)
    else:
        write_xlsx(frame, path, summary or [])


def sheet_groups(frame: pd.DataFrame) -> tuple[str | None, list[tuple[str, pd.DataFrame]]]:
    """One sheet per manager, else per branch, else one sheet (``(column, [(name, rows)])``)."""
    for column in ("manager_id", "branch"):
        if column in frame.columns and frame[column].notna().any():
            keys = frame[column].astype("object").fillna("(unassigned)").astype(str)
            groups = [(str(k), rows) for k, rows in frame.groupby(keys, sort=True)]
            return column, groups
    return None, [("Ranked list", frame)]


def _sheet_name(name: str, used: set[str]) -> str:
    base = _SHEET_FORBIDDEN.sub("_", name).strip("'")[:31] or "sheet"
    candidate, i = base, 1
    while candidate.lower() in used:
        i += 1
        candidate = f"{base[: 31 - len(str(i)) - 1]}~{i}"
    used.add(candidate.lower())
    return candidate


CONTROL_SHEET = "Control (do not contact)"


def write_xlsx(frame: pd.DataFrame, path: Path, summary: list[tuple[str, Any]]) -> None:
    """A ``Summary`` sheet, one sheet per manager (or branch), formats and widths set.

    Accounts with ``control`` true are on a last sheet of their own, ``CONTROL_SHEET``, and on
    no manager's sheet: they are held out of contact.
    """
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    used = {"summary", CONTROL_SHEET.lower()}
    _summary_sheet(wb, summary)
    held = frame["control"].fillna(False).astype(bool) if "control" in frame.columns else None
    contacted = frame if held is None else frame.loc[~held]
    _, groups = sheet_groups(contacted)
    for name, rows in groups:
        _list_sheet(wb, _sheet_name(name, used), rows)
    if held is not None and held.any():
        _list_sheet(wb, CONTROL_SHEET, frame.loc[held])
    buffer = io.BytesIO()
    wb.save(buffer)
    path.write_bytes(_pin_zip(buffer.getvalue()))


def _summary_sheet(wb: Any, summary: list[tuple[str, Any]]) -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    ws = wb.create_sheet("Summary")
    ws.column_dimensions["A"].width = 40
    ws.column_dimensions["B"].width = 60
    for key, value in summary:
        cell = WriteOnlyCell(ws, value=key)
        cell.font = Font(bold=True)
        if isinstance(value, int | float) and not isinstance(value, bool):
            shown = WriteOnlyCell(ws, value=value)
            shown.number_format = "#,##0.00" if isinstance(value, float) else "#,##0"
        else:
            shown = WriteOnlyCell(ws, value=None if value is None else str(value))
        ws.append([cell, shown])


def _list_sheet(wb: Any, title: str, rows: pd.DataFrame) -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(title)
    columns = list(rows.columns)
    for i, column in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = _width(column, rows[column])
    ws.freeze_panes = "C2"
    header = []
    for column in columns:
        cell = WriteOnlyCell(ws, value=column)
        cell.font = Font(bold=True)
        header.append(cell)
    ws.append(header)
    formats = ["0.0%" if c in _PERCENT else "#,##0.00" if c in _MONEY else None for c in columns]
    for values in rows.itertuples(index=False, name=None):
        ws.append([_cell(ws, v, f) for v, f in zip(values, formats, strict=True)])


def _cell(ws: Any, value: Any, number_format: str | None) -> Any:
    from openpyxl.cell import WriteOnlyCell

    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return None
    if number_format is None:
        return value if isinstance(value, int | float | str) else str(value)
    cell = WriteOnlyCell(ws, value=value)
    cell.number_format = number_format
    return cell


def _width(column: str, values: pd.Series) -> float:
    if column.startswith("reason_") or column == "recommended_action":
        return 48
    if column in _MONEY:
        return 16
    longest = max([len(column), *(len(str(v)) for v in values.head(200).tolist())])
    return min(max(longest + 2, 8), 40)


def _pin_zip(data: bytes) -> bytes:
    """The same workbook with fixed zip timestamps and document dates (byte-stable output)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(
                    rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:)",
                    rb"\g<1>" + _PINNED_ISO.encode() + rb"\g<3>",
                    content,
                )
            pinned = zipfile.ZipInfo(info.filename, date_time=_PINNED_TIME)
            pinned.compress_type = zipfile.ZIP_DEFLATED
            pinned.external_attr = info.external_attr
            target.writestr(pinned, content)
    return out.getvalue()
