import math

import numpy as np
import pandas as pd
import pytest

from valuemodel.serving.drift import drift_report, drift_warnings, feature_psi, psi

from .fakes import make_features


def test_psi_by_hand():
    expected = [0.5, 0.5]
    actual = [0.25, 0.75]
    by_hand = (0.25 - 0.5) * math.log(0.25 / 0.5) + (0.75 - 0.5) * math.log(0.75 / 0.5)
    assert psi(expected, actual) == pytest.approx(by_hand)
    assert psi(expected, expected) == 0.0


def test_numeric_psi_uses_the_training_bins_and_a_missing_bin():
    # bins: x <= 1, 1 < x <= 2, x > 2; then missing
    profile = {
        "kind": "numeric",
        "edges": [1.0, 2.0],
        "shares": [0.25, 0.25, 0.5],
        "missing_share": 0.0,
    }
    same = pd.Series([0.5, 1.5, 3.0, 4.0])
    assert feature_psi(same, profile) == pytest.approx(0.0)
    shifted = pd.Series([np.nan, np.nan, 3.0, 4.0])
    e = np.array([0.25, 0.25, 0.5, 1e-4])
    a = np.array([1e-4, 1e-4, 0.5, 0.5])
    assert feature_psi(shifted, profile) == pytest.approx(float(np.sum((a - e) * np.log(a / e))))


def test_categorical_psi_counts_unseen_categories_apart():
    profile = {
        "kind": "categorical",
        "categories": ["C1", "C2"],
        "shares": [0.5, 0.5],
        "missing_share": 0.0,
    }
    assert feature_psi(pd.Series(["C1", "C2"]), profile) == pytest.approx(0.0)
    assert feature_psi(pd.Series(["C1", "C9"]), profile) > 0.25


def test_a_categorical_column_is_counted_as_its_text_would_be():
    profile = {
        "kind": "categorical",
        "categories": ["C1", "C2", "C3"],
        "shares": [0.2, 0.5, 0.3],
        "missing_share": 0.1,
    }
    # categories in another order, one unseen (C9), one never used (C3), missing values
    values = pd.Series(
        pd.Categorical(
            ["C2", "C9", None, "C1", "C2", "C9", None, "C2"], categories=["C9", "C3", "C2", "C1"]
        )
    )
    expected = psi([0.2, 0.5, 0.3, 0.1, 0.0], [1 / 8, 3 / 8, 0.0, 2 / 8, 2 / 8])
    assert feature_psi(values, profile) == pytest.approx(expected, rel=1e-12)
    assert feature_psi(values, profile) == feature_psi(values.astype(object), profile)


def test_drift_report_covers_every_model_feature_and_warns_on_important_shifts(models):
    same = make_features(2000, seed=0)
    report = drift_report(same, models.as_dict())
    assert len(report) == 2 * len(models.churn.feature_names)
    assert (report["psi"] < 0.1).all()
    assert drift_warnings(report) == []
    moved = same.assign(days_since_last_trade=same["days_since_last_trade"] + 300)
    warnings = drift_warnings(drift_report(moved, models.as_dict()))
    assert any("days_since_last_trade" in w for w in warnings)
