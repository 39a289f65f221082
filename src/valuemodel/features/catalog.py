"""Every declared feature family, in output order: what ``build`` computes and what the
registry describes.

The declarations are checked once at import, so that a mistake stops every build and every
registry load rather than one run: the families are the configuration's (``FAMILIES``, in the
same order), and no two features share an output column for any window up to
``CHECKED_WINDOWS`` days.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from valuemodel.features.assets import ASSETS
from valuemodel.features.config import FAMILIES
from valuemodel.features.contribution import CONTRIBUTION
from valuemodel.features.definition import WINDOW, Family, Feature
from valuemodel.features.flows import FLOWS
from valuemodel.features.frequency import FREQUENCY
from valuemodel.features.holdings import HOLDINGS
from valuemodel.features.profile import PROFILE
from valuemodel.features.recency import RECENCY

DECLARED: dict[str, Family] = {
    family.name: family
    for family in (RECENCY, FREQUENCY, CONTRIBUTION, ASSETS, FLOWS, HOLDINGS, PROFILE)
}
"""Family name -> its declaration, in output order."""

CHECKED_WINDOWS = 1000
"""Templates are checked against each other and the plain names for every window of 1 to
this many days (a configuration can choose any), not only for the default windows."""


def declared_features(families: Mapping[str, Family] | None = None) -> Iterator[Feature]:
    """Every declared feature (templates as declared), family by family, in output order."""
    for family in (families if families is not None else DECLARED).values():
        yield from family.features


def categorical_columns() -> dict[str, tuple[str, ...] | None]:
    """Categorical output columns and their categories (None: the sorted observed values)."""
    return {f.name: f.categories for f in declared_features() if f.kind == "category"}


def check_declarations(families: Mapping[str, Family]) -> None:
    """Raise ``ValueError`` unless ``families`` are the configuration's families, in order,
    and every output column comes from one feature only."""
    if tuple(families) != FAMILIES or any(k != f.name for k, f in families.items()):
        raise ValueError(f"declared families {list(families)} are not {list(FAMILIES)}")
    produced: dict[str, str] = {}
    for feature in declared_features(families):
        for column in _checked_columns(feature):
            if column in produced:
                raise ValueError(
                    f"features {produced[column]!r} and {feature.name!r} both produce {column!r}"
                )
            produced[column] = feature.name


def _checked_columns(feature: Feature) -> list[str]:
    """The feature's column, or its template's for every window up to ``CHECKED_WINDOWS``."""
    if not feature.windowed:
        return [feature.name]
    return [feature.name.replace(WINDOW, str(w)) for w in range(1, CHECKED_WINDOWS + 1)]


check_declarations(DECLARED)
