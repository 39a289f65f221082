"""The base of every configuration model, and where their defaults live.

Configuration is data: the feature set, the training config, the tiers file and the scoring
config are frozen pydantic models that reject unknown keys. A bad file raises ``InputError``
(exit code 2) naming the file and each offending key, e.g.
``tiers.yaml: asset_tier.large: Input should be a valid number (got 'lots')``.

Every default exists once, as a YAML file packaged with the code in ``valuemodel/resources``
and read with ``importlib.resources`` (so it travels in the wheel; ``pyproject.toml`` lists it
as package data): ``features/default.yaml``, ``training/default.yaml``, ``serving/tiers.yaml``.
A :class:`PackagedConfig` (a whole file, or a section of one such as ``tuning``) takes the
keys it is given and the packaged values of the others, so a user's file needs only the keys
it changes. The repository's top-level ``features/`` folder, ``training/default.yaml`` and
``serving/tiers.yaml`` are symlinks to these files (rather than copies checked equal by a
test), so users read and copy the very file the package uses.
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


class PackagedConfig(Frozen):
    """A configuration whose keys left out take their packaged values.

    ``defaults_from`` names the packaged file and the keys of the section within it:
    ``("training/default.yaml", "tuning")``, or ``("serving/tiers.yaml",)`` for a whole file.
    ``Model()`` is the packaged section; ``Model(**keys)`` and ``Model.model_validate(keys)``
    take ``keys`` and the packaged values of the others. A section left out of a file is the
    packaged one; a section given in part keeps the packaged values of its other keys.
    Lists, plain mappings and other models are values like any other: given, they replace
    the packaged value whole.
    """

    defaults_from: ClassVar[tuple[str, ...]]

    @model_validator(mode="before")
    @classmethod
    def _fill_from_the_package(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return {**packaged_defaults(*cls.defaults_from), **data}


def packaged(name: str) -> Traversable:
    """The packaged configuration file ``name`` (``features/registry.yaml``, ...)."""
    return resources.files("valuemodel").joinpath("resources", *name.split("/"))


@functools.cache
def packaged_defaults(name: str, *keys: str) -> dict[str, Any]:
    """The section at ``keys`` of the packaged file ``name`` (``{}`` when it has none).

    Cached, since the file cannot change while the package is loaded; the result is shared,
    so callers must not modify it.
    """
    section = _mapping(read_yaml(packaged(name)), name)
    for key in keys:
        section = section.get(key) or {}
    return section


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
