import numpy as np
import pandas as pd
import pytest

from valuemodel.serving.config import Cutoff, TierConfig
from valuemodel.serving.tiers import (
    asset_tier,
    contribution,
    grade_risk_category,
    growth_quadrant,
    resolve_cutoff,
    risk_class,
    value_grade,
    value_quadrant,
)


def _cfg(**sections) -> TierConfig:
    return TierConfig.model_validate(sections)


def test_asset_tier_thresholds_are_inclusive_lower_bounds():
    f = pd.DataFrame({"total_assets": [5_000_000, 4_999_999.99, 500_000, 499_999, 0, np.nan]})
    assert asset_tier(f).tolist() == ["large", "medium", "medium", "retail", "retail", None]


def test_asset_tier_is_null_without_balances_and_follows_the_config():
    assert asset_tier(pd.DataFrame({"x": [1, 2]})).tolist() == [None, None]
    cfg = _cfg(asset_tier={"large": 100, "medium": 10})
    assert asset_tier(pd.DataFrame({"total_assets": [100, 10, 9]}), cfg).tolist() == [
        "large",
        "medium",
        "retail",
    ]


def test_contribution_prefers_revenue_and_falls_back_to_commission():
    both = pd.DataFrame({"revenue_365d": [5.0], "commission_365d": [3.0]})
    assert contribution(both).tolist() == [5.0]
    assert contribution(pd.DataFrame({"commission_365d": [3.0]})).tolist() == [3.0]
    assert contribution(pd.DataFrame({"x": [1]})).isna().all()


def test_value_quadrant_with_absolute_cutoffs():
    cfg = _cfg(value_quadrant={"contribution": {"value": 1000}, "turnover": {"value": 2}})
    f = pd.DataFrame(
        {
            "revenue_365d": [5000, 5000, 100, 100, 1000, np.nan],
            "asset_turnover_365d": [3, 1, 3, 1, 2.5, 3],
        }
    )
    # "high" is strictly above the cut-off: 1000 is low contribution.
    assert value_quadrant(f, cfg).tolist() == ["A", "B", "C", "D", "C", None]


def test_value_quadrant_with_percentile_cutoffs_of_the_population():
    f = pd.DataFrame({"revenue_365d": [1, 2, 3, 4], "asset_turnover_365d": [40, 30, 20, 10]})
    # medians 2.5 and 25
    assert value_quadrant(f).tolist() == ["C", "C", "B", "B"]


def test_a_median_of_zero_does_not_make_every_account_high():
    f = pd.DataFrame({"revenue_365d": [0, 0, 0, 50], "asset_turnover_365d": [1, 1, 1, 1]})
    assert value_quadrant(f).tolist() == ["D", "D", "D", "B"]


def test_value_quadrant_is_null_without_turnover():
    f = pd.DataFrame({"commission_365d": [1.0, 2.0]})
    assert value_quadrant(f).tolist() == [None, None]


def test_growth_quadrant_crosses_contribution_with_asset_growth():
    f = pd.DataFrame(
        {"revenue_365d": [10, 10, 1, 1, 5], "asset_growth_365d": [0.1, -0.1, 0.1, 0.0, np.nan]}
    )
    cfg = _cfg(growth_quadrant={"contribution": {"value": 5}, "growth": {"value": 0.0}})
    assert growth_quadrant(f, cfg).tolist() == ["I", "II", "III", "IV", None]


def test_resolve_cutoff_ignores_nulls_and_is_nan_when_nothing_is_known():
    assert resolve_cutoff(np.array([1.0, np.nan, 3.0]), Cutoff(percentile=0.5)) == 2.0
    assert np.isnan(resolve_cutoff(np.array([np.nan]), Cutoff(percentile=0.5)))
    assert resolve_cutoff(np.array([np.nan]), Cutoff(value=7)) == 7.0


def test_value_grade_takes_the_highest_level_reached_by_assets_or_contribution():
    f = pd.DataFrame(
        {
            "total_assets": [6e6, 10, 2e6, 150_000, 50_000, np.nan, np.nan],
            "revenue_365d": [0, 60_000, 0, 0, 500, 20_000, np.nan],
        }
    )
    assert value_grade(f).tolist() == [
        "platinum",
        "platinum",
        "gold",
        "silver",
        "standard",
        "gold",
        None,
    ]


def test_value_grade_uses_contribution_alone_without_balances():
    f = pd.DataFrame({"commission_365d": [60_000.0, 1_500.0, 10.0]})
    assert value_grade(f).tolist() == ["platinum", "silver", "standard"]


def test_risk_class_maps_the_questionnaire_levels():
    f = pd.DataFrame({"risk_level": pd.array(["C1", "C2", "C3", "C4", "C5", None], dtype="str")})
    assert risk_class(f).tolist() == [
        "conservative",
        "conservative",
        "steady",
        "aggressive",
        "aggressive",
        None,
    ]
    assert risk_class(pd.DataFrame({"x": [1]})).tolist() == [None]


def test_grade_risk_category_has_twelve_values_and_is_null_when_either_part_is():
    f = pd.DataFrame(
        {
            "total_assets": [2e6, 2e6, np.nan],
            "revenue_365d": [0.0, 0.0, np.nan],
            "risk_level": pd.array(["C3", None, "C3"], dtype="str"),
        }
    )
    assert grade_risk_category(f).tolist() == ["gold-steady", None, None]
    assert len(TierConfig().tier_labels()["grade_risk_category"]) == 12


@pytest.mark.parametrize(
    "fn", [asset_tier, value_quadrant, growth_quadrant, value_grade, risk_class]
)
def test_every_tier_keeps_the_index_and_handles_an_empty_frame(fn):
    f = pd.DataFrame({"total_assets": [1.0, 2.0]}, index=[7, 3])
    assert fn(f).index.tolist() == [7, 3]
    assert len(fn(f.iloc[:0])) == 0
