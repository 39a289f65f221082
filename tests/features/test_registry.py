"""The feature registry: every declared feature has words and no words lack a declaration,
reasons format, docs are current."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest
import yaml

from valuemodel.errors import InputError
from valuemodel.features import load_registry, render_feature_docs

REPOSITORY = Path(__file__).resolve().parents[2]
DOCS = REPOSITORY / "docs" / "features.md"

WORDS = {
    "description": "x",
    "description_zh": "x",
    "reason_en": "x {value}",
    "reason_zh": "x {value}",
}


def _committed_words() -> dict:
    path = REPOSITORY / "features" / "registry.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))["features"]


def _write(tmp_path, words: dict) -> Path:
    path = tmp_path / "registry.yaml"
    path.write_text(yaml.safe_dump({"features": words}, allow_unicode=True), encoding="utf-8")
    return path


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


# Words that judge a value ("only 12 trades", "fell to 150%", "a new customer: opened 9861
# days ago"). A reason is shown wherever the feature pushed an account's risk up, and a
# model that is not monotone does that at either end of a feature's range.
JUDGING = {
    "en": re.compile(r"\b(only|fell|new customer|low|less|mostly|selling down)\b"),
    "zh": re.compile("仅|降至|偏低|低于|新客户|以卖出为主|落后"),
}


def test_reasons_state_the_value_without_judging_it():
    registry = load_registry()
    judged = {
        (name, lang, found.group())
        for name in registry.names()
        for lang, template in (("en", registry[name].reason_en), ("zh", registry[name].reason_zh))
        for found in JUDGING[lang].finditer(template.lower())
    }
    assert judged == set()
    tenure = registry["tenure_days"].reason({"tenure_days": 9861.0})
    assert tenure == "account opened 9861 days ago"
    score = registry["rfm_frequency_score"].reason({"rfm_frequency_score": 5.0}, "zh")
    assert score == "F得分5/5（5为交易最频繁）"


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


def test_a_declared_feature_without_words_fails_the_load(tmp_path):
    words = _committed_words()
    del words["tenure_days"], words["trades_{w}d"]
    with pytest.raises(InputError, match=r"no words for declared feature\(s\) \['tenure_days', "):
        load_registry(_write(tmp_path, words))


def test_words_for_a_feature_nobody_declares_fail_the_load(tmp_path):
    words = _committed_words() | {"trades_per_fortnight": WORDS}
    with pytest.raises(InputError, match=r"nobody declares \['trades_per_fortnight'\]"):
        load_registry(_write(tmp_path, words))


def test_an_entry_keeps_the_words_only_naming_the_feature(tmp_path):
    words = _committed_words()
    words["tenure_days"] = {**WORDS, "family": "recency"}
    with pytest.raises(InputError, match=r"'tenure_days': unknown key\(s\) \['family'\]"):
        load_registry(_write(tmp_path, words))
    words["tenure_days"] = {**WORDS, "reason_zh": " "}
    with pytest.raises(InputError, match=r"'tenure_days': missing or empty key\(s\)"):
        load_registry(_write(tmp_path, words))


def test_a_reason_naming_an_unknown_feature_is_rejected(tmp_path):
    words = _committed_words()
    words["tenure_days"] = {**WORDS, "reason_en": "opened {value} days ago, {tenure_weeks}"}
    with pytest.raises(InputError, match=r"reason names unknown feature\(s\) \['tenure_weeks'\]"):
        load_registry(_write(tmp_path, words))


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


def test_metadata_comes_from_the_declarations():
    registry = load_registry()
    assert registry["outflow_share_90d"].requires == ("cashflows", "balances")
    assert registry["drawdown_30d"].risk_direction == "higher"
    assert registry["loyalty_stage"].categories == (
        "new",
        "potential",
        "regular",
        "mature",
        "loyal",
    )
    assert registry["age"].requires == ("accounts.birth_year",)
