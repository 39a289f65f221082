from pathlib import Path

import pytest
import yaml

from valuemodel.errors import InputError
from valuemodel.serving.config import (
    TierConfig,
    default_tiers_path,
    load_scoring_config,
    load_tiers,
)

REPO = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, data: object, name: str = "tiers.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_the_default_tiers_file_is_packaged_and_linked_from_the_repository():
    packaged = Path(str(default_tiers_path()))
    assert packaged.parts[-4:] == ("valuemodel", "resources", "serving", "tiers.yaml")
    assert (REPO / "serving" / "tiers.yaml").resolve() == packaged.resolve()
    assert load_tiers() == TierConfig()


def test_the_serving_dir_variable_points_to_another_default_file(tmp_path, monkeypatch):
    _write(tmp_path, {"priority": {"missing_weight": 0.5}})
    monkeypatch.setenv("VALUEMODEL_SERVING_DIR", str(tmp_path))
    assert default_tiers_path() == tmp_path / "tiers.yaml"
    assert load_tiers().priority.missing_weight == 0.5
    assert load_tiers().priority.effort == TierConfig().priority.effort


def test_the_capital_tiers_default_to_the_feature_sets_asset_tiers(tmp_path, monkeypatch):
    assert (TierConfig().asset_tier.large, TierConfig().asset_tier.medium) == (5e6, 5e5)
    tiers = {"asset_tiers": {"retail_below": 1e5, "large_from": 1e6}}
    (tmp_path / "default.yaml").write_text(yaml.safe_dump(tiers), encoding="utf-8")
    monkeypatch.setenv("VALUEMODEL_FEATURES_DIR", str(tmp_path))
    assert (TierConfig().asset_tier.large, TierConfig().asset_tier.medium) == (1e6, 1e5)
    own = load_tiers(_write(tmp_path, {"asset_tier": {"large": 2e6}}))
    assert (own.asset_tier.large, own.asset_tier.medium) == (2e6, 1e5)


def test_an_empty_file_gives_the_defaults(tmp_path):
    path = tmp_path / "tiers.yaml"
    path.write_text("")
    assert load_tiers(path) == TierConfig()


def test_a_partial_file_overrides_only_its_keys(tmp_path):
    config = load_tiers(_write(tmp_path, {"asset_tier": {"large": 10_000_000}}))
    assert config.asset_tier.large == 10_000_000
    assert config.asset_tier.medium == 500_000
    assert config.service_segment == TierConfig().service_segment


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"asset_tier": {"large": "lots"}}, r"asset_tier\.large: Input should be a valid number"),
        ({"asset_tier": {"large": 1, "medium": 2}}, r"asset_tier: 'medium' must not exceed"),
        ({"asset_tier": {"huge": 1}}, r"asset_tier\.huge: Extra inputs are not permitted"),
        (
            {"value_quadrant": {"turnover": {"percentile": 1.5}}},
            r"value_quadrant\.turnover\.percentile: Input should be less than or equal to 1",
        ),
        (
            {"growth_quadrant": {"growth": {"percentile": 0.5, "value": 0}}},
            r"growth_quadrant\.growth: give exactly one of 'percentile' or 'value'",
        ),
        (
            {"risk_class": {"conservative": ["C1"], "steady": ["C3"], "aggressive": ["C4", "C5"]}},
            r"risk_class: each of C1, C2, C3, C4, C5 must appear exactly once",
        ),
        (
            {
                "value_grade": {
                    "levels": [{"name": "a", "min_assets": 1}, {"name": "b", "min_assets": 0}]
                }
            },
            r"value_grade\.levels: .*the last level \('b'\) must have no thresholds",
        ),
        (
            {
                "service_segment": {
                    "rules": {"core": {"tenure_days": {"mni": 3}}},
                    "default": "rest",
                }
            },
            r"service_segment\.rules\.core\.0\.tenure_days\.mni: Extra inputs",
        ),
        (
            {"priority": {"effort": [{"segments": ["core"], "share": 0.5}]}},
            r"priority\.effort: effort shares must sum to 1, got 0.5",
        ),
        (
            {"priority": {"weights": {"asset_tier": {"huge": 2.0}}}},
            r"priority\.weights\.asset_tier\.huge: unknown asset_tier value",
        ),
        (
            {"priority": {"weights": {"colour": {"red": 2.0}}}},
            r"priority\.weights\.colour: unknown tier",
        ),
        (
            {
                "priority": {
                    "effort": [
                        {"segments": ["core", "dormant", "maintaining", "vip"], "share": 1.0}
                    ]
                }
            },
            r"priority\.effort\[0\]\.segments: 'vip' is not a service segment",
        ),
        (
            {"priority": {"capacity": {"per_manager": 0}}},
            r"priority\.capacity\.per_manager: Input should be greater than or equal to 1",
        ),
        (
            {
                "actions": {
                    "catalogue": {"x": {"en": "x", "zh": "x", "product_risk": "R2"}},
                    "rules": [],
                    "default": "x",
                }
            },
            r"actions\.catalogue\.x: a product offer .* needs a non-product 'fallback'",
        ),
        (
            {
                "actions": {
                    "catalogue": {"x": {"en": "x", "zh": "x"}},
                    "rules": [{"action": "y"}],
                    "default": "x",
                }
            },
            r"actions: rules\[0\]\.action 'y' is not in the catalogue",
        ),
        (
            {
                "actions": {
                    "catalogue": {
                        "x": {"en": "x", "zh": "x", "product_risk": "R9", "fallback": "x"}
                    },
                    "rules": [],
                    "default": "x",
                }
            },
            r"actions\.catalogue\.x\.product_risk: Input should be 'R1'",
        ),
    ],
)
def test_a_bad_tiers_file_is_rejected_naming_the_key(tmp_path, data, message):
    with pytest.raises(InputError, match=message):
        load_tiers(_write(tmp_path, data))


def test_an_unreadable_tiers_file_is_rejected_naming_the_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("asset_tier: [1, 2\n")
    with pytest.raises(InputError, match=r"bad\.yaml: not valid YAML"):
        load_tiers(bad)
    with pytest.raises(InputError, match=r"missing\.yaml: tiers file not found"):
        load_tiers(tmp_path / "missing.yaml")
    bad.write_text("- 1\n- 2\n")
    with pytest.raises(InputError, match="expected a mapping"):
        load_tiers(bad)


def test_the_scoring_config_resolves_paths_against_its_folder(tmp_path):
    path = _write(
        tmp_path,
        {"data": "../data", "as_of": "2024-06-28", "out": "out/list.xlsx", "tiers": "t.yaml"},
        name="scoring.yaml",
    )
    config = load_scoring_config(path)
    assert config.data == tmp_path / "../data"
    assert config.out == tmp_path / "out/list.xlsx"
    assert config.tiers == tmp_path / "t.yaml"
    assert config.model_alias == "champion" and config.lang == "en"


def test_the_shipped_scoring_config_is_valid():
    config = load_scoring_config(REPO / "serving" / "scoring.yaml")
    assert config.out.suffix in (".csv", ".parquet", ".xlsx")


def test_a_bad_scoring_config_names_the_key(tmp_path):
    path = _write(
        tmp_path,
        {"data": "d", "as_of": "2024-06-28", "out": "o.csv", "top": 0},
        name="scoring.yaml",
    )
    with pytest.raises(InputError, match=r"top: Input should be greater than or equal to 1"):
        load_scoring_config(path)
    path = _write(tmp_path, {"data": "d", "out": "o.csv"}, name="scoring.yaml")
    with pytest.raises(InputError, match=r"as_of: Field required"):
        load_scoring_config(path)


def test_the_scoring_config_carries_the_control_draw_and_the_comparison(tmp_path):
    base = {"data": "d", "as_of": "2024-06-28", "out": "o.csv"}
    path = _write(
        tmp_path, base | {"control_share": 0.1, "compare": "challenger"}, name="scoring.yaml"
    )
    config = load_scoring_config(path)
    assert (config.control_share, config.control_seed, config.compare) == (
        0.1,
        20240101,
        "challenger",
    )
    bad = _write(tmp_path, base | {"control_share": 1.0}, name="bad.yaml")
    with pytest.raises(InputError, match="control_share"):
        load_scoring_config(bad)
