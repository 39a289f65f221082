"""Feature frames rounded below any meaningful precision, the same on every run."""

import numpy as np
import pandas as pd

from valuemodel.features.stable import ROUNDING_BLOCK, stable_features


def test_stable_features_removes_floating_point_noise_only():
    noisy = pd.DataFrame(
        {
            "account_id": pd.array(["A", "B", "C"], dtype="str"),
            "commission_365d": [903.4999999999999, 903.5000000000001, np.nan],
            "effective_commission_rate": [0.000111234567891234, -2.7755575615628914e-17, -5.0],
            "risk_level": pd.Categorical(["C1", None, "C3"]),
        },
        index=[5, 6, 7],
    )
    stable = stable_features(noisy)
    assert stable["commission_365d"].tolist()[:2] == [903.5, 903.5]
    # a difference of equal shares comes out as +-1e-16 in an order the engine chooses: 0
    assert stable["effective_commission_rate"].tolist() == [0.000111234567891, 0.0, -5.0]
    assert list(stable.dtypes) == list(noisy.dtypes) and stable.index.tolist() == [0, 1, 2]


def test_stable_features_rounds_every_block_of_columns_in_its_place():
    n_floats = 2 * ROUNDING_BLOCK + 3  # three blocks, the last one short
    columns: dict = {"account_id": pd.array(["A", "B"], dtype="str")}
    for j in range(n_floats):
        columns[f"f{j}"] = [j + 1 + 1e-13, -(j + 1) - 1e-13]  # noise below 12 digits
        if j % 10 == 0:
            columns[f"c{j}"] = pd.Categorical(["x", None])
    noisy = pd.DataFrame(columns, index=[9, 3])
    stable = stable_features(noisy)
    assert list(stable.columns) == list(noisy.columns)
    assert list(stable.dtypes) == list(noisy.dtypes) and stable.index.tolist() == [0, 1]
    for j in range(n_floats):
        assert stable[f"f{j}"].tolist() == [j + 1, -(j + 1)], j
    assert stable["account_id"].tolist() == ["A", "B"] and stable["c0"].isna().tolist() == [
        False,
        True,
    ]
