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


def test_from_a_month_end_sunday_snapshots_keep_its_phase_two_days_after_a_close():
    # 2024-06-30 is a Sunday, two days after Friday's close; so is every snapshot date,
    # whatever weekday its month ends on (2024-05-31 Friday -> Sunday 06-02; 2024-03-31 is
    # itself a Sunday after a Friday close; 2024-04-30 Tuesday -> 05-02, in the May holiday)
    assert grid(date(2024, 6, 30), date(2024, 3, 1), "monthly", "XSHG") == [
        date(2024, 3, 2),  # 2024-02-29 Thursday + 2
        date(2024, 3, 31),
        date(2024, 5, 2),
        date(2024, 6, 2),
        date(2024, 6, 30),
    ]


def test_from_a_trading_day_snapshots_land_on_trading_days():
    # 2024-10-31 Thursday; 2024-09-30 Monday (National Day holiday follows); 2024-08-31 is
    # a Saturday: Friday 08-30
    assert grid(date(2024, 10, 31), date(2024, 8, 1), "monthly", "XSHG") == [
        date(2024, 8, 30),
        date(2024, 9, 30),
        date(2024, 10, 31),
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
    assert plan.valid_dates[-1] == date(2025, 9, 30)  # a month end and a trading day
    assert plan.train_dates[0] >= date(2024, 3, 31)  # 90 days of history
    assert len(plan.valid_dates) == 5 and plan.gap_rule == "strict"
    assert all((plan.valid_dates[0] - t).days >= 90 for t in plan.train_dates)
    assert plan.notes == (
        "churn: snapshot dates step back from 2025-12-31 by whole monthly steps, on trading "
        "days as 2025-12-31 is (XSHG calendar)",
    )


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
    assert "relaxed gap rule" in plan.notes[-1]


def test_short_history_picks_a_few_snapshots_with_enough_history():
    plan = plan_snapshots(
        label="churn",
        horizon_days=182,
        start=date(2025, 1, 1),
        end=date(2025, 12, 31),
        anchor_horizon=182,
        config=SnapshotConfig(),
    )
    # month ends on trading days (2025-05-31 is a Saturday: the Friday before)
    assert plan.dates == (date(2025, 4, 30), date(2025, 5, 30), date(2025, 6, 30))
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
    assert any("days of history" in note for note in plan.notes)


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
