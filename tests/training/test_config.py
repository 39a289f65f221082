from pathlib import Path

import pytest

from valuemodel.errors import InputError
from valuemodel.training.config import TrainingConfig, load_config, parse_config

DEFAULT_YAML = Path(__file__).resolve().parents[2] / "training" / "default.yaml"


def test_default_yaml_is_the_default_config():
    assert load_config(DEFAULT_YAML) == TrainingConfig()
    assert load_config(None) == TrainingConfig()


def test_bad_values_are_rejected_naming_the_key():
    with pytest.raises(InputError, match=r"tuning\.trials: .*greater than or equal to 0"):
        parse_config({"tuning": {"trials": -1}})
    with pytest.raises(InputError, match=r"snapshots\.frequency: .*'daily'"):
        parse_config({"snapshots": {"frequency": "daily"}})


def test_unknown_keys_are_rejected():
    with pytest.raises(InputError, match=r"churn_horizn: Extra inputs are not permitted"):
        parse_config({"churn_horizn": 30})


def test_unreadable_or_non_mapping_files_are_rejected(tmp_path):
    with pytest.raises(InputError, match="cannot read the training config"):
        load_config(tmp_path / "nope.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(InputError, match="expected a mapping"):
        load_config(tmp_path / "list.yaml")


def test_overrides_are_validated_and_skip_none():
    cfg = TrainingConfig().with_overrides(churn_horizon=30, trials=3, value_horizon=None)
    assert (cfg.churn_horizon, cfg.tuning.trials, cfg.value_horizon) == (30, 3, 365)
    with pytest.raises(InputError, match="churn_definition"):
        TrainingConfig().with_overrides(churn_definition="maybe")
