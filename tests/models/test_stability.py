import math

import numpy as np
import pandas as pd
import pytest

from valuemodel.models.schema import FeatureSchema
from valuemodel.models.stability import (
    bin_location,
    months_apart,
    movement,
    normal_movement,
    numeric_edges,
    numeric_shares,
    psi,
)


def test_a_discrete_number_gets_a_bin_per_value_with_edges_halfway():
    edges = numeric_edges(np.array([0.0, 0.0, 0.0, 1.0, 3.0, 3.0]))
    assert edges.tolist() == [0.5, 2.0]
    # 1/3 rounded to 12 digits (as the scorer rounds) stays in the bin of 1/3
    third = numeric_edges(np.array([0.0, 1 / 3, 2 / 3, 1.0]))
    shares = numeric_shares(pd.Series([round(1 / 3, 12), round(2 / 3, 12)]), third)
    assert shares.tolist() == [0.0, 0.5, 0.5, 0.0, 0.0]


def test_a_continuous_number_keeps_decile_edges():
    values = np.arange(1000, dtype=float)
    assert len(numeric_edges(values)) == 9


def test_bin_location_is_the_mean_bin_of_the_values_present():
    assert bin_location(np.array([0.5, 0.0, 0.5, 0.0])) == pytest.approx(1.0)  # last: missing
    assert math.isnan(bin_location(np.array([0.0, 0.0, 1.0])))


def test_months_apart_rounds_to_whole_months():
    assert months_apart(pd.Timestamp("2024-06-30"), pd.Timestamp("2024-06-30")) == 0
    assert months_apart(pd.Timestamp("2024-06-30"), pd.Timestamp("2024-07-31")) == 1
    assert months_apart(pd.Timestamp("2024-07-31"), pd.Timestamp("2024-04-30")) == 3


def test_movement_is_the_psi_between_snapshots_months_apart_by_hand():
    # a flag: 0/1 shares (0.5, 0.5) at the end of May, (0.75, 0.25) at the end of June
    frame = pd.DataFrame(
        {
            "as_of": pd.to_datetime(["2024-05-31"] * 4 + ["2024-06-30"] * 4),
            "flag": [0, 0, 1, 1, 0, 0, 0, 1],
        }
    ).astype({"flag": float})
    schema = FeatureSchema.from_frame(frame.drop(columns="as_of"))
    profile = schema.profile
    assert profile["flag"]["edges"] == [0.5]
    steps = movement(frame, profile, ["flag"])["flag"]
    by_hand = psi([0.5, 0.5, 0.0], [0.75, 0.25, 0.0])
    location = 0.5 - 0.25
    assert steps == [[1.0, pytest.approx(by_hand, abs=1e-6), pytest.approx(location)]]


def test_normal_movement_takes_the_distance_below_and_grows_beyond_the_last():
    steps = [[1.0, 0.02, 0.1], [3.0, 0.05, 0.3]]
    assert normal_movement(steps, 0) == (0.02, 0.1)  # nearer than any: the first
    assert normal_movement(steps, 2) == (0.02, 0.1)
    assert normal_movement(steps, 3) == (0.05, 0.3)
    assert normal_movement(steps, 6) == pytest.approx((0.10, 0.6))
    assert all(math.isnan(v) for v in normal_movement([], 1))


def test_on_the_profiles_own_date_the_normal_movement_is_nil():
    steps = [[1.0, 0.02, 0.1], [3.0, 0.05, 0.3]]
    assert normal_movement(steps, 0, same_date=True) == (0.0, 0.0)
    psi_0, bins_0 = normal_movement([[1.0, 0.02, None]], 0, same_date=True)  # categorical
    assert psi_0 == 0.0 and math.isnan(bins_0)
    assert all(math.isnan(v) for v in normal_movement([], 0, same_date=True))


def test_the_drift_baseline_profiles_the_as_of_date_and_keeps_the_date():
    rng = np.random.default_rng(0)
    dates = pd.to_datetime(["2024-03-31", "2024-04-30", "2024-05-31", "2024-06-30"])
    frame = pd.DataFrame(
        {"as_of": np.repeat(dates, 200), "x": rng.normal(size=800) + np.repeat(range(4), 200)}
    )
    now = frame[frame.as_of == dates[-1]]
    schema = FeatureSchema.from_frame(now.drop(columns="as_of"))
    based = schema.drift_baseline(now, frame[frame.as_of < dates[-1]], dates[-1].date())
    assert based.profile_date == "2024-06-30"
    assert based.profile["x"]["median"] == pytest.approx(float(np.median(now.x)), rel=1e-6)
    months = [step[0] for step in based.profile["x"]["movement"]]
    assert months == [1.0, 2.0, 3.0]
    assert FeatureSchema.from_dict(based.to_dict()).profile_date == "2024-06-30"
