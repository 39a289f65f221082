"""Feature configuration: the YAML defaults and messages that name the key."""

from __future__ import annotations

import pytest
import yaml

from valuemodel.errors import InputError
from valuemodel.features import FeatureConfig, load_feature_config
from valuemodel.features.config import config_to_dict, default_config_dir


def test_the_default_yaml_equals_the_built_in_defaults():
    assert load_feature_config() == FeatureConfig()
    assert load_feature_config(default_config_dir() / "default.yaml") == FeatureConfig()


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


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"windowz": [30]}, r"unknown key\(s\) \['windowz'\]"),
        ({"windows": [30, -5]}, "'windows' must be positive whole days"),
        ({"windows": "30"}, "'windows' must be a list of whole days"),
        ({"short_windows": [0, 7]}, "'short_windows' must be positive whole days"),
        ({"change_windows": [7, 7]}, "'change_windows' has duplicates"),
        ({"min_assets": "lots"}, "'min_assets' must be a number"),
        ({"families": ["recency", "astrology"]}, r"unknown name\(s\) \['astrology'\]"),
        ({"asset_tiers": {"retail_below": 9e6}}, "'asset_tiers' must satisfy"),
        ({"labels": {"churn_asset_ratio": 2}}, "'labels.churn_asset_ratio' must be between"),
        ({"labels": {"horizon": 2}}, r"unknown key\(s\) \['horizon'\] in 'labels'"),
    ],
)
def test_bad_values_are_rejected_naming_the_key(tmp_path, content, message):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(content))
    with pytest.raises(InputError, match=message):
        load_feature_config(path)


def test_a_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="feature configuration file not found"):
        load_feature_config(tmp_path / "nope.yaml")
