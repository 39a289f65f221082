"""The base of every configuration model, and where their defaults live.

Configuration is data: the feature set, the training config, the tiers file and the scoring
config are frozen pydantic models that reject unknown keys. A bad file raises ``InputError``
(exit code 2) naming the file and each offending key, e.g.
``tiers.yaml: asset_tier.large: Input should be a valid number (got 'lots')``.

Every default exists once, as a YAML file packaged with the code in ``valuemodel/resources``
and read with ``importlib.resources`` (so it travels in the wheel; ``pyproject.toml`` lists it
as package data): ``features/default.yaml``, ``training/default.yaml``, ``serving/tiers.yaml``.
A :class:`PackagedConfig` starts from its file: a key given by the user replaces the packaged
value, and within a :class:`Section` (a group of independent settings, such as ``tuning``)
each key given replaces only itself. The repository's top-level ``features/`` folder,
``training/default.yaml`` and ``serving/tiers.yaml`` are symlinks to these files, so users
read and copy the very file the package uses; there is no second copy to keep equal.
"""

from __future__ import annotations

import functools
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from valuemodel.errors import InputError
from valuemodel.io import read_yaml

M = TypeVar("M", bound=BaseModel)


class Frozen(BaseModel):
    """Configuration data: immutable, unknown keys rejected.

    Files are read with :func:`load` (or mappings checked with :func:`parse`), which turn
    pydantic's ``ValidationError`` into an ``InputError``; a model built directly in Python
    raises the ``ValidationError`` itself.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Section(Frozen):
    """A group of independent settings: a file may give some keys and keep the rest."""


class PackagedConfig(Frozen):
    """A configuration file whose every default is the packaged ``defaults_file``.

    ``Model()`` is the packaged file; ``Model(**keys)`` and ``Model.model_validate(keys)``
    lay ``keys`` over it (see :func:`overlay`).
    """

    defaults_file: ClassVar[str]
    """The packaged file, relative to ``valuemodel/resources`` (``serving/tiers.yaml``)."""

    @model_validator(mode="before")
    @classmethod
    def _over_the_packaged_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return overlay(cls, _packaged_defaults(cls.defaults_file), data)


def packaged(name: str) -> Traversable:
    """The packaged configuration file ``name`` (``features/registry.yaml``, ...)."""
    return resources.files("valuemodel").joinpath("resources", *name.split("/"))


@functools.cache
def _packaged_defaults(name: str) -> dict[str, Any]:
    """The parsed packaged file (cached: it cannot change while the package is loaded; the
    result is shared, so callers must not modify it)."""
    return _mapping(read_yaml(packaged(name)), name)


def overlay(model: type[BaseModel], defaults: dict[str, Any], given: dict[str, Any]) -> dict:
    """``given`` laid over ``defaults``: each key given replaces the default, except that the
    keys of a :class:`Section` replace only themselves, so ``{"tuning": {"trials": 3}}`` keeps
    the other tuning defaults. Lists, plain mappings and other models are replaced whole."""
    merged = dict(defaults)
    for key, value in given.items():
        section = _section_type(model, key)
        default = merged.get(key)
        if section is not None and isinstance(value, dict) and isinstance(default, dict):
            merged[key] = overlay(section, default, value)
        else:
            merged[key] = value
    return merged


def _section_type(model: type[BaseModel], key: str) -> type[Section] | None:
    field = model.model_fields.get(key)
    annotation = field.annotation if field is not None else None
    is_section = isinstance(annotation, type) and issubclass(annotation, Section)
    return annotation if is_section else None


def parse(model: type[M], raw: Any, source: str) -> M:
    """Validate ``raw`` (parsed YAML; None is an empty file) into ``model``.

    Raises ``InputError`` naming ``source`` and each offending key.
    """
    try:
        return model.model_validate(_mapping({} if raw is None else raw, source))
    except ValidationError as exc:
        raise InputError(f"{source}: {describe(exc)}") from None


def load(model: type[M], path: str | Path | Traversable, what: str) -> M:
    """The YAML file at ``path`` as ``model``; ``what`` names the file in messages
    (``"tiers file"``: ``x.yaml: tiers file not found``)."""
    path = Path(path) if isinstance(path, str) else path
    try:
        raw = read_yaml(path)
    except FileNotFoundError:
        raise InputError(f"{path}: {what} not found") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read the {what} ({exc.strerror})") from None
    return parse(model, raw, str(path))


def _mapping(raw: Any, source: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise InputError(f"{source}: expected a mapping of keys at the top level")
    return raw


def describe(exc: ValidationError) -> str:
    """Each error of ``exc`` as ``key.path: message (got value)``, joined by ``; ``."""
    return "; ".join(_describe_one(error) for error in exc.errors())


def _describe_one(error: Any) -> str:
    key = ".".join(str(part) for part in error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    got = error.get("input")
    if error["type"] != "missing" and isinstance(got, str | int | float | bool):
        message += f" (got {got!r})"
    return f"{key}: {message}" if key else message
