"""Grouped permutation importance: a family the model does not use carries exactly nothing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from valuemodel.training.importance import family_importance, feature_families, without_families


def test_columns_are_grouped_by_their_registry_family():
    columns = ["days_since_last_trade", "trades_7d", "trades_30d", "cash_share_change_7d", "x"]
    assert feature_families(columns) == {
        "recency": ["days_since_last_trade"],
        "frequency": ["trades_7d", "trades_30d"],
        "assets": ["cash_share_change_7d"],
        "other": ["x"],
    }


def test_only_the_family_the_model_reads_loses_roc_auc_when_shuffled():
    rng = np.random.default_rng(0)
    days = rng.uniform(0, 100, 400)
    stage = pd.Categorical(rng.choice(["new", "loyal"], 400), categories=["new", "loyal"])
    X = pd.DataFrame(
        {
            "days_since_last_trade": days,
            "trades_30d": rng.poisson(3, 400) * 1.0,
            "loyalty_stage": stage,
        }
    )

    def predict(f: pd.DataFrame):
        assert isinstance(f.loyalty_stage.dtype, pd.CategoricalDtype)  # as LightGBM needs
        return f["days_since_last_trade"].to_numpy()

    y = (days > 50).astype(float)  # the model below ranks perfectly: ROC-AUC 1
    out = family_importance(predict, X, y, repeats=2)
    assert list(out)[0] == "recency" and set(out) == {"recency", "frequency"}
    assert out["frequency"] == {"roc_auc_drop": 0.0, "std": 0.0, "features": 2.0}
    assert out["recency"]["roc_auc_drop"] == pytest.approx(0.5, abs=0.1)  # to about chance


def test_excluded_families_leave_the_churn_inputs_and_the_ids_stay():
    from datetime import date

    from valuemodel.training.frames import Part

    features = pd.DataFrame(
        {"account_id": ["a"], "as_of": [pd.Timestamp("2025-06-30")], "age": [40.0]}
    ).assign(gender=pd.Categorical(["M"]), trades_30d=[3.0])
    part = Part(features, np.array([0.0]), (date(2025, 6, 30),))
    kept = without_families(part, ("profile",))
    assert list(kept.features.columns) == ["account_id", "as_of", "trades_30d"]
    assert without_families(part, ()) is part
