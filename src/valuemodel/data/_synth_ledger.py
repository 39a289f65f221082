"""The week's books and records: trading, margin, logins, monthly charges and statements.

Trade counts are Poisson with a rate that scales with the account kind, its engagement, the
market's pull, its state (dormant accounts almost never trade), recent losses (locked-in
losers trade less) and the novelty of a new account. Commission is charged to the account;
margin interest (on debt) and fund fees (on fund value) accrue weekly and are booked at the
last statement of each month, or at closing.
"""

from __future__ import annotations

import numpy as np

from valuemodel.data import _synth_activity as activity
from valuemodel.data import _synth_book as books
from valuemodel.data._synth_accounts import NEVER
from valuemodel.data._synth_market import BEAR, BULL, FUND
from valuemodel.data._synth_world import (
    ACTIVE,
    Recorder,
    State,
    World,
)

MARGIN_INTEREST, PRODUCT_FEE = 1, 2
REVENUE_KINDS = ("commission", "margin_interest", "product_fee")
_FUND_FEE = 0.01  # per year, on fund value
_TRADES_PER_WEEK = np.array([0.45, 3.5, 1.0, 4.0])  # by kind, at the account's usual engagement
_LOGINS_PER_DAY = np.array([0.15, 0.9, 0.3, 0.4])  # by kind, on a weekday
# By status (not open, active, dormant, leaving, churning, gone, closed): a closing account
# still logs in during its last week.
_STATUS_TRADING = np.array([0.0, 1.0, 0.01, 0.25, 0.0, 0.02, 0.0])
_STATUS_LOGINS = np.array([0.0, 1.0, 0.04, 0.5, 0.6, 0.03, 0.6])
_WEEK = 7.0 / 365.0


def trade(
    week: int,
    world: World,
    state: State,
    book: books.Book,
    rec: Recorder,
    opened: np.ndarray,
    started: np.ndarray,
) -> dict[str, np.ndarray]:
    """The week's trades (sell-offs of starting churners included), charged and recorded."""
    pop, rng, prices = world.pop, world.rng, world.week_prices[week]
    rows = np.flatnonzero(_STATUS_TRADING[state.status] > 0)
    is_new = np.zeros(pop.n, dtype=bool)
    is_new[opened] = True
    counts = rng.poisson(_trade_rate(week, world, state, rows))
    counts = np.where(is_new[rows], np.maximum(counts, 1), counts)
    net = books.net_assets(book, prices)
    regular = activity.regular_trades(np.repeat(rows, counts), week, world, state, book, net)
    sellers = started[state.selloff[started]]
    selloff = activity.selloff_trades(sellers, week, world, state, book)
    books.sell(book, sellers, np.full(len(sellers), np.inf), prices)
    trades = activity.sort_rows(
        {name: np.concatenate([regular[name], selloff[name]]) for name in regular}
    )
    charged = np.bincount(trades["acct"], weights=trades["commission"], minlength=pop.n)
    payers = np.flatnonzero(charged > 0)
    books.take(book, payers, charged[payers], prices)
    traded, n_trades = rows[counts > 0], counts[counts > 0]
    speed = np.where(is_new[traded], 0.9, 0.5)
    books.rebalance(book, traded, pop.cash_share[traded], speed, prices)
    rotating = traded[rng.random(len(traded)) < 1.0 - 0.8**n_trades]
    books.rotate(book, rotating, world.market, prices, rng)
    rec.add("trades", **trades)
    rec.add("revenue", **activity.commission_revenue(trades))
    return trades


def _trade_rate(week: int, world: World, state: State, rows: np.ndarray) -> np.ndarray:
    """Expected trades of ``rows`` this week."""
    pop, clock = world.pop, world.clock
    weeks_open = (int(clock.friday[week].astype(int)) - pop.open_day[rows]) / 7.0
    novelty = 1.0 + np.exp(-weeks_open / 13.0)
    engagement = np.exp(pop.engagement[rows] + state.engagement[rows])
    share_of_week = len(world.trading_days(week)) / 5.0
    return (
        _TRADES_PER_WEEK[pop.kind[rows]]
        * engagement
        * world.activity[week]
        * _STATUS_TRADING[state.status[rows]]
        * np.exp(-1.2 * state.loss()[rows])
        * novelty
        * share_of_week
    )


def margin(week: int, world: World, state: State, book: books.Book) -> None:
    """Margin traders borrow more in a bull market and less in a bear; forced sales."""
    pop, prices, regime = world.pop, world.week_prices[week], world.regime[week]
    rows = np.flatnonzero(pop.margin & (state.status == ACTIVE))
    appetite = 1.0 + 0.4 * (regime == BULL) - 0.3 * (regime == BEAR)
    books.adjust_margin(book, rows, pop.leverage[rows] * appetite, prices)
    others = np.flatnonzero((book.debt > 0) & (state.status != ACTIVE))
    books.maintain(book, others, prices)


def login(
    week: int,
    world: World,
    state: State,
    rec: Recorder,
    trades: dict[str, np.ndarray],
    closed: np.ndarray,
) -> None:
    """Record the week's login days; engaged accounts log in often, dormant ones rarely."""
    pop = world.pop
    rows = _open_or(closed, state)
    usual = _LOGINS_PER_DAY[pop.kind[rows]] * np.exp(pop.engagement[rows] + state.engagement[rows])
    chance = 1.0 - np.exp(-usual * _STATUS_LOGINS[state.status[rows]])
    rec.add("logins", **activity.logins(rows, chance, week, trades, world, state))


def accrue(week: int, world: World, state: State, book: books.Book) -> None:
    """A week of margin interest and fund fees."""
    values = books.values_by_product(book, world.week_prices[week], world.market)
    state.interest_due += book.debt * world.pop.margin_rate * _WEEK
    state.fee_due += values[:, FUND] * _FUND_FEE * _WEEK


def settle(
    week: int, world: World, state: State, book: books.Book, rec: Recorder, closed: np.ndarray
) -> None:
    """Book accrued interest and fees at month end (all accounts) or at closing."""
    if world.clock.month_end[week]:
        rows = np.flatnonzero((state.interest_due > 0) | (state.fee_due > 0))
    else:
        rows = closed
    day = _statement_days(rows, week, world, state)
    interest = np.round(state.interest_due[rows], 2)
    fee = np.round(state.fee_due[rows], 2)
    books.take(book, rows, interest, world.week_prices[week])
    for kind, amount in ((MARGIN_INTEREST, interest), (PRODUCT_FEE, fee)):
        keep = amount >= 0.01
        rec.add("revenue", acct=rows[keep].astype(np.int32), day=day[keep],
                amount=amount[keep], kind=np.full(keep.sum(), kind, dtype=np.int8))  # fmt: skip
    state.interest_due[rows] = 0.0
    state.fee_due[rows] = 0.0


def statement(
    week: int, world: World, state: State, book: books.Book, rec: Recorder, closed: np.ndarray
) -> None:
    """The weekly balance snapshot of every open (or just closed) account; positions at
    month end."""
    prices = world.week_prices[week]
    open_rows = np.flatnonzero(state.is_open())
    rows = _open_or(closed, state)
    values = np.round(books.values_by_product(book, prices, world.market)[rows], 2)
    cash, debt = np.round(book.cash[rows], 2), np.round(book.debt[rows], 2)
    total = np.maximum(np.round(cash + values.sum(axis=1) - debt, 2), 0.0)
    rec.add("balances", acct=rows.astype(np.int32), day=_statement_days(rows, week, world, state),
            cash=cash, stock=values[:, 0], fund=values[:, 1], bond=values[:, 2], debt=debt,
            total=total)  # fmt: skip
    if world.clock.month_end[week]:
        _positions(week, world, book, rec, open_rows)


def _positions(week: int, world: World, book: books.Book, rec: Recorder, rows: np.ndarray) -> None:
    """Holdings per account and symbol (two slots may hold the same symbol)."""
    value = books.slot_values(book, world.week_prices[week])
    slots = np.flatnonzero(book.slots_of(rows) & (value >= 0.005))
    key = book.owner[slots].astype(np.int64) * 1024 + book.symbol[slots]
    unique, where = np.unique(key, return_inverse=True)
    acct = (unique // 1024).astype(np.int32)
    day = np.full(len(acct), world.clock.statement[week].astype(int), dtype=np.int32)
    rec.add("positions", acct=acct, day=day, symbol=(unique % 1024).astype(np.int16),
            value=np.round(np.bincount(where, value[slots]), 2),
            cost=np.round(np.bincount(where, book.cost[slots]), 2))  # fmt: skip


def _open_or(closed: np.ndarray, state: State) -> np.ndarray:
    """Open accounts and those that closed this week, in account order."""
    listed = state.is_open()
    listed[closed] = True
    return np.flatnonzero(listed)


def _statement_days(rows: np.ndarray, week: int, world: World, state: State) -> np.ndarray:
    """The statement date of ``week``, or the close day of an account that closed in it."""
    close = state.close_day[rows]
    return np.where(close != NEVER, close, world.clock.statement[week].astype(int)).astype(
        np.int32
    )
