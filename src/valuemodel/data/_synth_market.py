"""The synthetic A-share market: an index with regimes and volatility clustering, and symbols.

The index (Shanghai-composite-like, starting near 3,000) follows a three-state Markov chain of
regimes (bear, flat, bull) that sets the daily drift, with GARCH(1,1) volatility and fat-tailed
(Student-t) shocks. Each symbol moves with the index through its beta plus idiosyncratic noise,
within the exchange's daily price limits. Traded products: stocks (6-digit codes by board),
exchange-traded funds, bonds, ETF options and treasury reverse repos ("other").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BEAR, FLAT, BULL = 0, 1, 2
REGIME_NAMES = ("bear", "flat", "bull")
STOCK, FUND, BOND = 0, 1, 2
PRODUCT_NAMES = ("stock", "fund", "bond", "option", "other")
OPTION, OTHER = 3, 4

_DRIFT = np.array([-0.0009, 0.0001, 0.0011])  # daily, by regime
_VOL_SCALE = np.array([1.15, 0.85, 1.05])  # by regime
_STAY = 1.0 - 1.0 / 70.0  # regimes last about 70 trading days
_GARCH_ALPHA, _GARCH_BETA, _LONG_RUN_VOL = 0.08, 0.90, 0.012
_ANCHOR, _REVERSION = np.log(3000.0), np.log(2.0) / 500.0  # pull towards 3,000

# (code prefixes, share of listed stocks, daily price limit)
_BOARDS = (
    (("600", "601", "603"), 0.42, 0.10),
    (("000", "002"), 0.34, 0.10),
    (("300",), 0.17, 0.20),
    (("688",), 0.07, 0.20),
)
_FUND_PREFIXES = ("510", "512", "515", "159", "588")
_BOND_PREFIXES = ("019", "113", "127")
REPO_CODES = np.array(["204001", "204007", "131810"])


@dataclass(frozen=True)
class Market:
    """Daily index and prices on the clock's trading days.

    ``prices[d, s]`` is the close of symbol ``s`` on trading day ``d``; ``product[s]`` is
    ``STOCK``/``FUND``/``BOND``; ``lot`` is the board lot and ``tick`` the price step.
    ``popularity[s]`` is the chance a new holding in that product is ``s``.
    """

    index: np.ndarray
    regime: np.ndarray
    symbols: np.ndarray
    product: np.ndarray
    lot: np.ndarray
    tick: np.ndarray
    popularity: np.ndarray
    prices: np.ndarray
    option_codes: np.ndarray


def simulate_index(n_days: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Daily index closes and regimes (``BEAR``/``FLAT``/``BULL``) for ``n_days`` days.

    The regime sets the drift and scales the volatility. When a regime ends, the next one
    leans against the level: a bear is likelier after the index ran far above 3,000, a bull
    after it fell far below, as the Shanghai composite has oscillated around that level for
    a decade.
    """
    shocks = rng.standard_t(5, n_days) / np.sqrt(5.0 / 3.0)
    switches, draws = rng.random(n_days) > _STAY, rng.random(n_days)
    omega = _LONG_RUN_VOL**2 * (1.0 - _GARCH_ALPHA - _GARCH_BETA)
    variance, log_index = _LONG_RUN_VOL**2, np.empty(n_days)
    regime = np.empty(n_days, dtype=np.int8)
    level, state = _ANCHOR + rng.normal(0.0, 0.04), int(rng.integers(0, 3))
    for d in range(n_days):
        if switches[d]:
            state = _next_regime(state, level - _ANCHOR, draws[d])
        surprise = np.sqrt(variance) * shocks[d]
        level += _DRIFT[state] - _REVERSION * (level - _ANCHOR) + _VOL_SCALE[state] * surprise
        log_index[d], regime[d] = level, state
        variance = omega + _GARCH_ALPHA * surprise**2 + _GARCH_BETA * variance
    return np.exp(log_index), regime


def _next_regime(current: int, stretch: float, draw: float) -> int:
    """The regime after ``current`` ends, given the log distance of the index from 3,000."""
    lean = np.exp(np.array([6.0, 0.0, -6.0]) * stretch)  # bear, flat, bull
    lean[current] = 0.0
    return int(np.searchsorted(np.cumsum(lean / lean.sum()), draw))


def simulate_market(n_days: int, rng: np.random.Generator) -> Market:
    """The index and a universe of about 400 symbols over ``n_days`` trading days."""
    index, regime = simulate_index(n_days, rng)
    market_returns = np.diff(np.log(index), prepend=np.log(index[0]))
    stocks, limits = _stock_codes(320, rng)
    funds = _codes(_FUND_PREFIXES, 48, rng)
    bonds = _codes(_BOND_PREFIXES, 24, rng)
    symbols = np.concatenate([stocks, funds, bonds])
    product = np.repeat([STOCK, FUND, BOND], [len(stocks), len(funds), len(bonds)]).astype(np.int8)
    beta, idio, start, limit = _symbol_dynamics(product, limits, rng)
    noise = rng.standard_t(4, (n_days, len(symbols))) / np.sqrt(2.0) * idio
    daily = np.clip(np.expm1(beta * market_returns[:, None] + noise), -limit, limit)
    prices = start * np.cumprod(1.0 + daily, axis=0)
    return Market(
        index=index,
        regime=regime,
        symbols=symbols,
        product=product,
        lot=np.where(product == BOND, 10, 100).astype(np.int64),
        tick=np.where(product == STOCK, 0.01, 0.001),
        popularity=_popularity(product, rng),
        prices=prices,
        option_codes=np.array([f"1000{n:04d}" for n in rng.choice(9000, 60, replace=False)]),
    )


def _stock_codes(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    counts = rng.multinomial(n, [share for _, share, _ in _BOARDS])
    codes, limits = [], []
    for (prefixes, _, limit), count in zip(_BOARDS, counts, strict=True):
        codes.append(_codes(prefixes, int(count), rng))
        limits.append(np.full(count, limit))
    return np.concatenate(codes), np.concatenate(limits)


def _codes(prefixes: tuple[str, ...], n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` distinct 6-digit codes, each a prefix plus three digits."""
    pool = np.array([f"{p}{k:03d}" for p in prefixes for k in range(1000)])
    return np.sort(rng.choice(pool, n, replace=False))


def _symbol_dynamics(
    product: np.ndarray, stock_limits: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Beta, daily idiosyncratic volatility, first price and daily price limit per symbol."""
    n = len(product)
    is_stock, is_fund = product == STOCK, product == FUND
    beta = np.where(is_stock, np.clip(rng.normal(1.0, 0.25, n), 0.3, 1.8), 0.0)
    beta = np.where(is_fund, np.clip(rng.normal(0.95, 0.15, n), 0.5, 1.3), beta)
    convertible = (product == BOND) & (rng.random(n) < 0.6)
    beta = np.where(convertible, 0.35, beta)
    idio = np.where(is_stock, rng.uniform(0.010, 0.026, n), 0.004)
    idio = np.where(product == BOND, np.where(convertible, 0.008, 0.0008), idio)
    start = np.where(is_stock, np.clip(rng.lognormal(np.log(12.0), 0.8, n), 2.0, 400.0), 0.0)
    start = np.where(is_fund, rng.uniform(0.8, 5.0, n), start)
    start = np.where(product == BOND, rng.uniform(95.0, 130.0, n), start)
    limit = np.full(n, 0.10)
    limit[is_stock] = stock_limits
    return beta, idio, start, limit


def _popularity(product: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Zipf-like chance of each symbol within its product (a few names are very popular)."""
    weight = np.empty(len(product))
    for kind in (STOCK, FUND, BOND):
        members = np.flatnonzero(product == kind)
        ranks = rng.permutation(len(members)) + 1.0
        weight[members] = ranks**-0.9 / np.sum(ranks**-0.9)
    return weight


def weekly_activity(market: Market, day_week: np.ndarray, n_weeks: int) -> np.ndarray:
    """The market's pull on trading per week ("living off the weather"), about 1 on average.

    Rises with the share of bull days in the week and with the index's 4-week return.
    """
    bullness = np.bincount(day_week, market.regime == BULL, n_weeks)
    bearness = np.bincount(day_week, market.regime == BEAR, n_weeks)
    n_days = np.maximum(np.bincount(day_week, minlength=n_weeks), 1)
    close = _weekly_close(market.index, day_week, n_weeks)
    trailing = np.log(close / np.concatenate([np.full(4, close[0]), close[:-4]]))
    score = 0.45 * (bullness - bearness) / n_days + 3.0 * trailing
    return np.exp(score).astype(np.float64)


def _weekly_close(daily: np.ndarray, day_week: np.ndarray, n_weeks: int) -> np.ndarray:
    """The last close of each week (carried forward through a closed week)."""
    last = np.full(n_weeks, -1)
    last[day_week] = np.arange(len(day_week))
    last = np.maximum.accumulate(np.maximum(last, 0))
    return daily[last]


def weekly_prices(market: Market, day_week: np.ndarray, n_weeks: int) -> np.ndarray:
    """Symbol prices at each week's last trading day, shape ``(n_weeks, n_symbols)``."""
    return _weekly_close(market.prices, day_week, n_weeks)


def weekly_regime(market: Market, day_week: np.ndarray, n_weeks: int) -> np.ndarray:
    """The regime on each week's last trading day."""
    return _weekly_close(market.regime, day_week, n_weeks)
