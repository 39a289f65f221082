"""What accounts do in a week, as rows: trades (and the commission they earn) and logins.

Trades are drawn from the account's holding slots (or, for accounts with the permission, ETF
options and treasury reverse repos), sized as a share of net assets, priced at the day's close
within 1 %, rounded to the board lot and never below ``MIN_TRADE_AMOUNT``, so that the
per-trade minimum commission never lifts an effective rate above 0.25 %.
"""

from __future__ import annotations

import numpy as np

from valuemodel.data import _synth_book as books
from valuemodel.data._synth_accounts import LOGIN_CHANNELS
from valuemodel.data._synth_book import Book
from valuemodel.data._synth_market import OPTION, OTHER
from valuemodel.data._synth_world import State, World

MIN_COMMISSION = 5.0
MIN_TRADE_AMOUNT = 2000.0
BUY, SELL = 0, 1
COMMISSION = 0
_TRADE_SIZE = np.array([0.25, 0.15, 0.06, 0.02])  # median share of net assets, by kind
_OPTION_LOT, _REPO_LOT, _REPO_PRICE = 10_000, 10, 100.0
_WEEKEND = np.array([True, True, False, False, False, False, False])  # Sat, Sun, Mon..Fri


def event_days(acct: np.ndarray, week: int, world: World, state: State) -> np.ndarray:
    """A trading day of ``week`` per event, within the account's open life."""
    days = world.trading_days(week)
    day = days[(world.rng.random(len(acct)) * len(days)).astype(np.int64)]
    return np.clip(day, world.pop.open_day[acct], state.close_day[acct])


def regular_trades(
    acct: np.ndarray, week: int, world: World, state: State, book: Book, net: np.ndarray
) -> dict[str, np.ndarray]:
    """One trade per element of ``acct`` (repeated for several trades) in ``week``."""
    rng, pop = world.rng, world.pop
    n = len(acct)
    slot = (rng.random(n) * pop.n_slots[acct]).astype(np.int64)
    symbol = book.symbol[book.first[acct] + slot].astype(np.int64)
    target = net[acct] * _TRADE_SIZE[pop.kind[acct]] * rng.lognormal(0.0, 0.6, n)
    option = pop.options_ok[acct] & (rng.random(n) < 0.35)
    repo = pop.repo_ok[acct] & ~option & (rng.random(n) < 0.15)
    n_listed, n_options = world.n_symbols, len(world.market.option_codes)
    symbol = np.where(option, n_listed + rng.integers(0, n_options, n), symbol)
    repo_code = np.searchsorted([0.7, 0.9], rng.random(n))
    symbol = np.where(repo, n_listed + n_options + repo_code, symbol)
    target = np.where(option, net[acct] * 0.02 * rng.lognormal(0.0, 0.6, n), target)
    target = np.where(repo, np.maximum(book.cash[acct], 0.0) * rng.uniform(0.3, 1.0, n), target)
    side = np.where(rng.random(n) < 0.5, BUY, SELL)
    day = event_days(acct, week, world, state)
    return _priced(acct, day, symbol, target, side, world)


def selloff_trades(
    rows: np.ndarray, week: int, world: World, state: State, book: Book
) -> dict[str, np.ndarray]:
    """A churner's sales of every holding, sized at each slot's value."""
    value = books.slot_values(book, world.week_prices[week])
    slots = np.flatnonzero(book.slots_of(rows) & (value >= 1.0))
    acct = book.owner[slots].astype(np.int64)
    day = event_days(acct, week, world, state)
    side = np.full(len(acct), SELL)
    symbol = book.symbol[slots].astype(np.int64)
    return _priced(acct, day, symbol, value[slots], side, world)


def _priced(
    acct: np.ndarray,
    day: np.ndarray,
    symbol: np.ndarray,
    target: np.ndarray,
    side: np.ndarray,
    world: World,
) -> dict[str, np.ndarray]:
    """Price, board-lot quantity, amount and commission of trades aimed at ``target`` CNY."""
    rng, market, n = world.rng, world.market, len(acct)
    listed = symbol < world.n_symbols
    n_listed_plus_options = world.n_symbols + len(market.option_codes)
    option = ~listed & (symbol < n_listed_plus_options)
    listed_symbol = np.where(listed, symbol, 0)
    day_index = np.searchsorted(world.day_number, day)
    close = market.prices[day_index, listed_symbol] * rng.uniform(0.99, 1.01, n)
    tick = market.tick[listed_symbol]
    price = np.where(listed, np.round(close / tick) * tick, _REPO_PRICE)
    option_price = np.clip(np.round(rng.lognormal(np.log(0.12), 0.9, n), 4), 0.0005, None)
    price = np.round(np.where(option, option_price, price), 4)
    lot = np.where(listed, market.lot[listed_symbol], np.where(option, _OPTION_LOT, _REPO_LOT))
    lot_value = price * lot
    lots = np.maximum(np.round(target / lot_value), np.ceil(MIN_TRADE_AMOUNT / lot_value))
    quantity = (lots * lot).astype(np.int64)
    amount = np.round(quantity * price, 2)
    rate = world.pop.rate[acct]
    commission = _up_to_cent(np.maximum(rate * amount, MIN_COMMISSION))
    product = np.where(listed, market.product[listed_symbol], np.where(option, OPTION, OTHER))
    return {
        "acct": acct.astype(np.int32),
        "day": day.astype(np.int32),
        "side": side.astype(np.int8),
        "product": product.astype(np.int8),
        "symbol": symbol.astype(np.int16),
        "quantity": quantity,
        "price": price,
        "amount": amount,
        "commission": commission,
    }


def no_trades() -> dict[str, np.ndarray]:
    """An empty week of trades."""
    return {"acct": np.empty(0, np.int32), "day": np.empty(0, np.int32)}


def _up_to_cent(amount: np.ndarray) -> np.ndarray:
    """Round up to the cent, so no commission falls below its rate."""
    return np.ceil(np.round(amount * 100.0, 6)) / 100.0


def sort_rows(rows: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The rows ordered by day, then account."""
    order = np.lexsort((rows["acct"], rows["day"]))
    return {name: column[order] for name, column in rows.items()}


def commission_revenue(trades: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Commission revenue per account and trade day; ``trades`` sorted by day and account."""
    acct, day = trades["acct"], trades["day"]
    if not len(acct):
        return {"acct": acct, "day": day, "amount": np.empty(0), "kind": np.empty(0, np.int8)}
    starts = np.flatnonzero(np.r_[True, (acct[1:] != acct[:-1]) | (day[1:] != day[:-1])])
    amount = np.round(np.add.reduceat(trades["commission"], starts), 2)
    return {
        "acct": acct[starts],
        "day": day[starts],
        "amount": amount,
        "kind": np.full(len(starts), COMMISSION, dtype=np.int8),
    }


def logins(
    rows: np.ndarray,
    chance: np.ndarray,
    week: int,
    trades: dict[str, np.ndarray],
    world: World,
    state: State,
) -> dict[str, np.ndarray]:
    """Login days of ``rows`` in ``week``: each calendar day with ``chance`` (less on weekends),
    and every trade day."""
    rng, pop, clock = world.rng, world.pop, world.clock
    first = int(clock.friday[week].astype(int)) - 6
    calendar = first + np.arange(7)
    daily = chance[:, None] * np.where(_WEEKEND, 0.3, 1.0)[None, :]
    mask = rng.random((len(rows), 7)) < daily
    position = np.full(pop.n, -1, dtype=np.int64)
    position[rows] = np.arange(len(rows))
    traded = position[trades["acct"]]
    mask[traded[traded >= 0], trades["day"][traded >= 0] - first] = True
    earliest = np.maximum(pop.open_day[rows], clock.start.astype(int))
    latest = np.minimum(state.close_day[rows], clock.end.astype(int))
    mask &= (calendar[None, :] >= earliest[:, None]) & (calendar[None, :] <= latest[:, None])
    r, c = np.nonzero(mask)
    acct = rows[r]
    usual = rng.random(len(acct)) < 0.85
    other = rng.integers(0, len(LOGIN_CHANNELS), len(acct))
    channel = np.where(usual, pop.login_channel[acct], other)
    return {"acct": acct.astype(np.int32), "day": calendar[c].astype(np.int32),
            "channel": channel.astype(np.int8)}  # fmt: skip
