"""The final churn model: refitted on the latest labelled months, held-out accounts kept out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from valuemodel.training import frames
from valuemodel.training.config import parse_config
from valuemodel.training.fitting import fit_churn
from valuemodel.training.refit import refit_churn
from valuemodel.training.snapshots import SnapshotPlan

DATES = [d.date() for d in pd.date_range("2024-01-31", periods=9, freq="ME")]
PLAN = SnapshotPlan(
    "churn", 90, tuple(DATES[:4]), tuple(DATES[7:]), "strict", 90, (), tuple(DATES[4:7])
)
CONFIG = parse_config({"tuning": {"trials": 0}, "lightgbm": {"max_rounds": 400}})


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    rows = []
    for k, d in enumerate(DATES):
        x = rng.normal(size=300)
        churn = (x + rng.normal(size=300) > 1.0 - 0.1 * k).astype(float)  # the rate drifts up
        rows.append(
            pd.DataFrame(
                {
                    "account_id": [f"a{i}" for i in range(300)],
                    "as_of": pd.Timestamp(d),
                    "x": x,
                    "days_since_last_trade": rng.integers(0, 60, 300).astype(float),
                    "churn": churn,
                    "value": 0.0,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


@pytest.fixture(scope="module")
def tuned(frame):
    train = frames.select(frame, PLAN.train_dates, "churn")
    kept, held = frames.hold_out(frames.select(frame, PLAN.valid_dates, "churn"))
    return train, kept, held, fit_churn(train, kept, CONFIG)


def test_trees_see_every_month_whose_window_closes_by_the_last_without_held_out_accounts(
    frame, tuned
):
    train, _, held, fitted = tuned
    final, notes = refit_churn(fitted, frame, PLAN, train, held, CONFIG)
    info = final.final
    # calibration on 2024-09-30; 2024-06-30 + 90 days = 2024-09-28 closes by it, while the
    # July and August windows overlap the calibration window by 60 and 30 days
    assert info["tree_dates"] == [str(d) for d in DATES[:6]]
    assert info["calibration_date"] == str(DATES[8])
    later = frame[frame.as_of.isin(pd.to_datetime(DATES[4:6]))]
    kept_later = int((~frames.held_out(later.account_id)).sum())
    assert info["rows"] == len(train.y) + kept_later
    last = frame[frame.as_of == pd.Timestamp(DATES[8])]
    kept_last = last[~frames.held_out(last.account_id)]
    assert info["calibration_rows"] == len(kept_last)
    assert info["calibration_churn_rate"] == pytest.approx(kept_last.churn.mean())
    tuned_rounds = int(fitted.extra_metrics["n_iterations"])
    expected = min(max(round(tuned_rounds * info["rows"] / len(train.y)), tuned_rounds), 400)
    assert info["n_iterations"] == expected
    assert final.boosters["main"].current_iteration() == expected
    assert final.metrics == fitted.metrics  # the headline stays the out-of-time one
    assert "held-out accounts excluded" in notes[0]


def test_the_final_calibration_follows_the_latest_churn_rate(frame, tuned):
    train, _, held, fitted = tuned
    final, _ = refit_churn(fitted, frame, PLAN, train, held, CONFIG)
    from valuemodel.models.calibration import ProbabilityCalibrator

    last = frames.hold_out(frames.select(frame, [DATES[8]], "churn"))[0]
    raw = final.boosters["main"].predict(final.schema.prepare(last.features), raw_score=True)
    p = ProbabilityCalibrator.from_dict(final.calibration).transform(raw)
    assert p.mean() == pytest.approx(last.y.mean(), abs=0.01)  # Platt matches the base rate


def test_without_held_out_accounts_or_when_disabled_the_tuned_model_is_kept(frame, tuned):
    train, _, held, fitted = tuned
    same, notes = refit_churn(fitted, frame, PLAN, train, None, CONFIG)
    assert same is fitted and "not refitted" in notes[0]
    off = parse_config({"churn": {"refit": False}})
    assert refit_churn(fitted, frame, PLAN, train, held, off) == (fitted, [])


def test_the_drift_profile_is_the_latest_labelled_snapshot_the_model_is_calibrated_on(
    frame, tuned
):
    from valuemodel.models.schema import FeatureSchema
    from valuemodel.serving.drift import feature_psi

    train, _, held, fitted = tuned
    shifted = frame.copy()
    latest = shifted.as_of == pd.Timestamp(DATES[8])
    shifted.loc[latest, "days_since_last_trade"] += 100.0  # the latest month moved away
    final, _ = refit_churn(fitted, shifted, PLAN, train, held, CONFIG)
    last = frames.hold_out(frames.select(shifted, [DATES[8]], "churn"))[0]
    assert final.schema.profile == FeatureSchema.from_frame(last.features).profile
    assert final.schema.feature_names == fitted.schema.feature_names
    assert final.schema.dtypes == fitted.schema.dtypes
    scored = last.features["days_since_last_trade"]
    assert feature_psi(scored, final.schema.profile["days_since_last_trade"]) < 0.01
    assert feature_psi(scored, fitted.schema.profile["days_since_last_trade"]) > 1.0
