import numpy as np
import pandas as pd

from valuemodel.serving.config import Condition, RuleSetConfig
from valuemodel.serving.rules import assign, condition_mask, rule_mask

FRAME = pd.DataFrame(
    {
        "days": [10.0, 200.0, np.nan, 90.0],
        "grade": pd.array(["gold", "silver", None, "gold"], dtype="str"),
    }
)


def test_bounds_are_inclusive_and_nulls_fail_unless_missing_is_set():
    assert condition_mask(FRAME, "days", Condition(min=90)).tolist() == [False, True, False, True]
    assert condition_mask(FRAME, "days", Condition(min=90, missing=True)).tolist() == [
        False,
        True,
        True,
        True,
    ]
    assert condition_mask(FRAME, "days", Condition(max=90)).tolist() == [True, False, False, True]


def test_membership_works_on_string_columns():
    mask = condition_mask(FRAME, "grade", Condition(in_=("gold",)))
    assert mask.tolist() == [True, False, False, True]


def test_an_absent_column_reads_as_all_null():
    assert not condition_mask(FRAME, "total_assets", Condition(min=0)).any()
    assert condition_mask(FRAME, "total_assets", Condition(min=0, missing=True)).all()


def test_a_rule_is_any_of_its_condition_sets_and_each_set_is_all_of_its_conditions():
    rule = [
        {"days": Condition(max=50), "grade": Condition(in_=("gold",))},
        {"days": Condition(min=150)},
    ]
    assert rule_mask(FRAME, rule).tolist() == [True, True, False, False]
    assert rule_mask(FRAME, []).all()


def test_assign_takes_the_first_matching_rule_and_nulls_rows_the_data_cannot_tell():
    rules = RuleSetConfig(
        rules={
            "recent": [{"days": Condition(max=90)}],
            "gold": [{"grade": Condition(in_=("gold",))}],
        },
        default="other",
        requires=("days",),
    )
    labels = assign(FRAME, rules, "x")
    assert labels.tolist() == ["recent", "other", None, "recent"]
