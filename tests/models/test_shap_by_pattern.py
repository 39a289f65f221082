"""TreeSHAP by decision pattern equals LightGBM's own ``pred_contrib``, row for row.

The hard cases are where the grouping could merge rows that a split tells apart: values
exactly at a threshold and one step beside it, NaN, zero and tiny values under
``zero_as_missing``, categorical splits (pandas categories and a numeric column declared
categorical), and a booster whose best iteration is not its last.
"""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from valuemodel.models import shap_values
from valuemodel.models.shap_values import _by_pattern

SEGMENTS = ["a", "b", "c", "d", "e", "f"]


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = rng.integers(0, 200, n).astype(float)
    days[rng.random(n) < 0.1] = np.nan
    flow = rng.normal(0, 1, n)
    flow[rng.random(n) < 0.15] = 0.0
    flow[rng.random(n) < 0.05] = 1e-36  # "zero" to LightGBM, not to a comparison
    return pd.DataFrame(
        {
            "days": days,
            "flow": flow,
            "assets": rng.lognormal(10, 1.5, n),
            "stage": rng.integers(0, 7, n).astype(float),  # declared categorical below
            "segment": pd.Categorical(rng.choice(SEGMENTS + [None], n), categories=SEGMENTS),
        }
    )


def _booster(X: pd.DataFrame, seed: int, **params) -> lgb.Booster:
    rng = np.random.default_rng(seed + 1)
    logit = (
        -1.0
        + 0.01 * X["days"].fillna(250)
        - 0.8 * X["flow"]
        + 0.5 * (X["stage"] % 3 == 0)
        + 0.7 * (X["segment"] == "c")
    )
    y = (rng.random(len(X)) < 1 / (1 + np.exp(-logit))).astype(int)
    data = lgb.Dataset(X, y, categorical_feature=["stage", "segment"], free_raw_data=False)
    base = {"objective": "binary", "num_leaves": 12, "min_data_in_leaf": 5, "verbose": -1}
    return lgb.train({**base, **params}, data, num_boost_round=40)


def _at_thresholds(booster: lgb.Booster, X: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``X`` whose numeric values are put exactly at a threshold and one step beside."""
    rows = []
    tree_info = booster.dump_model()["tree_info"]
    thresholds = {f: set() for f in range(X.shape[1])}
    stack = [t["tree_structure"] for t in tree_info]
    while stack:
        node = stack.pop()
        if "split_feature" in node:
            if node["decision_type"] == "<=":
                thresholds[node["split_feature"]].add(float(node["threshold"]))
            stack += [node["left_child"], node["right_child"]]
    for f, values in thresholds.items():
        for i, value in enumerate(sorted(values)):
            for x in (value, np.nextafter(value, -np.inf), np.nextafter(value, np.inf)):
                row = X.iloc[[i % len(X)]].copy()
                row.iloc[0, f] = x
                rows.append(row)
    return pd.concat([X, *rows], ignore_index=True)


def _full(booster: lgb.Booster, X: pd.DataFrame) -> np.ndarray:
    return np.asarray(booster.predict(X, pred_contrib=True), dtype=float)


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("params", [{}, {"zero_as_missing": True}], ids=["nan", "zero"])
def test_by_pattern_equals_pred_contrib_at_and_beside_every_threshold(seed, params):
    X = _frame(3000, seed)
    booster = _booster(X, seed, **params)
    X = _at_thresholds(booster, X)

    got = _by_pattern(booster, X)

    np.testing.assert_allclose(got, _full(booster, X), rtol=0, atol=1e-12)


def test_by_pattern_stops_at_the_best_iteration_like_pred_contrib():
    X = _frame(3000, 3)
    booster = _booster(X, 3)
    booster.best_iteration = 17

    got = _by_pattern(booster, X)

    np.testing.assert_allclose(got, _full(booster, X), rtol=0, atol=1e-12)
    all_trees = booster.predict(X, pred_contrib=True, num_iteration=40)
    assert np.abs(got - all_trees).max() > 1e-3  # the later trees would have changed them


def test_contributions_of_many_rows_go_by_pattern_and_name_the_same_drivers(monkeypatch):
    X = _frame(4000, 4)
    booster = _booster(X, 4)
    direct = shap_values.contributions(booster, X)
    calls = []
    monkeypatch.setattr(shap_values, "BY_PATTERN_MIN_ROWS", 1000)
    monkeypatch.setattr(
        shap_values, "_by_pattern", lambda b, x: calls.append(len(x)) or _by_pattern(b, x)
    )

    grouped = shap_values.contributions(booster, X)

    assert calls == [4000]
    np.testing.assert_allclose(grouped.to_numpy(), direct.to_numpy(), rtol=0, atol=1e-12)
    pd.testing.assert_frame_equal(
        shap_values.top_drivers(grouped), shap_values.top_drivers(direct)
    )


def test_linear_trees_are_left_to_pred_contrib(monkeypatch):
    rng = np.random.default_rng(5)
    X = pd.DataFrame({"a": rng.normal(size=3000), "b": rng.normal(size=3000)})
    y = (X["a"] + 0.5 * X["b"] + rng.normal(size=3000) > 0).astype(int)
    params = {"objective": "binary", "linear_tree": True, "num_leaves": 4, "verbose": -1}
    booster = lgb.train(params, lgb.Dataset(X, y), num_boost_round=5)
    monkeypatch.setattr(shap_values, "BY_PATTERN_MIN_ROWS", 1000)

    assert _by_pattern(booster, X) is None  # a leaf's value depends on the row's values
    with pytest.raises(lgb.basic.LightGBMError, match="not implemented for linear trees"):
        shap_values.contributions(booster, X)  # LightGBM's own answer, not made-up numbers


def test_threads_sharing_the_rows_give_the_same_bits():
    X = _frame(3000, 6)
    booster = _booster(X, 6)
    X = _at_thresholds(booster, X)

    alone, shared = _by_pattern(booster, X, workers=1), _by_pattern(booster, X, workers=3)

    np.testing.assert_array_equal(shared, alone)
    np.testing.assert_allclose(shared, _full(booster, X), rtol=0, atol=1e-12)
