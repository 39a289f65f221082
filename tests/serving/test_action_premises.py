"""Every action of the shipped tiers file is given only to accounts its words fit."""

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from valuemodel.serving.actions import recommend
from valuemodel.serving.config import TierConfig
from valuemodel.serving.rules import rule_mask

DRIVERS = [
    None,
    "unrealized_pnl_ratio",
    "pnl_90d",
    "return_365d",
    "drawdown_180d",
    "profitable_month_share_12m",
    "effective_commission_rate",
    "commission_rate_percentile",
    "net_flow_30d",
    "outflow_90d",
    "withdrawals_30d",
    "asset_growth_365d",
    "trades_90d",
    "days_since_last_trade",
    "age",
]


def _number(low: float, high: float) -> st.SearchStrategy:
    edges = st.sampled_from([0.0, low, high])
    return st.one_of(st.none(), edges, st.floats(low, high, allow_nan=False))


ACCOUNT = st.fixed_dictionaries(
    {
        "asset_tier": st.sampled_from([None, "large", "medium", "retail"]),
        "service_segment": st.sampled_from(["core", "dormant", "maintaining", "precipitating"]),
        "lifecycle_stage": st.sampled_from([None, "new", "declining", "growing", "mature"]),
        "days_since_last_trade": _number(0, 800),
        "tenure_days": _number(0, 5000),
        "unrealized_pnl_ratio": _number(-0.9, 2.0),
        "outflow_90d": _number(0, 1e6),
        "risk_level": st.sampled_from([None, "C1", "C2", "C3", "C4", "C5"]),
        "driver_1": st.sampled_from(DRIVERS),
    }
)

# What each action's words take for granted, written out by hand (not read from the file).
STATED = {
    "senior_adviser_visit": lambda a: a["asset_tier"] == "large",
    "rate_review": lambda a: (
        a["days_since_last_trade"] is not None and a["days_since_last_trade"] <= 30
    ),
    "portfolio_review": lambda a: (
        a["unrealized_pnl_ratio"] is not None and a["unrealized_pnl_ratio"] < 0
    ),
    "outflow_call": lambda a: a["outflow_90d"] is not None and a["outflow_90d"] > 0,
    "fund_introduction": lambda a: (
        a["service_segment"] == "dormant"
        and a["tenure_days"] is not None
        and a["tenure_days"] >= 730
        and a["risk_level"] in ("C2", "C3", "C4", "C5")
    ),
}


CONFIG = TierConfig()


@settings(max_examples=150, deadline=None)
@given(st.lists(ACCOUNT, min_size=1, max_size=30))
def test_every_action_of_the_shipped_rules_fits_the_account_it_is_given_to(accounts):
    frame = pd.DataFrame(accounts).astype("object")
    frame = frame.where(frame.notna(), None)
    config = CONFIG
    chosen = recommend(frame, config)["action_id"]
    for account, action in zip(accounts, chosen, strict=True):
        if action in STATED:
            assert STATED[action](account), (action, account)
    # and every premise the file states holds where its action was given
    for action_id, action in config.actions.catalogue.items():
        given_to = (chosen == action_id).to_numpy()
        if action.premise and given_to.any():
            assert rule_mask(frame[given_to], action.premise).all(), action_id


def test_the_shipped_loss_action_states_its_premise():
    catalogue = CONFIG.actions.catalogue
    assert "loss" in catalogue["portfolio_review"].en
    assert catalogue["portfolio_review"].premise[0]["unrealized_pnl_ratio"].below == 0
