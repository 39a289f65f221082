"""How a data directory is read: the brokerage's time zone, the CSV encoding, value labels.

Defaults: time zone ``Asia/Shanghai`` (the ``VALUEMODEL_TIMEZONE`` environment variable
overrides it), the CSV encoding detected per file (UTF-8 with or without BOM, else GB18030,
which also reads GBK), and the value labels of the packaged ``labels.yaml`` (Chinese labels,
``B``/``S`` for the side), which a user's YAML file of the same shape extends.
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from valuemodel.data.schema import TABLES
from valuemodel.errors import InputError
from valuemodel.io import read_yaml

DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_MAX_BAD_SHARE = 0.001
Labels = Mapping[str, Mapping[str, str]]


def _packaged_labels() -> dict[str, dict[str, str]]:
    text = resources.files("valuemodel.data").joinpath("labels.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def default_labels() -> Labels:
    """The packaged value labels (``labels.yaml``), checked."""
    return merge_labels({}, _packaged_labels(), "labels.yaml")


def _categorical() -> dict[str, tuple[str, ...]]:
    """Each categorical column of the contract and its allowed values."""
    out: dict[str, tuple[str, ...]] = {}
    for table in TABLES.values():
        for column in table.columns:
            if column.allowed is not None:
                out[column.name] = column.allowed
    return out


def merge_labels(base: Labels, extra: Mapping[str, object], source: str) -> Labels:
    """``base`` extended by ``extra`` (column -> {synonym: contract value}), checked.

    Raises InputError naming ``source`` and the key for an unknown column or a target value
    that the contract does not allow.
    """
    allowed = _categorical()
    merged = {column: dict(values) for column, values in base.items()}
    if not isinstance(extra, Mapping):
        raise InputError(f"{source}: expected a mapping of column -> {{label: value}}")
    for column, values in extra.items():
        if column not in allowed:
            raise InputError(
                f"{source}: '{column}' is not a categorical column "
                f"(one of {', '.join(sorted(allowed))})"
            )
        if not isinstance(values, Mapping):
            raise InputError(f"{source}, {column}: expected a mapping of label -> value")
        for label, value in values.items():
            if value not in allowed[column]:
                raise InputError(
                    f"{source}, {column}.{label}: {value!r} is not one of "
                    f"{', '.join(allowed[column])}"
                )
            merged.setdefault(column, {})[str(label).strip().lower()] = value
    return MappingProxyType({c: MappingProxyType(v) for c, v in merged.items()})


@dataclass(frozen=True)
class ReadSettings:
    """How to read a data directory.

    ``timezone``: the brokerage's IANA time zone; a time-zone-aware timestamp is converted to
    it before it is truncated to a date. ``encoding``: the encoding of every CSV file (None:
    detect each). ``labels``: column -> {synonym (lower case): contract value}.
    """

    timezone: str = DEFAULT_TIMEZONE
    encoding: str | None = None
    labels: Labels = field(default_factory=default_labels)

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InputError(
                f"time zone {self.timezone!r} is unknown (use an IANA name such as "
                f"{DEFAULT_TIMEZONE})"
            ) from None
        if self.encoding is not None:
            try:
                codecs.lookup(self.encoding)
            except LookupError:
                raise InputError(
                    f"encoding {self.encoding!r} is unknown (use utf-8, gbk or gb18030)"
                ) from None

    @classmethod
    def load(
        cls,
        timezone: str | None = None,
        encoding: str | None = None,
        labels_file: str | Path | None = None,
    ) -> ReadSettings:
        """Settings from explicit values, else ``VALUEMODEL_TIMEZONE``, else the defaults."""
        labels = default_labels()
        if labels_file is not None:
            path = Path(labels_file)
            try:
                extra = read_yaml(path) or {}
            except OSError as exc:
                raise InputError(f"{path}: cannot read the labels file ({exc.strerror})") from None
            labels = merge_labels(labels, extra, str(path))
        zone = timezone or os.environ.get("VALUEMODEL_TIMEZONE") or DEFAULT_TIMEZONE
        return cls(timezone=zone, encoding=encoding, labels=labels)
