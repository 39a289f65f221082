"""Who is in the population at T (docs/data-contract.md, "Time")."""

from __future__ import annotations

from tests.features.conftest import frame
from valuemodel import engine
from valuemodel.features import population

T = "2025-06-30"
TRADES = "account_id trade_date amount commission"


def members(data, as_of=T, **kwargs) -> set[str]:
    return set(engine.execute(population(data, as_of, **kwargs)).account_id)


def test_opened_not_closed_and_holding_assets(make_data):
    accounts = [
        ("open", "2020-01-01", None),
        ("future", "2025-07-01", None),  # opens after T
        ("closed_on_t", "2020-01-01", "2025-06-30"),
        ("closes_later", "2020-01-01", "2025-07-01"),
        ("exactly_min", "2020-01-01", None),
        ("below_min", "2020-01-01", None),
        ("only_later_snapshot", "2020-01-01", None),
    ]
    balances = [
        ("open", "2025-01-01", 5_000.0),
        ("future", "2025-07-02", 5_000.0),
        ("closed_on_t", "2025-01-01", 5_000.0),
        ("closes_later", "2025-01-01", 5_000.0),
        ("exactly_min", "2025-06-30", 1_000.0),
        ("below_min", "2025-06-30", 999.99),
        ("below_min", "2025-05-01", 9_999.0),  # superseded by the later snapshot
        ("only_later_snapshot", "2025-07-01", 9_999.0),
    ]
    data = make_data(
        trades=frame([("open", "2025-01-01", 1.0, 0.0)], TRADES),
        accounts=frame(accounts, "account_id open_date close_date"),
        balances=frame(balances, "account_id date total_assets"),
    )
    assert members(data) == {"open", "closes_later", "exactly_min"}
    assert members(data, min_assets=5_000.0) == {"open", "closes_later"}


def test_without_balances_a_trade_in_the_last_365_days_is_needed(make_data):
    trades = [
        ("on_t", "2025-06-30", 1.0, 0.0),
        ("day_364", "2024-07-01", 1.0, 0.0),  # T - 364: inside (T-365, T]
        ("day_365", "2024-06-30", 1.0, 0.0),  # T - 365: outside
        ("after_t", "2025-07-01", 1.0, 0.0),
    ]
    data = make_data(trades=frame(trades, TRADES))
    assert members(data) == {"on_t", "day_364"}


def test_several_as_of_dates_in_one_table(make_data):
    trades = [("a", "2024-01-15", 1.0, 0.0), ("b", "2025-06-01", 1.0, 0.0)]
    data = make_data(trades=frame(trades, TRADES))
    got = engine.execute(population(data, ["2024-06-30", T]))
    pairs = {(r.account_id, str(r.as_of)[:10]) for r in got.itertuples()}
    assert pairs == {("a", "2024-06-30"), ("b", "2025-06-30")}
