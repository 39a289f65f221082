"""A record of input that passed validation, so that a repeated run on unchanged files can
skip the checks.

``features``, ``train`` and ``score`` validate their input before any work. When they are run
again on the same files (train and then score on one export, a rerun after a failed
step), the checks would find what they found before. After a successful validation the
command line writes a record; before the next one it looks for it, and when one matches it
takes the report (warnings, normalisations, row counts) and what validation decided for
reading (which tables need their duplicate rows merged, which empty optional tables are read
as absent) from it, and says so.

A record matches only the same files, byte for byte as far as the file system can tell
(path, size and modification time to the nanosecond of every file in the directory), read
the same way (time zone, CSV encoding, value labels, ``--max-bad-share``, engine), by the
same checking code (the package version and the bytes of the modules that check and read).
Warehouse tables (``spark:DB``) and runs that moved rows to a quarantine folder are never
recorded: the one has no files to compare, the other must write its quarantine files.

Records live in ``$VALUEMODEL_CACHE`` (default ``$XDG_CACHE_HOME/valuemodel``, else
``~/.cache/valuemodel``), under ``checked/``, one small JSON file per input. They hold the
validation report: file, column and rule names, counts and up to five example values per
problem (account IDs, which are pseudonymous, can be among them), nothing else. Deleting the
folder, or ``--recheck``, makes the next run check again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import valuemodel
from valuemodel.data.reader import DataSet
from valuemodel.data.validate import Problem, ValidationReport

FORMAT = 2
_CHECKING_CODE = (
    "normalise.py",
    "reader.py",
    "rules.py",
    "schema.py",
    "settings.py",
    "tally.py",
    "validate.py",
    "labels.yaml",
)


@dataclasses.dataclass(frozen=True)
class Checked:
    """A validation found in a record: its report and when the checks ran (UTC, ISO)."""

    report: ValidationReport
    checked_at: str


def cache_dir() -> Path:
    """Where records are kept (see the module docstring)."""
    if os.environ.get("VALUEMODEL_CACHE"):
        return Path(os.environ["VALUEMODEL_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "valuemodel"


def input_key(data: DataSet, max_bad_share: float) -> str | None:
    """The key of ``data`` as it is now and will be read, or None when it cannot have one
    (warehouse tables; a file that cannot be stat'ed)."""
    if data.database is not None:
        return None
    h = hashlib.sha256()
    settings = data.settings
    labels = {column: dict(values) for column, values in settings.labels.items()}
    head = {
        "format": FORMAT,
        "version": valuemodel.__version__,
        "engine": data.con.name,
        "timezone": settings.timezone,
        "encoding": settings.encoding,
        "labels": labels,
        "max_bad_share": max_bad_share,
    }
    h.update(json.dumps(head, sort_keys=True, default=str).encode())
    code = resources.files("valuemodel.data")
    for name in _CHECKING_CODE:
        h.update(code.joinpath(name).read_bytes())
    try:
        entries = sorted(data.path.resolve().iterdir())
        for file in entries:
            if file.is_file():
                stat = file.stat()
                h.update(f"{file.name}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    except OSError:
        return None
    return h.hexdigest()


def _path(key: str) -> Path:
    return cache_dir() / "checked" / f"{key}.json"


def load(data: DataSet, key: str) -> Checked | None:
    """The record of ``key``, its decisions applied to ``data``; None when there is none
    (or it cannot be read: a damaged record is as good as none)."""
    try:
        saved = json.loads(_path(key).read_text("utf-8"))
        if saved.get("format") != FORMAT:
            return None
        report = ValidationReport(
            warnings=[_problem(p) for p in saved["warnings"]],
            normalised=[_problem(p) for p in saved["normalised"]],
            rows={str(k): int(v) for k, v in saved["rows"].items()},
        )
        collapse = {str(k): bool(v) for k, v in saved["collapse"].items()}
        checked_at = str(saved["checked_at"])
        tables = {str(name) for name in saved["tables"]}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    if not tables <= set(data.files):
        return None
    for name in set(data.files) - tables:  # an optional table that validation set aside
        del data.files[name]  # (empty: treated as absent), as it did then
    data.state.collapse.update(collapse)
    data.state.normalised = list(report.normalised)
    data.state.checked_before = checked_at
    return Checked(report, checked_at)


def save(data: DataSet, key: str, report: ValidationReport) -> None:
    """Record a validation that passed without quarantining rows (else nothing is written).
    The record is written whole or not at all; failing to write it only costs the next run
    its checks."""
    if not report.ok or data.state.keep:  # keep: the filters of quarantined rows
        return
    record = {
        "format": FORMAT,
        "checked_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "warnings": [dataclasses.asdict(p) for p in report.warnings],
        "normalised": [dataclasses.asdict(p) for p in report.normalised],
        "rows": report.rows,
        "collapse": data.state.collapse,
        "tables": sorted(data.files),
    }
    target = _path(key)
    tmp = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=target.parent, suffix=".tmp", delete=False
        ) as tmp:
            json.dump(record, tmp)
        os.replace(tmp.name, target)
    except OSError:
        if tmp is not None:
            Path(tmp.name).unlink(missing_ok=True)


def _problem(saved: dict[str, Any]) -> Problem:
    return Problem(
        file=str(saved["file"]),
        column=None if saved["column"] is None else str(saved["column"]),
        rule=str(saved["rule"]),
        count=None if saved["count"] is None else int(saved["count"]),
        examples=tuple(str(e) for e in saved["examples"]),
    )
