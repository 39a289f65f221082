"""Shared state of the weekly simulation: the world it runs in, account states and the recorder.

An account moves through the states ``NOT_OPEN`` -> ``ACTIVE`` <-> ``DORMANT``; a churn decision
sends it to ``LEAVING`` (disengaging for a few weeks; skipped for a sudden life event), then
``CHURNING`` (assets moved out over days to weeks), then ``CLOSED`` or ``GONE`` (still open,
little left). Rows of every table are collected week by week as numpy chunks.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from valuemodel.data._synth_accounts import NEVER, Population
from valuemodel.data._synth_calendar import Clock
from valuemodel.data._synth_market import REPO_CODES, Market

NOT_OPEN, ACTIVE, DORMANT, LEAVING, CHURNING, GONE, CLOSED = range(7)
RETURN_WINDOW = 26  # weeks of returns behind the loss signal


@dataclass(frozen=True)
class World:
    """What the accounts live in: the clock, market, population and weekly market summaries.

    ``week_prices[k]`` are symbol prices at week ``k``'s last trading day, ``activity[k]``
    the market's pull on trading, ``regime[k]`` the regime at the week's end; ``day_number``
    are the trading days as epoch days.
    """

    clock: Clock
    market: Market
    pop: Population
    week_prices: np.ndarray
    activity: np.ndarray
    regime: np.ndarray
    day_number: np.ndarray
    rng: np.random.Generator
    campaigns: Any = None  # a ``_synth_campaigns.Campaigns``, or None for no campaigns

    @property
    def n_symbols(self) -> int:
        return len(self.market.symbols)

    def all_symbols(self) -> np.ndarray:
        """Codes of every traded symbol: listed ones, then options, then repos."""
        return np.concatenate([self.market.symbols, self.market.option_codes, REPO_CODES])

    def trading_days(self, week: int) -> np.ndarray:
        """Epoch days of the week's trading days (none before ``start``)."""
        return self.day_number[self.clock.week_first[week] : self.clock.week_stop[week]]


@dataclass
class State:
    """Per-account dynamic state (arrays of length ``n``)."""

    status: np.ndarray
    engagement: np.ndarray
    returns: np.ndarray
    countdown: np.ndarray
    closes: np.ndarray
    selloff: np.ndarray
    residual: np.ndarray
    close_day: np.ndarray
    interest_due: np.ndarray
    fee_due: np.ndarray

    @classmethod
    def initial(cls, pop: Population, rng: np.random.Generator) -> State:
        n = pop.n
        dormant = rng.random(n) < np.array([0.22, 0.08, 0.20, 0.05])[pop.kind]
        status = np.where(pop.open_week == 0, np.where(dormant, DORMANT, ACTIVE), NOT_OPEN)
        return cls(
            status=status.astype(np.int8),
            engagement=rng.normal(0.0, 0.45, n).astype(np.float32),
            returns=np.zeros((n, RETURN_WINDOW), dtype=np.float32),
            countdown=np.zeros(n, dtype=np.int16),
            closes=np.zeros(n, dtype=bool),
            selloff=np.zeros(n, dtype=bool),
            residual=np.zeros(n),
            close_day=np.full(n, NEVER, dtype=np.int32),
            interest_due=np.zeros(n),
            fee_due=np.zeros(n),
        )

    def loss(self) -> np.ndarray:
        """Loss over the last ``RETURN_WINDOW`` weeks (0 for a gain; 0.3 = lost about 26 %)."""
        return np.clip(-self.returns.sum(axis=1), 0.0, 1.0)

    def is_open(self) -> np.ndarray:
        return (self.status != NOT_OPEN) & (self.status != CLOSED)


@dataclass
class Recorder:
    """Rows of each table, as a list of chunks (dicts of equal-length numpy arrays)."""

    chunks: dict[str, list[dict[str, np.ndarray]]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def add(self, table: str, **columns: np.ndarray) -> None:
        if len(next(iter(columns.values()))):
            self.chunks[table].append(columns)

    def column(self, table: str, name: str) -> np.ndarray:
        """One column of a table, concatenated; the chunks' copies are released."""
        parts = [chunk.pop(name) for chunk in self.chunks[table]]
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.int32)
