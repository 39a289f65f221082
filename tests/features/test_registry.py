"""The feature registry: every output column is described, reasons format, docs are current."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
import yaml

from valuemodel.errors import InputError
from valuemodel.features import load_registry, render_feature_docs

DOCS = Path(__file__).resolve().parents[2] / "docs" / "features.md"


def test_windowed_entries_expand_per_window():
    registry = load_registry()
    spec = registry["trades_90d"]
    assert (spec.family, spec.window, spec.template) == ("frequency", 90, "trades_{w}d")
    assert spec.description == "Number of trades in the last 90 days."
    assert "trades_7d" in registry and "trades_d" not in registry
    names = registry.names([30, 90])
    assert "outflow_share_30d" in names and "outflow_share_180d" not in names


def test_reasons_fill_the_value_and_related_features():
    registry = load_registry()
    values = {"outflow_share_30d": 0.35}
    assert registry["outflow_share_30d"].reason(values) == "moved 35% of assets out in 30 days"
    assert registry["outflow_share_30d"].reason(values, "zh") == "近30天转出资产的35%"
    trend = registry["trading_days_trend"].reason(
        {"trading_days_trend": 0.5, "active_trading_days_30d": 3.0}
    )
    assert trend.endswith("(3 days in the last 30)")


def test_every_output_column_of_a_full_build_is_registered(full_features):
    registry = load_registry()
    features = [c for c in full_features.columns if c not in ("account_id", "as_of")]
    missing = [c for c in features if c not in registry]
    assert missing == []
    assert set(features) == set(registry.names())  # and every registered feature is built
    for spec in registry.specs():
        assert spec.placeholders() <= {"value", *registry.names()}, spec.name
        kind = "category" if str(full_features[spec.name].dtype) == "category" else "numeric"
        assert spec.kind == kind, spec.name


def test_the_committed_docs_equal_the_rendering():
    assert DOCS.read_text(encoding="utf-8") == render_feature_docs(load_registry())


def test_a_bad_entry_is_rejected_naming_the_feature(tmp_path):
    entry = {
        k: "x"
        for k in (
            "name",
            "family",
            "unit",
            "description",
            "description_zh",
            "reason_en",
            "reason_zh",
            "risk_direction",
        )
    }
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump({"features": [{**entry, "family": "frequency"}]}))
    with pytest.raises(InputError, match="feature 'x': 'risk_direction' must be one of"):
        load_registry(path)
    path.write_text(yaml.safe_dump({"features": [{**entry, "family": "nope"}]}))
    with pytest.raises(InputError, match="feature 'x': 'family' must be one of"):
        load_registry(path)


def test_registry_is_packaged_for_installs_outside_the_repository():
    """The registry is package data (valuemodel/resources/features, read with
    importlib.resources); the repository's top-level features/ folder is a symlink to it."""
    packaged = resources.files("valuemodel").joinpath("resources", "features", "registry.yaml")
    repository = Path(__file__).resolve().parents[2] / "features" / "registry.yaml"
    assert repository.resolve() == Path(str(packaged)).resolve()
    assert len(load_registry().entries) == len(load_registry(str(packaged)).entries)


def test_templates_expand_over_their_window_sets():
    registry = load_registry()
    names = registry.names()
    assert {"trades_7d", "trades_14d", "trades_365d", "inflow_14d"} <= set(names)
    assert {"asset_change_7d", "asset_growth_7d", "asset_growth_365d"} <= set(names)
    assert not {"traded_value_7d", "asset_change_180d", "outflow_share_7d"} & set(names)
    assert registry.names([30], [5], [60]).count("buy_sell_balance_60d") == 1
    assert registry["cash_share_change_30d"].window_sets == ("change_windows",)


def test_an_unknown_window_set_is_rejected(tmp_path):
    entry = {k: "x" for k in ("name", "family", "unit", "description", "description_zh")}
    entry |= {"reason_en": "x", "reason_zh": "x", "risk_direction": "none", "family": "flows"}
    path = tmp_path / "registry.yaml"
    path.write_text(yaml.safe_dump({"features": [{**entry, "windows": ["weekly"]}]}))
    with pytest.raises(InputError, match="'windows' must be a list of"):
        load_registry(path)
