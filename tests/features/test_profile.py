"""Profile features from the accounts table."""

from __future__ import annotations

import math

from tests.features.conftest import frame, row
from valuemodel.features import build_features
from valuemodel.features.config import FeatureConfig

PROFILE = FeatureConfig(families=("profile",))
TRADES = frame(
    [("a", "2025-06-01", 1.0, 0.0), ("b", "2025-06-01", 1.0, 0.0)],
    "account_id trade_date amount commission",
)


def test_age_and_categories_pass_through(make_data):
    accounts = frame(
        [
            ("a", "2020-01-01", 1980, "F", "C3", "ordinary", "app", "BR01"),
            ("b", "2020-01-01", None, None, None, None, None, None),
        ],
        "account_id open_date birth_year gender risk_level investor_type channel branch",
    )
    df = build_features(make_data(trades=TRADES, accounts=accounts), "2025-06-30", PROFILE)
    a, b = row(df, "a"), row(df, "b")
    assert a.age == 45
    assert (a.gender, a.risk_level, a.investor_type, a.channel, a.branch) == (
        "F",
        "C3",
        "ordinary",
        "app",
        "BR01",
    )
    assert math.isnan(b.age) and str(b.gender) == "nan"
    assert list(df.risk_level.cat.categories) == ["C1", "C2", "C3", "C4", "C5"]
    assert list(df.branch.cat.categories) == ["BR01"]


def test_absent_columns_give_no_feature(make_data):
    accounts = frame(
        [("a", "2020-01-01", "M"), ("b", "2020-01-01", "F")], "account_id open_date gender"
    )
    df = build_features(make_data(trades=TRADES, accounts=accounts), "2025-06-30", PROFILE)
    assert list(df.columns) == ["account_id", "as_of", "gender"]
    no_accounts = build_features(make_data(trades=TRADES), "2025-06-30", PROFILE)
    assert list(no_accounts.columns) == ["account_id", "as_of"]
