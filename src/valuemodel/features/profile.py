"""Profile (from ``accounts``): age and the categorical attributes that are present.

``age`` = year of T - birth_year. ``gender``, ``risk_level``, ``investor_type``, ``channel``
and ``branch`` are passed through as categories. A column absent from the accounts file gives
no feature (and without an accounts file the family is absent).
"""

from __future__ import annotations

import ibis.expr.datatypes as dt

from valuemodel.data.reader import DataSet
from valuemodel.data.schema import GENDERS, INVESTOR_TYPES, RISK_LEVELS
from valuemodel.features.asof import Spine
from valuemodel.features.definition import Family, Feature
from valuemodel.features.parts import Source

_ATTRIBUTES = ("birth_year", "gender", "risk_level", "investor_type", "channel", "branch")
"""The accounts columns the profile features read."""


def _profile_source(data: DataSet, spine: Spine) -> Source:
    """The profile attributes per account (typed nulls for columns the file lacks)."""
    return Source("profile", data.table("accounts").select("account_id", *_ATTRIBUTES))


def _attribute(column: str, categories: tuple[str, ...] | None) -> Feature:
    """A categorical attribute passed through (``categories`` None: the values observed)."""
    return Feature(
        column,
        unit="category",
        requires=(f"accounts.{column}",),
        risk_direction="none",
        kind="category",
        categories=categories,
        sources=(_profile_source,),
        expression=lambda x: x[column],
    )


PROFILE = Family(
    "profile",
    (
        Feature(
            "age",
            unit="years",
            requires=("accounts.birth_year",),
            risk_direction="none",
            sources=(_profile_source,),
            expression=lambda x: x.as_of.year().cast(dt.float64) - x.birth_year,
        ),
        _attribute("gender", GENDERS),
        _attribute("risk_level", RISK_LEVELS),
        _attribute("investor_type", INVESTOR_TYPES),
        _attribute("channel", None),
        _attribute("branch", None),
    ),
)
"""The profile features, in output order."""
