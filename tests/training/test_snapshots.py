from datetime import date

import pytest

from valuemodel.errors import InputError
from valuemodel.training.config import SnapshotConfig
from valuemodel.training.snapshots import grid, plan_snapshots, split_dates


def test_grid_steps_back_by_calendar_months():
    assert grid(date(2025, 3, 31), date(2024, 12, 1), "monthly") == [
        date(2024, 12, 31),
        date(2025, 1, 31),
        date(2025, 2, 28),
        date(2025, 3, 31),
    ]


def test_two_years_of_data_with_a_90_day_horizon():
    plan = plan_snapshots(
        label="churn",
        horizon_days=90,
        start=date(2024, 1, 1),
        end=date(2025, 12, 31),
        anchor_horizon=90,
        config=SnapshotConfig(),
    )
    assert plan.valid_dates[-1] == date(2025, 10, 2)
    assert plan.train_dates[0] >= date(2024, 3, 31)  # 90 days of history
    assert len(plan.valid_dates) == 5 and plan.gap_rule == "strict"
    assert all((plan.valid_dates[0] - t).days >= 90 for t in plan.train_dates)
    assert plan.notes == ()


def test_a_long_value_horizon_falls_back_to_the_relaxed_gap_and_says_so():
    plan = plan_snapshots(
        label="value",
        horizon_days=365,
        start=date(2024, 1, 1),
        end=date(2025, 12, 31),
        anchor_horizon=90,
        config=SnapshotConfig(),
    )
    assert plan.gap_rule == "relaxed"
    assert plan.train_dates[-1] < plan.valid_dates[0] <= date(2024, 12, 31)
    assert "relaxed gap rule" in plan.notes[0]


def test_short_history_picks_a_few_snapshots_with_enough_history():
    plan = plan_snapshots(
        label="churn",
        horizon_days=182,
        start=date(2025, 1, 1),
        end=date(2025, 12, 31),
        anchor_horizon=182,
        config=SnapshotConfig(),
    )
    assert plan.dates == (date(2025, 4, 2), date(2025, 5, 2), date(2025, 6, 2), date(2025, 7, 2))
    assert plan.history_days == 90


def test_too_little_history_is_lowered_with_a_note():
    plan = plan_snapshots(
        label="churn",
        horizon_days=250,
        start=date(2025, 1, 1),
        end=date(2025, 12, 31),
        anchor_horizon=250,
        config=SnapshotConfig(),
    )
    assert len(plan.dates) == 2 and plan.history_days < 90
    assert "days of history" in plan.notes[0]


def test_no_labelled_snapshot_is_an_input_error():
    with pytest.raises(InputError, match="no value snapshot can be labelled"):
        plan_snapshots(
            label="value",
            horizon_days=365,
            start=date(2025, 1, 1),
            end=date(2025, 12, 31),
            anchor_horizon=90,
            config=SnapshotConfig(),
        )
    with pytest.raises(InputError, match="only one churn snapshot"):
        plan_snapshots(
            label="churn",
            horizon_days=320,
            start=date(2025, 1, 1),
            end=date(2025, 12, 31),
            anchor_horizon=320,
            config=SnapshotConfig(),
        )


def test_split_keeps_at_least_one_date_on_each_side():
    dates = [date(2025, m, 1) for m in (1, 2)]
    train, valid, rule, _ = split_dates(dates, 30, SnapshotConfig(validation_fraction=0.9))
    assert (train, valid, rule) == ((date(2025, 1, 1),), (date(2025, 2, 1),), "strict")
