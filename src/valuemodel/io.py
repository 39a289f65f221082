"""Writing output files atomically, in the format their suffix names.

A file is first written to a temporary file in the same directory and then moved into place
with ``os.replace``, so a run that fails leaves any earlier file at that path untouched.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd

from valuemodel.errors import InputError

TABLE_FORMATS = (".csv", ".parquet")


def check_table_path(path: str | Path, formats: tuple[str, ...] = TABLE_FORMATS) -> Path:
    """The output path, or an ``InputError`` before any work when its suffix is not supported."""
    path = Path(path)
    if path.suffix.lower() not in formats:
        raise InputError(
            f"{path}: unsupported output format {path.suffix or '(none)'!r}; "
            f"use one of {', '.join(formats)}"
        )
    return path


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` atomically as CSV or Parquet (by suffix), without the index."""
    path = check_table_path(path)
    writers: dict[str, Callable[[Path], None]] = {
        ".csv": lambda p: frame.to_csv(p, index=False, date_format="%Y-%m-%d"),
        ".parquet": lambda p: frame.to_parquet(p, index=False),
    }
    with atomic_path(path) as tmp:
        writers[path.suffix.lower()](tmp)
    return path
