import numpy as np
import pandas as pd
import pytest

from valuemodel.serving.config import TierConfig
from valuemodel.serving.ranking import (
    allocate,
    exclusion,
    priority_score,
    rank_accounts,
    select,
    tier_weight,
    value_at_risk,
)


def _frame(segments, priorities, ids=None, excluded=None, managers=None) -> pd.DataFrame:
    n = len(segments)
    frame = pd.DataFrame(
        {
            "account_id": ids or [f"A{i:02d}" for i in range(n)],
            "service_segment": segments,
            "priority_score": [float(p) for p in priorities],
            "exclusion": excluded or [None] * n,
        }
    )
    if managers is not None:
        frame["manager_id"] = managers
    return frame


def test_value_at_risk_is_probability_times_value_with_negative_value_as_zero():
    var = value_at_risk(pd.Series([0.5, 0.2, 0.9]), pd.Series([1000.0, 50.0, -10.0]))
    assert var.tolist() == [500.0, 10.0, 0.0]


def test_priority_is_value_at_risk_times_the_tier_weights():
    f = pd.DataFrame(
        {
            "value_at_risk": [100.0, 100.0, 100.0, 100.0],
            "service_segment": ["core", "precipitating", "maintaining", None],
            "asset_tier": ["large", "retail", "medium", None],
        }
    )
    # defaults: core 1.5, precipitating 0.5, maintaining 1.0; large 1.3, medium 1.1, retail 1.0
    assert priority_score(f).tolist() == pytest.approx([195.0, 50.0, 110.0, 100.0])
    cfg = TierConfig.model_validate(
        {"priority": {"weights": {"value_quadrant": {"A": 2.0}}, "missing_weight": 0.5}}
    )
    f2 = f.assign(value_quadrant=["A", "B", None, "A"])
    assert tier_weight(f2, cfg).tolist() == [2.0, 0.5, 0.5, 2.0]


def test_excluded_accounts_get_priority_zero_and_are_named():
    f = pd.DataFrame(
        {
            "value_at_risk": [100.0, 100.0, 100.0],
            "investor_type": ["institution", "ordinary", None],
            "total_assets": [1e6, 0.0, np.nan],
        }
    )
    assert exclusion(f).tolist() == ["institution", "no_assets", None]
    assert priority_score(f).tolist() == [0.0, 0.0, 100.0]


def test_priority_is_rounded_so_that_rank_follows_the_written_value():
    f = pd.DataFrame({"value_at_risk": [1 / 3]})
    assert priority_score(f).tolist() == [0.333333]


def test_rank_sorts_by_priority_then_account_id_with_excluded_last():
    f = _frame(
        ["core", "core", "maintaining", "core"],
        [5, 7, 7, 9],
        ids=["D", "C", "B", "A"],
        excluded=[None, None, None, "institution"],
    )
    ranked = rank_accounts(f)
    assert ranked["account_id"].tolist() == ["B", "C", "D", "A"]
    assert ranked["rank"].tolist() == [1, 2, 3, 4]


@pytest.mark.parametrize(
    ("capacity", "expected"),
    [(10, [6, 3, 1]), (7, [4, 2, 1]), (1, [1, 0, 0]), (3, [2, 1, 0]), (0, [0, 0, 0])],
)
def test_allocate_splits_capacity_by_largest_remainder(capacity, expected):
    assert allocate(capacity, [0.6, 0.3, 0.1]) == expected


def test_top_k_follows_the_effort_shares_so_the_list_is_not_one_segment():
    # 20 core accounts outrank everyone; 10 maintaining and 10 precipitating below them.
    segments = ["core"] * 20 + ["maintaining"] * 10 + ["precipitating"] * 10
    priorities = list(range(100, 80, -1)) + list(range(50, 40, -1)) + list(range(10, 0, -1))
    ranked = rank_accounts(_frame(segments, priorities), top=10)
    assert ranked["service_segment"].value_counts().to_dict() == {
        "core": 6,
        "maintaining": 3,
        "precipitating": 1,
    }
    # within each quota the best accounts are taken, and the list is sorted by priority
    assert ranked["priority_score"].tolist() == [100, 99, 98, 97, 96, 95, 50, 49, 48, 10]


def test_unused_quota_flows_to_the_best_remaining_accounts():
    # no precipitating accounts and only one maintaining: their quota goes to core/dormant
    segments = ["core"] * 8 + ["dormant"] * 4 + ["maintaining"]
    priorities = list(range(20, 12, -1)) + [30, 1, 1, 1] + [0.5]
    ranked = rank_accounts(_frame(segments, priorities), top=10)
    assert len(ranked) == 10
    assert ranked["service_segment"].value_counts().to_dict() == {
        "core": 8,
        "dormant": 1,
        "maintaining": 1,
    }


def test_excluded_accounts_only_fill_capacity_nobody_else_can():
    f = _frame(["core", "core", "core"], [0, 5, 0], excluded=["institution", None, None])
    assert rank_accounts(f, top=2)["account_id"].tolist() == ["A01", "A02"]
    assert rank_accounts(f, top=3)["account_id"].tolist() == ["A01", "A02", "A00"]


def test_select_returns_everyone_when_capacity_exceeds_the_population():
    f = _frame(["core", "maintaining"], [1, 2])
    assert list(select(f, 5, TierConfig().priority.effort)) == [0, 1]


def test_per_manager_capacity_cuts_each_book_by_the_quotas():
    cfg = TierConfig.model_validate({"priority": {"capacity": {"per_manager": 2}}})
    f = _frame(
        ["core", "core", "precipitating", "core", "maintaining", "core"],
        [9, 8, 1, 7, 6, 5],
        managers=["M1", "M1", "M1", "M2", "M2", None],
    )
    ranked = rank_accounts(f, cfg)
    # M1: 2 slots -> quotas core 1, maintaining 1, precipitating 0; maintaining unused -> core
    assert ranked["account_id"].tolist() == ["A00", "A01", "A03", "A04", "A05"]
    top = rank_accounts(f, cfg, top=3)
    assert top["account_id"].tolist() == ["A00", "A01", "A04"]


def test_ranking_is_deterministic_under_row_order():
    rng = np.random.default_rng(1)
    f = _frame(
        list(rng.choice(["core", "dormant", "maintaining", "precipitating"], 200)),
        list(rng.integers(0, 5, 200)),
    )
    first = rank_accounts(f, top=50)
    shuffled = rank_accounts(f.sample(frac=1, random_state=3), top=50)
    pd.testing.assert_frame_equal(first, shuffled)
