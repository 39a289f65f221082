from pathlib import Path

import pytest
import yaml

from valuemodel.config import packaged as packaged_file
from valuemodel.errors import InputError
from valuemodel.training.config import TrainingConfig, load_config, parse_config

REPO = Path(__file__).resolve().parents[2]


def test_the_defaults_are_the_packaged_file_which_the_repository_links_to():
    packaged = Path(str(packaged_file("training/default.yaml")))
    assert (REPO / "training" / "default.yaml").resolve() == packaged.resolve()
    assert load_config(packaged) == TrainingConfig() == load_config(None)
    assert TrainingConfig().tuning.trials == 10


def test_a_section_given_in_part_keeps_its_other_defaults():
    cfg = parse_config({"tuning": {"trials": 3}, "lightgbm": {"fixed_params": {"max_depth": 4}}})
    assert (cfg.tuning.trials, cfg.tuning.seed) == (3, TrainingConfig().tuning.seed)
    assert cfg.lightgbm.max_rounds == TrainingConfig().lightgbm.max_rounds


def test_the_clv_rule_tiers_default_to_the_feature_sets_asset_tiers(tmp_path, monkeypatch):
    assert (TrainingConfig().clv_rule.medium_assets, TrainingConfig().clv_rule.large_assets) == (
        5e5,
        5e6,
    )
    tiers = {"asset_tiers": {"retail_below": 1e5, "large_from": 1e6}}
    (tmp_path / "default.yaml").write_text(yaml.safe_dump(tiers), encoding="utf-8")
    monkeypatch.setenv("VALUEMODEL_FEATURES_DIR", str(tmp_path))
    assert parse_config({}).clv_rule.large_assets == 1e6
    assert parse_config({"clv_rule": {"large_assets": 2e6}}).clv_rule.medium_assets == 1e5


def test_bad_values_are_rejected_naming_the_key():
    with pytest.raises(InputError, match=r"tuning\.trials: .*greater than or equal to 0"):
        parse_config({"tuning": {"trials": -1}})
    with pytest.raises(InputError, match=r"snapshots\.frequency: .*'daily'"):
        parse_config({"snapshots": {"frequency": "daily"}})


def test_unknown_keys_are_rejected():
    with pytest.raises(InputError, match=r"churn_horizn: Extra inputs are not permitted"):
        parse_config({"churn_horizn": 30})


def test_unreadable_or_non_mapping_files_are_rejected(tmp_path):
    with pytest.raises(InputError, match=r"nope\.yaml: training config not found"):
        load_config(tmp_path / "nope.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(InputError, match="expected a mapping"):
        load_config(tmp_path / "list.yaml")


def test_overrides_are_validated_and_skip_none():
    cfg = TrainingConfig().with_overrides(churn_horizon=30, trials=3, value_horizon=None)
    assert (cfg.churn_horizon, cfg.tuning.trials, cfg.value_horizon) == (30, 3, 365)
    with pytest.raises(InputError, match="churn_definition"):
        TrainingConfig().with_overrides(churn_definition="maybe")
