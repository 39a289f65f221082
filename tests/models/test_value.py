import numpy as np
import pytest

from valuemodel.models import metrics
from valuemodel.models.schema import FeatureSchema
from valuemodel.models.value import ValueRegressor


@pytest.fixture(scope="module")
def prepared(synthetic):
    (train, _, y), (valid, _, y_valid) = synthetic
    schema = FeatureSchema.from_frame(train)
    return schema.prepare(train), y, schema.prepare(valid), y_valid


@pytest.mark.parametrize("structure", ["tweedie", "two_part"])
def test_value_regressor_ranks_revenue(prepared, structure):
    X, y, X_valid, y_valid = prepared
    model = ValueRegressor(structure, max_rounds=200, num_threads=1).fit(
        X, y, eval_set=(X_valid, y_valid)
    )
    pred = model.predict(X_valid)
    assert (pred >= 0).all()
    assert metrics.normalized_gini(y_valid, pred) > 0.4
    assert abs(metrics.aggregate_error(y_valid, pred)) < 0.3
    expected = {"tweedie": ["main"], "two_part": ["amount", "occurrence"]}[structure]
    assert sorted(model.boosters_) == expected
    assert model.to_dict()["structure"] == structure


def test_two_part_smearing_factor_is_above_one(prepared):
    X, y, X_valid, y_valid = prepared
    model = ValueRegressor("two_part", max_rounds=50, num_threads=1).fit(
        X, y, eval_set=(X_valid, y_valid)
    )
    assert model.smearing_ > 1.0


def test_value_regressor_rejects_negative_or_all_zero_revenue(prepared):
    X, y, X_valid, y_valid = prepared
    with pytest.raises(ValueError, match=">= 0"):
        ValueRegressor().fit(X, -y, eval_set=(X_valid, y_valid))
    with pytest.raises(ValueError, match="all zero"):
        ValueRegressor().fit(X, np.zeros(len(y)), eval_set=(X_valid, y_valid))
    with pytest.raises(ValueError, match="structure must be one of"):
        ValueRegressor("hurdle").fit(X, y, eval_set=(X_valid, y_valid))


def test_two_part_boosters_trained_side_by_side_are_those_trained_one_after_the_other(prepared):
    X, y, X_valid, y_valid = prepared
    texts = []
    for n_jobs in (1, 2):
        model = ValueRegressor("two_part", max_rounds=60, num_threads=1, n_jobs=n_jobs)
        model.fit(X, y, eval_set=(X_valid, y_valid))
        texts.append({k: b.model_to_string() for k, b in model.boosters_.items()})
    assert texts[0] == texts[1]
    assert texts[0]["occurrence"] != texts[0]["amount"]  # each part in its own place
