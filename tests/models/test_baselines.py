import json

import numpy as np
import pandas as pd
import pytest

from valuemodel.models import baselines, metrics


def test_recency_rule_ranks_never_traded_accounts_highest():
    frame = pd.DataFrame({"days_since_last_trade": [3.0, np.nan, 40.0]})
    assert baselines.recency_score(frame).tolist() == [3.0, 41.0, 40.0]


def test_recency_rule_needs_its_feature():
    with pytest.raises(ValueError, match="days_since_last_trade"):
        baselines.recency_score(pd.DataFrame({"x": [1.0]}))


def test_last_period_revenue_uses_the_largest_window_within_the_horizon():
    frame = pd.DataFrame({"revenue_90d": [10.0, np.nan], "revenue_365d": [50.0, 20.0]})
    assert baselines.revenue_window(frame.columns, 365) == "revenue_365d"
    assert baselines.revenue_window(frame.columns, 182) == "revenue_90d"
    assert baselines.revenue_window(frame.columns, 30) == "revenue_90d"
    assert baselines.last_period_revenue(frame, 180).tolist() == [20.0, 0.0]


def test_logistic_baseline_fits_numbers_and_categories(synthetic):
    (train, y, _), (valid, y_valid, _) = synthetic
    numeric = ["days_since_last_trade", "trades_90d", "total_assets", "revenue_365d"]
    pipe = baselines.logistic_baseline(numeric, ["channel"])
    pipe.fit(baselines.as_logistic_input(train, ["channel"]), y)
    proba = pipe.predict_proba(baselines.as_logistic_input(valid, ["channel"]))[:, 1]
    assert metrics.roc_auc(y_valid, proba) > 0.7


def _rule_training() -> tuple[pd.DataFrame, np.ndarray]:
    """Eight training rows: large churn 1 of 2, medium 1 of 4, one retail, one without assets."""
    assets = [6e6, 7e6, 6e5, 6e5, 7e5, 8e5, 1e4, np.nan]
    churned = np.array([1, 0, 0, 0, 0, 1, 1, 0])
    return pd.DataFrame({"total_assets": assets}), churned


def test_the_p_over_r_rule_gives_hand_computed_values():
    rule = baselines.ClvRule(
        period_days=90, horizon_days=360, contribution_days=360, min_segment_rows=2
    )
    rule.fit(*_rule_training())
    assert rule.rates_ == {"large": 0.5, "medium": 0.25}
    assert rule.overall_rate_ == 3 / 8  # retail and no-assets have one row each: overall rate
    scored = pd.DataFrame(
        {
            "total_assets": [5e6, 5e5, 499_999.0, 6e6, 6e5, np.nan],
            "revenue_360d": [400.0, 800.0, 40.0, np.nan, -50.0, 360.0],
        }
    )
    # P = revenue * 90 / 360; n = 4 periods; P * (1 + (1-R) + (1-R)^2 + (1-R)^3)
    assert rule.predict(scored) == pytest.approx(
        [
            100 * (1 + 0.5 + 0.25 + 0.125),
            200 * (1 + 0.75 + 0.5625 + 0.421875),
            10 * (1 + 0.625 + 0.390625 + 0.244140625),
            0.0,
            0.0,
            90 * (1 + 0.625 + 0.390625 + 0.244140625),
        ],
        rel=1e-6,
    )


def test_the_rule_is_capped_by_the_horizon_as_the_churn_rate_goes_to_zero():
    assert baselines.periods_value([0.0, 1e-15, 1.0, 0.5], 4).tolist() == pytest.approx(
        [4.0, 4.0, 1.0, 1.875]
    )
    # a fractional number of periods: 365 days of quarters, never above n nor 1 / R
    assert baselines.periods_value(0.2, 365 / 90) == pytest.approx((1 - 0.8 ** (365 / 90)) / 0.2)
    assert baselines.periods_value(0.2, 365 / 90) < min(365 / 90, 1 / 0.2)


def test_the_stored_rule_scores_like_the_fitted_one():
    rule = baselines.ClvRule(contribution_days=360, min_segment_rows=2).fit(*_rule_training())
    stored = baselines.ClvRule.from_dict(json.loads(json.dumps(rule.to_dict())))
    frame = pd.DataFrame({"total_assets": [6e6, 1e3], "revenue_360d": [100.0, 50.0]})
    assert stored.predict(frame).tolist() == rule.predict(frame).tolist()
    without_balances = frame.drop(columns="total_assets")
    assert (
        baselines.capital_segment(without_balances, 5e5, 5e6).tolist() == [baselines.NO_ASSETS] * 2
    )


def test_the_rule_names_what_it_lacks():
    rule = baselines.ClvRule(contribution_days=360).fit(*_rule_training())
    with pytest.raises(ValueError, match="needs the feature 'revenue_360d'"):
        rule.predict(pd.DataFrame({"total_assets": [1.0]}))
    with pytest.raises(ValueError, match="not fitted"):
        baselines.ClvRule().predict(pd.DataFrame({"revenue_365d": [1.0]}))
    with pytest.raises(ValueError, match="stored P / R rule is malformed"):
        baselines.ClvRule.from_dict({"period_days": 90})
