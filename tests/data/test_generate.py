"""Plausibility of the synthetic brokerage: the headline rates are pinned, so that the generator
cannot silently drift into data no brokerage would produce.

The bands (measured over seeds 1-12 at a few thousand accounts, then widened):
quarterly churn of the holding population 2-10 %, effective commission rates 1-30 bp, dormant
share (assets >= 1,000 CNY, no trade in 180 days) 10-35 %, 15-25 % of accounts opened during
the period.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from valuemodel.data import generate as generate_module
from valuemodel.data.generate import (
    GENERATION_STAGES,
    generate_brokerage,
    market_history,
    write_brokerage,
)
from valuemodel.data.schema import TABLES
from valuemodel.errors import InputError

N_ACCOUNTS, SEED = 2500, 7
START, END = pd.Timestamp("2024-01-01"), pd.Timestamp("2025-12-31")
QUARTER_ENDS = ["2024-03-29", "2024-06-28", "2024-09-30", "2024-12-31", "2025-03-31",
                "2025-06-30", "2025-09-30"]  # fmt: skip
DATED = {"trades": "trade_date", "balances": "date", "cashflows": "date", "positions": "date",
         "logins": "date", "revenue": "date"}  # fmt: skip


@pytest.fixture(scope="module")
def brokerage() -> dict[str, pd.DataFrame]:
    return generate_brokerage(N_ACCOUNTS, START.date(), END.date(), seed=SEED)


@pytest.fixture(scope="module")
def ordered_balances(brokerage) -> pd.DataFrame:
    return brokerage["balances"].sort_values(["date", "account_id"], kind="stable")


def _assets_at(balances: pd.DataFrame, day: pd.Timestamp) -> pd.Series:
    """total_assets per account at ``day``: the latest snapshot on or before it."""
    return balances[balances.date <= day].groupby("account_id").total_assets.last()


def _population(tables, balances, as_of: pd.Timestamp) -> pd.Series:
    """Assets at ``as_of`` of the population (open, total_assets >= 1,000)."""
    accounts = tables["accounts"]
    open_ = accounts[(accounts.open_date <= as_of) & ~(accounts.close_date <= as_of)]
    assets = _assets_at(balances, as_of)
    assets = assets[assets.index.isin(open_.account_id)]
    return assets[assets >= 1000]


def _churned(tables, balances, as_of: pd.Timestamp, horizon: int = 90) -> pd.Series:
    """The 'assets' churn rule (docs/data-contract.md): closes in (T, T+H] or assets at
    T+H < 20 % of assets at T."""
    before = _population(tables, balances, as_of)
    end = as_of + pd.Timedelta(days=horizon)
    after = _assets_at(balances, end).reindex(before.index)
    close = tables["accounts"].set_index("account_id").close_date.reindex(before.index)
    return ((close > as_of) & (close <= end)) | (after < 0.2 * before)


def _trading_days(trades: pd.DataFrame, index: pd.Index, first, last) -> pd.Series:
    window = trades[(trades.trade_date > first) & (trades.trade_date <= last)]
    return window.groupby("account_id").trade_date.nunique().reindex(index, fill_value=0)


def _auc(score: pd.Series, label: pd.Series) -> float:
    """Probability that a random positive scores above a random negative (ties count half)."""
    ranks = score.rank()
    positives = label.sum()
    negatives = len(label) - positives
    return float((ranks[label].sum() - positives * (positives + 1) / 2) / (positives * negatives))


# --- shape of the tables -------------------------------------------------------------------


def test_returns_the_eight_contract_tables_with_every_column_in_order(brokerage):
    assert list(brokerage) == list(TABLES)
    for name, frame in brokerage.items():
        assert list(frame.columns) == [c.name for c in TABLES[name].columns], name
        assert len(frame) > 0, name


def test_ids_are_pseudonymous_strings(brokerage):
    accounts = brokerage["accounts"]
    assert accounts.account_id.str.fullmatch(r"A\d{7}").all()
    assert accounts.manager_id.dropna().str.fullmatch(r"M\d{3}").all()
    assert accounts.branch.str.fullmatch(r"BR\d{2}").all()
    symbols = brokerage["trades"].symbol.astype(str)
    assert symbols.str.fullmatch(r"\d{6}|\d{8}").all()


def test_dates_are_dates_at_midnight(brokerage):
    for name, column in {**DATED, "accounts": "open_date"}.items():
        values = brokerage[name][column]
        assert pd.api.types.is_datetime64_dtype(values), name
        assert (values == values.dt.normalize()).all(), name


def test_categorical_columns_use_the_contract_vocabulary(brokerage):
    accounts, trades = brokerage["accounts"], brokerage["trades"]
    assert set(trades.side) == {"buy", "sell"}
    assert set(trades["product"]) == {"stock", "fund", "bond", "option", "other"}
    assert trades["product"].value_counts(normalize=True)["stock"] > 0.6
    assert set(accounts.gender.dropna()) == {"M", "F"}
    assert set(accounts.risk_level) == {"C1", "C2", "C3", "C4", "C5"}
    assert set(accounts.investor_type) == {"ordinary", "professional", "institution"}
    assert set(brokerage["revenue"].kind) == {"commission", "margin_interest", "product_fee"}


def test_people_have_demographics_and_institutions_do_not(brokerage):
    accounts = brokerage["accounts"]
    institution = accounts.investor_type == "institution"
    assert 0.005 < institution.mean() < 0.04
    assert accounts.birth_year[institution].isna().all()
    assert accounts.gender[institution].isna().all()
    assert accounts.birth_year[~institution].notna().all()
    age_at_open = accounts.open_date.dt.year - accounts.birth_year
    assert (age_at_open[~institution] >= 17).all()


def test_each_manager_works_in_one_of_about_twelve_branches(brokerage):
    accounts = brokerage["accounts"]
    assert 10 <= accounts.branch.nunique() <= 12
    assert accounts.groupby("manager_id").branch.nunique().max() == 1
    assert 0.3 < accounts.manager_id.isna().mean() < 0.6


# --- determinism ---------------------------------------------------------------------------


def test_the_same_seed_gives_identical_tables():
    first = generate_brokerage(200, "2024-01-01", "2024-09-30", seed=3)
    second = generate_brokerage(200, "2024-01-01", "2024-09-30", seed=3)
    assert list(first) == list(TABLES)
    for name in TABLES:
        pd.testing.assert_frame_equal(first[name], second[name])


def test_different_seeds_give_different_tables():
    first = generate_brokerage(200, "2024-01-01", "2024-06-30", seed=3)
    second = generate_brokerage(200, "2024-01-01", "2024-06-30", seed=4)
    assert not first["trades"].equals(second["trades"])
    assert not first["accounts"].equals(second["accounts"])


# --- the contract's value rules and referential integrity ----------------------------------


def test_amounts_satisfy_the_contract(brokerage):
    trades = brokerage["trades"]
    assert (trades.amount > 0).all()
    assert (trades.commission >= 0).all()
    assert (trades.price > 0).all()
    assert (brokerage["balances"].total_assets >= 0).all()
    for column in ("stock_value", "fund_value", "bond_value", "margin_debt"):
        assert (brokerage["balances"][column] >= 0).all(), column
    assert (brokerage["positions"].market_value >= 0).all()
    assert (brokerage["revenue"].amount >= 0).all()
    assert (brokerage["cashflows"].amount != 0).all()


def test_trades_are_board_lots_priced_at_quantity_times_price(brokerage):
    trades = brokerage["trades"]
    stocks = trades[trades["product"] == "stock"]
    assert (stocks.quantity % 100 == 0).all()
    assert np.allclose(trades.amount, trades.quantity * trades.price, rtol=0, atol=0.01)


def test_every_account_in_every_table_exists_in_accounts(brokerage):
    known = set(brokerage["accounts"].account_id)
    assert brokerage["accounts"].account_id.is_unique
    for name in DATED:
        assert set(brokerage[name].account_id) <= known, name


def test_no_row_before_opening_or_after_closing(brokerage):
    life = brokerage["accounts"].set_index("account_id")[["open_date", "close_date"]]
    for name, column in DATED.items():
        rows = brokerage[name].join(life, on="account_id")
        assert (rows[column] >= rows.open_date).all(), name
        assert not (rows[column] > rows.close_date).any(), name
        assert rows[column].between(START, END).all(), name


def test_balances_are_unique_per_account_and_date(brokerage):
    assert not brokerage["balances"].duplicated(["account_id", "date"]).any()
    assert not brokerage["positions"].duplicated(["account_id", "date", "symbol"]).any()


def test_total_assets_are_the_parts_net_of_margin_debt(brokerage):
    b = brokerage["balances"]
    parts = b.cash + b.stock_value + b.fund_value + b.bond_value - b.margin_debt
    assert np.allclose(b.total_assets, parts.clip(lower=0), atol=0.011)


def test_positions_add_up_to_the_holdings_of_the_same_statement(brokerage):
    positions = brokerage["positions"].groupby(["account_id", "date"]).market_value.sum()
    b = brokerage["balances"].set_index(["account_id", "date"])
    held = (b.stock_value + b.fund_value + b.bond_value).reindex(positions.index)
    assert np.allclose(positions, held, atol=0.1)
    assert positions.index.get_level_values("date").nunique() == 24


def test_commission_revenue_equals_the_trades_commissions_per_account_and_day(brokerage):
    trades = brokerage["trades"]
    revenue = brokerage["revenue"]
    booked = revenue[revenue.kind == "commission"].set_index(["account_id", "date"]).amount
    earned = trades.groupby(["account_id", "trade_date"]).commission.sum()
    earned.index.names = ["account_id", "date"]
    assert len(booked) == len(earned)
    assert np.allclose(booked.sort_index(), earned.sort_index(), atol=0.005)


def test_closed_accounts_end_with_an_empty_statement_on_their_close_date(brokerage):
    closed = brokerage["accounts"].dropna(subset=["close_date"]).set_index("account_id")
    last = brokerage["balances"].sort_values("date").groupby("account_id").last()
    last = last.reindex(closed.index)
    assert (last.date == closed.close_date).all()
    assert (last.total_assets == 0).all()


# --- headline rates ------------------------------------------------------------------------


def test_quarterly_churn_of_the_holding_population_is_between_2_and_10_percent(
    brokerage, ordered_balances
):
    rates = [_churned(brokerage, ordered_balances, pd.Timestamp(t)).mean() for t in QUARTER_ENDS]
    assert all(0.02 <= r <= 0.10 for r in rates), rates
    assert 0.03 <= np.mean(rates) <= 0.07


def test_some_churners_close_and_others_leave_a_residue(brokerage, ordered_balances):
    as_of = pd.Timestamp("2024-09-30")
    churned = _churned(brokerage, ordered_balances, as_of)
    closes = brokerage["accounts"].set_index("account_id").close_date.reindex(churned.index)
    closing = closes.between(as_of, as_of + pd.Timedelta(days=90))
    share_closing = closing[churned].mean()
    assert 0.2 <= share_closing <= 0.7


def test_effective_commission_rates_are_between_1_and_30_basis_points(brokerage):
    totals = brokerage["trades"].groupby("account_id")[["commission", "amount"]].sum()
    effective = totals.commission / totals.amount
    assert effective.between(0.0001 - 1e-12, 0.003).all(), effective.describe()  # float slack
    assert 0.0002 <= effective.median() <= 0.001
    assert (effective > 0.001).mean() > 0.02  # legacy rates above peers exist


def test_every_trade_pays_at_least_the_minimum_commission(brokerage):
    assert brokerage["trades"].commission.min() >= 5.0
    assert (brokerage["trades"].commission == 5.0).mean() > 0.2


def test_dormant_share_of_holders_stays_between_10_and_35_percent(brokerage, ordered_balances):
    trades = brokerage["trades"]
    for as_of in map(pd.Timestamp, QUARTER_ENDS[2:] + ["2025-12-31"]):
        holders = _population(brokerage, ordered_balances, as_of).index
        days = _trading_days(trades, holders, as_of - pd.Timedelta(days=180), as_of)
        share = (days == 0).mean()
        assert 0.10 <= share <= 0.35, (as_of, share)


def test_some_dormant_accounts_wake_up(brokerage, ordered_balances):
    trades, as_of = brokerage["trades"], pd.Timestamp("2024-09-30")
    holders = _population(brokerage, ordered_balances, as_of).index
    before = _trading_days(trades, holders, as_of - pd.Timedelta(days=180), as_of)
    after = _trading_days(trades, holders, as_of, as_of + pd.Timedelta(days=180))
    woke = (after[before == 0] >= 3).mean()
    assert 0.03 <= woke <= 0.5


def test_about_a_fifth_of_accounts_open_during_the_period(brokerage):
    opened = brokerage["accounts"].open_date
    assert 0.15 <= (opened >= START).mean() <= 0.25
    assert opened.min() < START - pd.DateOffset(years=5)
    newcomers = opened[opened >= START]
    assert newcomers.dt.to_period("Q").nunique() == 8


def test_assets_are_lognormal_by_kind_with_a_retail_median_near_50k(brokerage, ordered_balances):
    assets = _population(brokerage, ordered_balances, pd.Timestamp("2024-06-28"))
    kinds = brokerage["accounts"].set_index("account_id").investor_type.reindex(assets.index)
    assert 25e3 <= assets[kinds == "ordinary"].median() <= 100e3
    assert assets[kinds == "institution"].median() > 5e6
    assert 0.05 <= (assets >= 1e6).mean() <= 0.15


def test_trading_follows_the_market(brokerage):
    """Trades per trading day rise with the share of bull days and the index's 4-week return."""
    market = market_history(START.date(), END.date(), seed=SEED)
    week = market.date.dt.to_period("W-FRI")
    regime = market.regime.groupby(week)
    bullish = regime.apply(lambda r: r.eq("bull").mean() - r.eq("bear").mean())
    close = market.index_close.groupby(week).last()
    momentum = np.log(close / close.shift(4))
    trades = brokerage["trades"]
    per_day = trades.groupby(trades.trade_date.dt.to_period("W-FRI")).size() / regime.size()
    per_day = per_day.dropna()
    assert np.corrcoef(per_day, bullish.reindex(per_day.index))[0, 1] > 0.5
    later = per_day.index[4:]
    assert np.corrcoef(per_day[later], momentum.reindex(later))[0, 1] > 0.3
    assert 1500 < market.index_close.iloc[0] < 5000


def test_losers_are_visible_in_assets_net_of_flows(brokerage, ordered_balances):
    first = ordered_balances.groupby("account_id").total_assets.first()
    last = ordered_balances.groupby("account_id").total_assets.last()
    flows = brokerage["cashflows"].groupby("account_id").amount.sum().reindex(first.index)
    profit = last - first - flows.fillna(0)
    assert 0.15 <= (profit < -1).mean() <= 0.95  # depends on the market: most lose in a bear
    assert (profit > 1).mean() >= 0.1


def test_churners_move_most_assets_out_through_withdrawals(brokerage, ordered_balances):
    as_of, horizon = pd.Timestamp("2024-12-31"), pd.Timedelta(days=90)
    churned = _churned(brokerage, ordered_balances, as_of)
    assets = _population(brokerage, ordered_balances, as_of)
    flows = brokerage["cashflows"]
    window = flows[(flows.date > as_of) & (flows.date <= as_of + horizon) & (flows.amount < 0)]
    out = -window.groupby("account_id").amount.sum().reindex(assets.index, fill_value=0)
    moved = out / assets
    assert moved[churned].median() >= 0.7
    assert moved[~churned].median() <= 0.05


def test_churn_is_partly_visible_before_it_happens(brokerage, ordered_balances):
    """Churners traded less in the 90 days before T and paid higher rates, but not always."""
    rows = []
    for as_of in map(pd.Timestamp, QUARTER_ENDS[1:]):
        churned = _churned(brokerage, ordered_balances, as_of)
        trades = brokerage["trades"]
        days = _trading_days(trades, churned.index, as_of - pd.Timedelta(days=90), as_of)
        paid = trades[trades.trade_date <= as_of].groupby("account_id")[["commission", "amount"]]
        rate = (paid.sum().commission / paid.sum().amount).reindex(churned.index)
        rows.append(pd.DataFrame({"churned": churned, "days": days, "rate": rate}))
    data = pd.concat(rows)
    means = data.groupby("churned")[["days", "rate"]].mean()
    assert means.days[True] < 0.85 * means.days[False]
    assert means.rate[True] > 1.05 * means.rate[False]
    auc = _auc(-data.days, data.churned)
    assert 0.53 <= auc <= 0.85
    assert (data.days[data.churned] > data.days[~data.churned].median()).mean() > 0.15


# --- writing -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small() -> dict[str, pd.DataFrame]:
    return generate_brokerage(100, "2024-01-01", "2024-04-30", seed=1)


def test_write_brokerage_writes_one_parquet_file_per_table(small, tmp_path):
    out = tmp_path / "data"
    paths = write_brokerage(small, out)
    assert sorted(p.name for p in paths) == sorted(f"{t}.parquet" for t in small)
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in paths)
    schema = pq.read_schema(out / "trades.parquet")
    assert str(schema.field("trade_date").type) == "date32[day]"
    assert str(schema.field("account_id").type) == "string"
    assert str(schema.field("symbol").type) == "string"
    back = pq.read_table(out / "balances.parquet").to_pandas()
    assert np.array_equal(back.total_assets, small["balances"].total_assets)
    assert list(tmp_path.iterdir()) == [out]


def test_write_brokerage_replaces_files_of_an_existing_directory(small, tmp_path):
    out = tmp_path / "data"
    out.mkdir()
    (out / "trades.csv").write_text("account_id,trade_date,amount,commission\n")
    (out / "notes.txt").write_text("kept")
    write_brokerage({"trades": small["trades"]}, out)
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt", "trades.parquet"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_write_brokerage_changes_nothing_when_writing_fails(small, tmp_path, monkeypatch):
    out = tmp_path / "data"
    write_brokerage({"accounts": small["accounts"]}, out)
    before = (out / "accounts.parquet").read_bytes()
    calls = []

    def failing_write(table, where, **kwargs):
        calls.append(where)
        if len(calls) == 2:
            raise OSError("disk full")
        pq.write_table(table, where, **kwargs)

    monkeypatch.setattr(generate_module.pq, "write_table", failing_write)
    with pytest.raises(OSError, match="disk full"):
        write_brokerage({"accounts": small["accounts"].head(3), "trades": small["trades"]}, out)
    assert sorted(p.name for p in out.iterdir()) == ["accounts.parquet"]
    assert (out / "accounts.parquet").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_write_brokerage_rejects_a_table_outside_the_contract(small, tmp_path):
    with pytest.raises(InputError, match="not contract tables: prices"):
        write_brokerage({"prices": small["trades"]}, tmp_path / "data")
    assert not (tmp_path / "data").exists()


# --- arguments and progress ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_accounts": 0}, "n_accounts must be at least 1, got 0"),
        ({"n_accounts": 2.5}, "n_accounts must be an integer"),
        ({"start": "2024-02-30"}, re.escape("start: not a date: '2024-02-30'")),
        ({"start": "2025-01-01", "end": "2024-12-31"}, "must be at least 7 days after start"),
    ],
)
def test_generate_brokerage_rejects_bad_arguments(kwargs, message):
    arguments = {"n_accounts": 10, **kwargs}
    with pytest.raises(InputError, match=message):
        generate_brokerage(**arguments)


def test_progress_is_told_every_stage_in_order():
    stages = []
    generate_brokerage(20, "2024-01-01", "2024-02-29", seed=2, progress=stages.append)
    assert stages == list(GENERATION_STAGES)


def test_the_20_account_fixture_is_small_valid_and_complete(tiny_brokerage):
    from valuemodel.data import open_data, validate

    files = sorted(tiny_brokerage.iterdir())
    assert [f.stem for f in files] == sorted(
        [
            "accounts",
            "balances",
            "cashflows",
            "contacts",
            "logins",
            "positions",
            "revenue",
            "trades",
        ]
    )
    assert sum(f.stat().st_size for f in files) < 1_000_000
    report = validate(open_data(tiny_brokerage))
    assert report.ok, report.errors
    assert report.rows["accounts.parquet"] == 20
    assert report.rows["trades.parquet"] > 100
