"""Reading configuration files; writing output files atomically, in the format their suffix
names.

Every file is first written to a temporary file in the target's folder, then moved over the
target with ``os.replace`` (atomic on one file system): a run that fails midway leaves any
earlier file untouched and no temporary file behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from valuemodel.errors import InputError

TABLE_FORMATS = (".csv", ".parquet")


class _UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key written twice in one mapping: plain YAML keeps
    the later value without a word, so a pasted line would silently replace a setting."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} appears twice in one mapping", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str) -> Any:
    """The YAML document in ``text``, read safely; a key twice in one mapping is an error."""
    return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass


def read_yaml(path: Path) -> Any:
    """The YAML document in the file at ``path`` (None when it is empty).

    Raises InputError naming the file when it is not valid YAML or writes a key twice in one
    mapping; a missing or unreadable file raises OSError, which each caller words for the file
    it was looking for.
    """
    try:
        return load_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML ({exc})") from None


def check_table_path(path: str | Path, formats: tuple[str, ...] = TABLE_FORMATS) -> Path:
    """The output path, or an ``InputError`` before any work when its suffix is not supported."""
    path = Path(path)
    if path.suffix.lower() not in formats:
        raise InputError(
            f"{path}: unsupported output format {path.suffix.lower() or '(none)'!r} "
            f"(use {', '.join(formats)})"
        )
    return path


@contextlib.contextmanager
def staged(paths: list[Path]) -> Iterator[list[Path]]:
    """Temporary paths next to ``paths``; on success all are moved into place, else deleted.

    The moves happen after every file is complete, so outputs are replaced together.
    """
    temps: list[Path] = []
    try:
        for path in paths:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            os.close(fd)
            temps.append(Path(name))
        yield temps
        mode = 0o666 & ~_umask()
        for temp, path in zip(temps, paths, strict=True):
            os.chmod(temp, mode)  # mkstemp creates 0600; give what a plain open() would
            os.replace(temp, path)
    finally:
        for temp in temps:
            temp.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> None:
    """Call ``write(temp_path)`` and move the result over ``path`` only if it succeeds."""
    with staged([Path(path)]) as (temp,):
        write(temp)


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` atomically as CSV or Parquet (by suffix), without the index."""
    path = check_table_path(path)
    if path.suffix.lower() == ".csv":
        atomic_write(path, lambda p: frame.to_csv(p, index=False, date_format="%Y-%m-%d"))
    else:
        atomic_write(path, lambda p: frame.to_parquet(p, index=False))
    return path
