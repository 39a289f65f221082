"""The catalog of declared families: checked at import, the source of the categorical
columns."""

from __future__ import annotations

from dataclasses import replace

import pytest

from valuemodel.features.catalog import DECLARED, categorical_columns, check_declarations
from valuemodel.features.definition import Feature


def _with_extra(family: str, feature: Feature) -> dict:
    declared = dict(DECLARED)
    declared[family] = replace(declared[family], entries=(*declared[family].entries, feature))
    return declared


def test_the_declared_families_pass_their_own_checks():
    check_declarations(DECLARED)


def test_two_features_producing_one_column_are_rejected():
    clash = Feature(
        "trades_30d",
        unit="trades",
        requires=("trades",),
        risk_direction="lower",
        expression=lambda x: x.trades_30,
    )
    with pytest.raises(ValueError, match="'trades_30d' and 'trades_{w}d' both produce"):
        check_declarations(_with_extra("recency", clash))


def test_the_families_are_the_configured_ones_in_order():
    swapped = {"frequency": DECLARED["frequency"], "recency": DECLARED["recency"]}
    with pytest.raises(ValueError, match="declared families"):
        check_declarations(swapped | DECLARED)


def test_categorical_columns_and_their_categories_come_from_the_declarations():
    categories = categorical_columns()
    assert list(categories) == [
        "loyalty_stage",
        "gender",
        "risk_level",
        "investor_type",
        "channel",
        "branch",
    ]
    assert categories["gender"] == ("M", "F") and categories["branch"] is None
