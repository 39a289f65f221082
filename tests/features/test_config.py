"""Feature configuration: the packaged defaults and messages that name the file and key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from valuemodel.errors import InputError
from valuemodel.features import FeatureConfig, load_feature_config
from valuemodel.features.config import (
    config_to_dict,
    default_asset_tiers,
    default_config_dir,
)

REPO = Path(__file__).resolve().parents[2]


def test_the_defaults_are_the_packaged_file_which_the_repository_folder_links_to():
    packaged = default_config_dir()
    assert load_feature_config() == FeatureConfig()
    assert load_feature_config(packaged / "default.yaml") == FeatureConfig()
    assert Path(packaged).parts[-3:] == ("valuemodel", "resources", "features")
    assert (REPO / "features").resolve() == Path(packaged).resolve()


def test_the_features_dir_variable_points_elsewhere(tmp_path, monkeypatch):
    (tmp_path / "default.yaml").write_text(yaml.safe_dump({"min_assets": 5}))
    monkeypatch.setenv("VALUEMODEL_FEATURES_DIR", str(tmp_path))
    assert default_config_dir() == tmp_path
    assert load_feature_config().min_assets == 5.0
    assert load_feature_config().windows == FeatureConfig().windows


def test_the_asset_tiers_of_the_feature_set_are_the_default_capital_tiers(tmp_path, monkeypatch):
    assert (default_asset_tiers().retail_below, default_asset_tiers().large_from) == (5e5, 5e6)
    tiers = {"asset_tiers": {"retail_below": 1e5, "large_from": 1e6}}
    (tmp_path / "default.yaml").write_text(yaml.safe_dump(tiers))
    monkeypatch.setenv("VALUEMODEL_FEATURES_DIR", str(tmp_path))
    assert default_asset_tiers().large_from == 1e6


def test_a_custom_file_is_read(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_text(yaml.safe_dump({"windows": [7, 28], "min_assets": 0, "families": ["flows"]}))
    config = load_feature_config(path)
    assert config.windows == (7, 28) and config.min_assets == 0 and config.families == ("flows",)
    assert load_feature_config(path) == FeatureConfig(
        **{
            **FeatureConfig().__dict__,
            "windows": (7, 28),
            "min_assets": 0.0,
            "families": ("flows",),
        }
    )
    assert config_to_dict(config)["windows"] == [7, 28]
    assert config.retail_below == 500_000 and config.churn_asset_ratio == 0.2


def test_a_partial_section_keeps_the_other_keys_of_the_section(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_text(yaml.safe_dump({"asset_tiers": {"large_from": 9e6}}))
    config = load_feature_config(path)
    assert (config.retail_below, config.large_from) == (500_000, 9e6)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"windowz": [30]}, "windowz: Extra inputs are not permitted"),
        ({"windows": [30, -5]}, r"windows: must be positive whole days, got \[30, -5\]"),
        ({"windows": "30"}, "windows: Input should be a valid tuple"),
        ({"windows": [30, True]}, r"windows\.1: Input should be a valid integer"),
        ({"short_windows": [0, 7]}, "short_windows: must be positive whole days"),
        ({"change_windows": [7, 7]}, "change_windows: has duplicates"),
        ({"min_assets": "lots"}, "min_assets: Input should be a valid number"),
        ({"families": ["recency", "astrology"]}, r"families: unknown name\(s\) \['astrology'\]"),
        ({"asset_tiers": {"retail_below": 9e6}}, "asset_tiers: must satisfy 0 < retail_below"),
        ({"labels": {"churn_asset_ratio": 2}}, r"labels\.churn_asset_ratio: Input should be less"),
        ({"labels": {"horizon": 2}}, r"labels\.horizon: Extra inputs are not permitted"),
    ],
)
def test_bad_values_are_rejected_naming_the_file_and_key(tmp_path, content, message):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(content))
    with pytest.raises(InputError, match=rf"bad\.yaml: {message}"):
        load_feature_config(path)


def test_a_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="feature configuration file not found"):
        load_feature_config(tmp_path / "nope.yaml")
