"""The reference churn model: default LightGBM on its fixed plain features."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from valuemodel.models.reference import (
    REFERENCE_FEATURES,
    ROUNDS,
    fit_reference,
    predict_reference,
    reference_columns,
)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    n = 600
    return pd.DataFrame(
        {
            "account_id": [f"a{i}" for i in range(n)],
            "days_since_last_trade": rng.uniform(0, 200, n),
            "trades_30d": rng.poisson(2, n).astype(float),
            "gender": pd.Categorical(rng.choice(["M", "F"], n), categories=["M", "F"]),
            "not_a_reference_feature": rng.normal(size=n),
        }
    )


def test_only_the_listed_features_present_are_used_in_list_order(frame):
    assert reference_columns(frame) == ["trades_30d", "days_since_last_trade", "gender"]
    assert len(REFERENCE_FEATURES) == len(set(REFERENCE_FEATURES))


def test_default_lightgbm_learns_the_signal_and_predicts_probabilities(frame):
    y = (frame.days_since_last_trade > 120).to_numpy(dtype=float)
    booster = fit_reference(frame, y)
    assert booster.current_iteration() == ROUNDS
    p = predict_reference(booster, frame.sample(frac=1.0, random_state=0, axis=1))
    assert ((p > 0) & (p < 1)).all()
    assert p[y == 1].min() > p[y == 0].max()  # a clean threshold is found


def test_data_without_any_reference_feature_is_rejected(frame):
    with pytest.raises(ValueError, match="needs at least one of its plain features"):
        fit_reference(frame[["account_id", "not_a_reference_feature"]], np.zeros(len(frame)))


def test_a_last_bit_of_engine_noise_in_a_sum_does_not_change_the_reference_model(frame):
    # an engine may sum the same rows to 1 ulp apart in two builds: the trees must not see it
    y = (frame.days_since_last_trade > 120).to_numpy(dtype=float)
    noisy = frame.assign(
        days_since_last_trade=np.nextafter(frame.days_since_last_trade.to_numpy(), np.inf)
    )
    a, b = fit_reference(frame, y), fit_reference(noisy, y)
    assert a.model_to_string() == b.model_to_string()
