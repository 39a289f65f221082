"""Profile (from ``accounts``): age and the categorical attributes that are present.

``age`` = year of T - birth_year. ``gender``, ``risk_level``, ``investor_type``, ``channel``
and ``branch`` are passed through as categories. A column absent from the accounts file gives
no feature (and without an accounts file the family is absent).
"""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt

from valuemodel.data.reader import DataSet
from valuemodel.data.schema import GENDERS, INVESTOR_TYPES, RISK_LEVELS
from valuemodel.features.asof import Spine
from valuemodel.features.config import FeatureConfig
from valuemodel.features.parts import Part, Source, assemble

CATEGORIES: dict[str, tuple[str, ...] | None] = {
    "gender": GENDERS,
    "risk_level": RISK_LEVELS,
    "investor_type": INVESTOR_TYPES,
    "channel": None,
    "branch": None,
}
"""Categorical profile features and their fixed categories (None: the values observed)."""


def profile_part(data: DataSet, spine: Spine, config: FeatureConfig) -> Part | None:
    """Age and categorical attributes; None without an accounts table (or those columns)."""
    if not data.has("accounts"):
        return None
    present = [c for c in ("birth_year", *CATEGORIES) if data.has_column("accounts", c)]
    if not present:
        return None
    acc = data.table("accounts")
    source = Source("profile", acc.select("account_id", *present))

    def features(x: ibis.Table) -> dict[str, ibis.Value]:
        out: dict[str, ibis.Value] = {}
        if "birth_year" in present:
            out["age"] = x.as_of.year().cast(dt.float64) - x.birth_year
        return out | {c: x[c] for c in CATEGORIES if c in present}

    return Part("profile", [source], features)


def profile_features(data: DataSet, spine: Spine, config: FeatureConfig) -> ibis.Table | None:
    """Profile features per (account_id, as_of); None without an accounts table."""
    part = profile_part(data, spine, config)
    return None if part is None else assemble(spine, [part])
