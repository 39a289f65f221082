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
