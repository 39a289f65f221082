import json

import numpy as np
import pytest

from valuemodel.errors import ModelError
from valuemodel.models.bundle import load_bundle, save_bundle
from valuemodel.models.churn import ChurnClassifier
from valuemodel.models.schema import FeatureSchema
from valuemodel.models.value import ValueRegressor


@pytest.fixture(scope="module")
def churn_dir(synthetic, tmp_path_factory):
    (train, y, _), (valid, y_valid, _) = synthetic
    schema = FeatureSchema.from_frame(train)
    model = ChurnClassifier(max_rounds=50, num_threads=1).fit(
        schema.prepare(train), y, eval_set=(schema.prepare(valid), y_valid)
    )
    path = save_bundle(
        tmp_path_factory.mktemp("churn") / "model",
        kind="churn",
        schema=schema,
        boosters={"main": model.booster_},
        metadata={"horizon_days": 90},
        config={"trials": 0},
        calibration=model.calibrator_.to_dict(),
    )
    return path, model, schema, valid


def test_bundle_has_plain_files_and_checksums(churn_dir):
    path = churn_dir[0]
    names = sorted(p.name for p in path.iterdir())
    assert names == [
        "booster.txt",
        "calibration.json",
        "checksums.json",
        "config.yaml",
        "metadata.json",
        "schema.json",
    ]
    sums = json.loads((path / "checksums.json").read_text())
    assert sorted(sums) == [n for n in names if n != "checksums.json"]


def test_loaded_churn_model_predicts_like_the_estimator(churn_dir):
    path, model, schema, valid = churn_dir
    loaded = load_bundle(path, version="3", run_id="abc")
    assert (loaded.kind, loaded.version, loaded.run_id, loaded.horizon_days) == (
        "churn",
        "3",
        "abc",
        90,
    )
    assert loaded.feature_names == schema.feature_names
    np.testing.assert_allclose(
        loaded.predict(valid), model.predict_proba(schema.prepare(valid))[:, 1]
    )
    assert loaded.booster.num_trees() == model.booster_.num_trees()
    assert set(loaded.feature_profile) == set(schema.feature_names)


def test_tampered_file_fails_its_checksum(churn_dir, tmp_path):
    src = churn_dir[0]
    for p in src.iterdir():
        (tmp_path / p.name).write_bytes(p.read_bytes())
    (tmp_path / "calibration.json").write_text('{"method": "platt", "a": 9, "b": 9}')
    with pytest.raises(ModelError, match=r"calibration.json \(SHA-256 differs\)"):
        load_bundle(tmp_path)
    (tmp_path / "checksums.json").unlink()
    with pytest.raises(ModelError, match="checksums.json is missing"):
        load_bundle(tmp_path)


def test_loaded_model_names_missing_features(churn_dir):
    path, _, _, valid = churn_dir
    with pytest.raises(ModelError, match="missing feature column.*trades_90d"):
        load_bundle(path).predict(valid.drop(columns=["trades_90d"]))


def test_two_part_value_bundle_round_trip(synthetic, tmp_path):
    (train, _, y), (valid, _, y_valid) = synthetic
    schema = FeatureSchema.from_frame(train)
    model = ValueRegressor("two_part", max_rounds=50, num_threads=1).fit(
        schema.prepare(train), y, eval_set=(schema.prepare(valid), y_valid)
    )
    save_bundle(
        tmp_path,
        kind="clv",
        schema=schema,
        boosters=model.boosters_,
        metadata={"horizon_days": 365, "structure": "two_part"},
        config={},
        value=model.to_dict(),
    )
    loaded = load_bundle(tmp_path)
    np.testing.assert_allclose(loaded.predict(valid), model.predict(schema.prepare(valid)))
    assert loaded.booster is loaded.boosters["amount"]
    assert loaded.structure == "two_part"
