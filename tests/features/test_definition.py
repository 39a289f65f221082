"""Feature declarations: checked when declared, built only when their requirements are met,
templates side by side per window where declared so."""

from __future__ import annotations

import shutil

import pytest

from valuemodel.data.reader import open_data
from valuemodel.features import build_features, load_registry
from valuemodel.features.definition import Feature, PerWindow

DECLARATION = {
    "name": "x_{w}d",
    "unit": "days",
    "requires": ("trades",),
    "risk_direction": "none",
    "expression": lambda x, w: x[f"trades_{w}"],
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"risk_direction": "up"}, "'risk_direction' must be one of"),
        ({"requires": ()}, "'requires' must name at least one table"),
        ({"requires": ("trade",)}, "requires 'trade', not a contract table"),
        ({"requires": ("accounts.age",)}, "requires 'accounts.age', not a contract table"),
        ({"window_sets": ("weekly",)}, "'window_sets' must name some of"),
        ({"expression": None}, "declare exactly one of 'expression' and 'rank'"),
        ({"kind": "category"}, "a categorical feature cannot be windowed"),
        ({"categories": ("a",)}, "only a categorical feature has 'categories'"),
    ],
)
def test_a_bad_declaration_is_rejected_naming_the_feature(change, message):
    with pytest.raises(ValueError, match=f"feature 'x_{{w}}d': {message}"):
        Feature(**(DECLARATION | change))


def test_per_window_takes_templates_of_the_same_window_sets():
    short = Feature(**(DECLARATION | {"window_sets": ("short_windows",)}))
    with pytest.raises(ValueError, match="differ in window sets"):
        PerWindow((Feature(**DECLARATION), short))
    with pytest.raises(ValueError, match="takes windowed templates"):
        PerWindow((Feature(**(DECLARATION | {"name": "x"})),))


def test_per_window_templates_come_out_window_by_window(full_features):
    columns = list(full_features.columns)
    start = columns.index("trades_7d")
    assert columns[start : start + 4] == [
        "trades_7d",
        "active_trading_days_7d",
        "trades_14d",
        "active_trading_days_14d",
    ]


@pytest.mark.parametrize(
    "absent", [("logins", "positions"), ("balances",), ("cashflows", "accounts")]
)
def test_a_feature_is_built_exactly_when_its_requirements_are_present(
    absent, generated_dir, tmp_path
):
    for path in generated_dir.glob("*.parquet"):
        if path.stem not in absent:
            shutil.copy(path, tmp_path / path.name)
    data = open_data(tmp_path)
    built = set(build_features(data, "2025-06-30").columns[2:])
    expected = {
        spec.name
        for spec in load_registry().specs()
        if all(r.partition(".")[0] not in absent for r in spec.requires)
    }
    assert built == expected
