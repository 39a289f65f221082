import numpy as np
import pytest

from valuemodel.models import metrics
from valuemodel.models.churn import ChurnClassifier
from valuemodel.models.schema import FeatureSchema


@pytest.fixture(scope="module")
def fitted(synthetic):
    (train, y, _), (valid, y_valid, _) = synthetic
    schema = FeatureSchema.from_frame(train)
    X, X_valid = schema.prepare(train), schema.prepare(valid)
    model = ChurnClassifier(max_rounds=200, num_threads=1).fit(X, y, eval_set=(X_valid, y_valid))
    return model, X, y, X_valid, y_valid


def test_churn_classifier_learns_the_signal_and_gives_calibrated_probabilities(fitted):
    model, _, _, X_valid, y_valid = fitted
    proba = model.predict_proba(X_valid)
    assert proba.shape == (len(X_valid), 2)
    assert metrics.roc_auc(y_valid, proba[:, 1]) > 0.75
    assert abs(proba[:, 1].mean() - y_valid.mean()) < 0.02
    assert model.n_iterations_ >= 1 and model.calibrator_.method == "platt"
    assert set(model.predict(X_valid)) <= {0, 1}


def test_churn_classifier_is_reproducible(fitted):
    model, X, y, X_valid, y_valid = fitted
    again = ChurnClassifier(max_rounds=200, num_threads=1).fit(X, y, eval_set=(X_valid, y_valid))
    assert again.booster_.model_to_string() == model.booster_.model_to_string()
    assert again.calibrator_.to_dict() == model.calibrator_.to_dict()


def test_churn_classifier_needs_out_of_time_data_and_two_classes(fitted):
    _, X, y, X_valid, y_valid = fitted
    with pytest.raises(ValueError, match="eval_set"):
        ChurnClassifier().fit(X, y)
    with pytest.raises(ValueError, match="only one class"):
        ChurnClassifier().fit(X, np.zeros(len(X)), eval_set=(X_valid, y_valid))


def test_lightgbm_params_are_reproducible():
    params = ChurnClassifier(seed=3, num_threads=2).lightgbm_params()
    assert params["deterministic"] and params["force_row_wise"]
    assert params["seed"] == 3 and params["num_threads"] == 2
