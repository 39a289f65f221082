import numpy as np
import pandas as pd

from valuemodel.serving.segments import (
    RFM_COLUMNS,
    TIER_COLUMNS,
    assign_tiers,
    lifecycle_stage,
    service_segment,
    tier_requirements,
)

# Hand-made accounts, one per segment rule (default rules of serving/tiers.yaml).
ACCOUNTS = pd.DataFrame(
    {
        "account_id": ["core", "dormant", "never", "sediment", "maintain", "gold_idle"],
        "total_assets": [2e6, 300_000, 150_000, 20_000, 200_000, 1.5e6],
        "revenue_365d": [5_000, 100, 0, 10, 800, 0],
        "days_since_last_trade": [12, 200, np.nan, 120, 30, 100],
    }
)


def test_service_segment_follows_the_rules_in_order():
    assert service_segment(ACCOUNTS).tolist() == [
        "core",  # gold by assets, traded 12 days ago
        "dormant",  # 300k, no trade for 200 days
        "dormant",  # never traded counts as inactive
        "precipitating",  # 20k, 120 days
        "maintaining",  # silver and active
        "maintaining",  # gold but idle for 100 days: neither core nor dormant (< 181 days)
    ]


def test_without_balances_nobody_is_dormant_or_precipitating():
    trades_only = ACCOUNTS.drop(columns="total_assets")
    segments = service_segment(trades_only).tolist()
    assert segments == ["maintaining"] * 6
    rich = trades_only.assign(revenue_365d=[50_000, 0, 0, 0, 0, 0])
    assert service_segment(rich).tolist()[0] == "core"


def test_lifecycle_stage_from_tenure_growth_and_trend():
    f = pd.DataFrame(
        {
            "tenure_days": [100, 1000, 1000, 1000, 1000, 1000, 100],
            "asset_growth_365d": [0.5, -0.3, 0.0, 0.4, 0.0, np.nan, np.nan],
            "trading_days_trend": [1.0, 1.0, 0.4, 1.0, 1.0, np.nan, np.nan],
        }
    )
    assert lifecycle_stage(f).tolist() == [
        "new",
        "declining",
        "declining",
        "growing",
        "mature",
        None,
        "new",
    ]


def test_lifecycle_stage_uses_whichever_signal_exists():
    f = pd.DataFrame({"tenure_days": [1000, 1000], "trading_days_trend": [2.0, 1.0]})
    assert lifecycle_stage(f).tolist() == ["growing", "mature"]


def test_assign_tiers_returns_every_tier_and_passes_rfm_through():
    f = ACCOUNTS.assign(rfm_score=[15, 3, 3, 4, 9, 6], loyalty_stage=["loyal"] * 6)
    tiers = assign_tiers(f)
    assert list(tiers.columns) == ["account_id", *TIER_COLUMNS, *RFM_COLUMNS]
    assert tiers["rfm_score"].tolist() == [15, 3, 3, 4, 9, 6]
    assert tiers["rfm_recency_score"].isna().all()
    assert tiers["asset_tier"].tolist()[0] == "medium"


def test_tier_requirements_explain_what_trades_only_data_cannot_compute():
    notes = " ".join(tier_requirements(pd.DataFrame({"commission_365d": [1.0]})))
    assert "asset_tier is null" in notes and "value_quadrant is null" in notes
    assert "risk_class is null" in notes
    assert (
        tier_requirements(
            ACCOUNTS.assign(asset_turnover_365d=1.0, asset_growth_365d=0.0, risk_level="C3")
        )
        == []
    )
