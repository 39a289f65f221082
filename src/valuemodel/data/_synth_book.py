"""Each account's book: cash, margin debt and a few holding slots valued at market prices.

Account ``i`` has ``n_slots[i]`` holding slots, each a symbol with a quantity and a cost basis,
and a target weight (concentrated for retail, spread out for institutions). The slots of all
accounts are stored flat, account after account (``owner`` says whose a slot is), so that a
retail account with two holdings costs two slots, not a fixed-width row. Money that comes in
is invested across the slots by weight; money that goes out (withdrawals, commissions,
interest) comes from cash first, then from selling every slot in proportion. Margin accounts
borrow against their holdings and are force-sold below a maintenance ratio of 130 %. Net
assets (what ``total_assets`` reports) are ``cash + holdings - margin_debt``, never negative.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from valuemodel.data._synth_accounts import Population
from valuemodel.data._synth_market import BOND, FUND, STOCK, Market

_CONCENTRATION = np.array([0.6, 0.9, 1.5, 2.0])  # Dirichlet alpha of slot weights, by kind
_MAINTENANCE, _RESTORED = 1.3, 1.6
# Chance that a slot holds a stock / fund / bond, by kind; fund lovers hold mostly funds.
_PRODUCT_MIX = np.array(
    [[0.90, 0.08, 0.02], [0.94, 0.06, 0.0], [0.72, 0.18, 0.10], [0.72, 0.08, 0.20]]
)
_FUND_LOVER_MIX = np.array([0.40, 0.60, 0.0])


@dataclass
class Book:
    """Flat slot arrays (``owner``, ``symbol``, ``quantity``, ``cost``, ``weight``), the
    first slot of each account (``first``), and per-account ``cash`` and margin ``debt``."""

    owner: np.ndarray
    first: np.ndarray
    symbol: np.ndarray
    quantity: np.ndarray
    cost: np.ndarray
    weight: np.ndarray
    cash: np.ndarray
    debt: np.ndarray

    @property
    def n(self) -> int:
        return len(self.cash)

    def spread(self, rows: np.ndarray, values: np.ndarray, fill: float = 0.0) -> np.ndarray:
        """A per-slot array: ``values`` for the slots of ``rows``, ``fill`` elsewhere."""
        full = np.full(self.n, fill)
        full[rows] = values
        return full[self.owner]

    def slots_of(self, rows: np.ndarray) -> np.ndarray:
        """A per-slot mask of the slots of ``rows``."""
        mine = np.zeros(self.n, dtype=bool)
        mine[rows] = True
        return mine[self.owner]


def open_book(pop: Population, market: Market, rng: np.random.Generator) -> Book:
    """Empty books with slot symbols and target weights drawn; nothing invested yet."""
    n_slots = pop.n_slots.astype(np.int64)
    owner = np.repeat(np.arange(pop.n), n_slots)  # intp: no cast at every gather
    first = np.concatenate([[0], np.cumsum(n_slots)[:-1]])
    mix = np.where(pop.fund_lover[:, None], _FUND_LOVER_MIX[None, :], _PRODUCT_MIX[pop.kind])
    draw = rng.random(len(owner))
    product = (draw[:, None] > np.cumsum(mix, axis=1)[owner]).sum(axis=1)
    weight = rng.gamma(_CONCENTRATION[pop.kind][owner], 1.0)
    weight /= np.bincount(owner, weight, pop.n)[owner]
    return Book(
        owner=owner,
        first=first,
        symbol=draw_symbols(np.minimum(product, BOND), market, rng),
        quantity=np.zeros(len(owner)),
        cost=np.zeros(len(owner)),
        weight=weight,
        cash=np.zeros(pop.n),
        debt=np.zeros(pop.n),
    )


def draw_symbols(product: np.ndarray, market: Market, rng: np.random.Generator) -> np.ndarray:
    """A symbol of the given product for each element, by popularity."""
    out = np.empty(product.shape, dtype=np.int64)
    for kind in (STOCK, FUND, BOND):
        where = product == kind
        members = np.flatnonzero(market.product == kind)
        chance = np.cumsum(market.popularity[members])
        out[where] = members[np.searchsorted(chance, rng.random(where.sum()) * chance[-1])]
    return out


def slot_values(book: Book, prices: np.ndarray) -> np.ndarray:
    """Market value of every slot at ``prices`` (one price per symbol)."""
    return book.quantity * prices[book.symbol]


def holdings(book: Book, prices: np.ndarray) -> np.ndarray:
    """Market value of each account's holdings."""
    return np.bincount(book.owner, slot_values(book, prices), book.n)


def net_assets(book: Book, prices: np.ndarray) -> np.ndarray:
    """Cash plus holdings minus margin debt, per account."""
    return np.maximum(book.cash + holdings(book, prices) - book.debt, 0.0)


def values_by_product(book: Book, prices: np.ndarray, market: Market) -> np.ndarray:
    """Stock, fund and bond value per account, shape ``(n, 3)``."""
    value = slot_values(book, prices)
    product = market.product[book.symbol]
    return np.stack(
        [np.bincount(book.owner, value * (product == k), book.n) for k in (STOCK, FUND, BOND)],
        axis=1,
    )


def invest(book: Book, rows: np.ndarray, amount: np.ndarray, prices: np.ndarray) -> None:
    """Spend ``amount`` of cash (or borrowed money) on the slots of ``rows`` by target weight."""
    spend = book.spread(rows, amount) * book.weight
    book.quantity += spend / prices[book.symbol]
    book.cost += spend
    book.cash[rows] -= amount


def sell(book: Book, rows: np.ndarray, amount: np.ndarray, prices: np.ndarray) -> np.ndarray:
    """Sell every slot of ``rows`` in proportion to raise ``amount`` of cash; returns raised."""
    value = holdings(book, prices)[rows]
    raised = np.minimum(amount, value)
    keep = np.divide(value - raised, value, out=np.zeros_like(value), where=value > 0)
    factor = book.spread(rows, keep, fill=1.0)
    book.quantity *= factor
    book.cost *= factor
    book.cash[rows] += raised
    return raised


def take(book: Book, rows: np.ndarray, amount: np.ndarray, prices: np.ndarray) -> np.ndarray:
    """Remove ``amount`` from ``rows`` (cash first, then sales), capped at net assets.

    Returns the amount actually removed.
    """
    amount = np.minimum(amount, net_assets(book, prices)[rows])
    sell(book, rows, amount - np.clip(book.cash[rows], 0.0, amount), prices)
    book.cash[rows] = np.maximum(book.cash[rows] - amount, 0.0)
    return amount


def deleverage(book: Book, rows: np.ndarray, prices: np.ndarray) -> None:
    """Sell holdings to repay all margin debt of ``rows``."""
    repaid = sell(book, rows, book.debt[rows], prices)
    book.cash[rows] -= repaid
    book.debt[rows] = np.where(book.debt[rows] - repaid < 0.01, 0.0, book.debt[rows] - repaid)


def rebalance(
    book: Book,
    rows: np.ndarray,
    cash_share: np.ndarray,
    speed: float | np.ndarray,
    prices: np.ndarray,
) -> None:
    """Trade ``rows`` a step ``speed`` towards their target share of cash."""
    gross = book.cash[rows] + holdings(book, prices)[rows]
    gap = speed * (book.cash[rows] - cash_share * gross)
    buy = gap > 0
    invest(book, rows[buy], gap[buy], prices)
    sell(book, rows[~buy], -gap[~buy], prices)


def adjust_margin(
    book: Book, rows: np.ndarray, target: np.ndarray, prices: np.ndarray
) -> np.ndarray:
    """Move debt of ``rows`` towards ``target`` x holdings; force-sell below maintenance.

    Returns the amount force-sold per row.
    """
    step = 0.25 * (target * holdings(book, prices)[rows] - book.debt[rows])
    borrow = step > 0
    book.cash[rows[borrow]] += step[borrow]
    book.debt[rows[borrow]] += step[borrow]
    invest(book, rows[borrow], step[borrow], prices)
    repay = sell(book, rows[~borrow], -step[~borrow], prices)
    book.cash[rows[~borrow]] -= repay
    book.debt[rows[~borrow]] -= repay
    return maintain(book, rows, prices)


def maintain(book: Book, rows: np.ndarray, prices: np.ndarray) -> np.ndarray:
    """Force-sell ``rows`` whose cover fell below the maintenance ratio; returns amounts sold."""
    cover = book.cash[rows] + holdings(book, prices)[rows]
    debt = book.debt[rows]
    called = (debt > 0) & (cover < _MAINTENANCE * debt)
    forced = np.where(called, (_RESTORED * debt - cover) / (_RESTORED - 1.0), 0.0)
    sold = sell(book, rows, np.clip(forced, 0.0, debt), prices)
    book.cash[rows] -= sold
    book.debt[rows] -= sold
    return sold


def rotate(
    book: Book, rows: np.ndarray, market: Market, prices: np.ndarray, rng: np.random.Generator
) -> None:
    """Switch one slot of each of ``rows`` into a new symbol of the same product, at value."""
    n_slots = np.bincount(book.owner, minlength=book.n)[rows]
    slot = book.first[rows] + (rng.random(len(rows)) * n_slots).astype(np.int64)
    old = book.symbol[slot]
    value = book.quantity[slot] * prices[old]
    new = draw_symbols(market.product[old], market, rng)
    book.symbol[slot] = new
    book.quantity[slot] = value / prices[new]
    book.cost[slot] = value


def clear(book: Book, rows: np.ndarray) -> None:
    """Empty the books of ``rows`` (closed accounts)."""
    slots = book.slots_of(rows)
    book.quantity[slots] = 0.0
    book.cost[slots] = 0.0
    book.cash[rows] = 0.0
    book.debt[rows] = 0.0
