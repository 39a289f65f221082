"""Predicting a block of trees at a time gives LightGBM's predictions."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from valuemodel.models import trees

SEGMENTS = ["a", "b", "c"]


def _frame(n: int = 1500, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    x[rng.random(n) < 0.1] = np.nan
    segment = pd.Categorical(rng.choice(SEGMENTS + [None], n), categories=SEGMENTS)
    X = pd.DataFrame({"x": x, "y": rng.gamma(2.0, 1.0, n), "segment": segment})
    target = np.exp(0.5 * np.nan_to_num(x) + 0.2 * X["y"]) * rng.gamma(1.0, 1.0, n)
    return X, target


def _booster(objective: str, rounds: int, **params) -> tuple[lgb.Booster, pd.DataFrame]:
    X, target = _frame()
    y = (target > np.median(target)).astype(int) if objective == "binary" else target
    base = {"objective": objective, "num_leaves": 15, "learning_rate": 0.05, "verbose": -1}
    return lgb.train({**base, **params}, lgb.Dataset(X, y), num_boost_round=rounds), X


@pytest.mark.parametrize(
    ("objective", "params"),
    [("tweedie", {}), ("binary", {}), ("binary", {"sigmoid": 0.7}), ("regression", {})],
)
def test_blocks_of_trees_predict_what_lightgbm_predicts(objective, params):
    booster, X = _booster(objective, 450, **params)
    assert booster.num_trees() > 2 * trees.TREES_PER_BLOCK  # predicted in blocks

    np.testing.assert_allclose(trees.predict(booster, X), booster.predict(X), rtol=1e-12)


def test_blocks_stop_at_the_best_iteration(monkeypatch):
    booster, X = _booster("tweedie", 450)
    booster.best_iteration = 333
    monkeypatch.setattr(trees, "ROWS_PER_CHUNK", 400)  # and rows in chunks

    got = trees.predict(booster, X)

    np.testing.assert_allclose(got, booster.predict(X), rtol=1e-12)
    assert np.abs(got / booster.predict(X, num_iteration=450) - 1).max() > 1e-3


@pytest.mark.parametrize(
    ("objective", "rounds", "params"),
    [("tweedie", 150, {}), ("regression", 450, {"reg_sqrt": True}), ("huber", 450, {})],
)
def test_small_models_and_unknown_links_take_one_call(objective, rounds, params):
    booster, X = _booster(objective, rounds, **params)

    np.testing.assert_array_equal(trees.predict(booster, X), booster.predict(X))
