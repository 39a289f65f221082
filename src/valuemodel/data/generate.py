"""A realistic synthetic Chinese A-share brokerage: all eight tables of the data contract.

The model, in the order it is simulated (one step per week, vectorised over accounts):

**The market** (``_synth_market``). A Shanghai-composite-like index starting near 3,000 on
exchange trading days (weekends, New Year, Spring Festival, Labour Day and National Day closed),
with bull / flat / bear regimes from a Markov chain (about 70 trading days each) and GARCH(1,1)
volatility with fat tails. About 390 symbols - stocks with 6-digit codes by board (600/601/603,
000/002, 300, 688; daily limits of 10 % or 20 %), exchange-traded funds, treasury and
convertible bonds - move with the index through their betas plus idiosyncratic noise. ETF
options and treasury reverse repos are traded but not held.

**The customers** (``_synth_accounts``). Retail (75 %), active traders (15 %), high-net-worth
(8 %, at least 1M CNY) and institutions (2 %), with birth year and gender (null for
institutions), a risk level C1..C5 that rises with appetite and falls with age, an investor
type, one of 12 branches, one of 60 account managers of that branch (or none; 5 managers leave
the firm during the period), an acquisition channel and a negotiated commission rate: lower for
large and newly won accounts, and above peers for some long-standing accounts nobody
renegotiated. Assets are lognormal by kind (retail median about 50k CNY, institutions tens of
millions). About 80 % of accounts were opened in earlier years; 20 % open during the period,
more of them when the market is hot.

**Behaviour** (``_synth_simulation``, ``_synth_ledger``). Each account has a latent engagement
(AR(1) around its own level) that, with its kind, the market ("living off the weather"), recent
losses and novelty, sets how often it trades and logs in. Holdings move with the market, so
losers are visible: the change in assets minus net cash flows is the investment return, less
commissions and margin interest. Active accounts fall dormant (assets kept, no trading, rare
logins), more after losses, and wake up again, more in bull markets. Churn is a weekly hazard
with a visible part (losses, engagement below its norm, a commission rate above peers, short
tenure, no manager or a departed one, bear market) and an invisible part (life events). A
churner first disengages for a few weeks (unless sudden), then moves 85-100 % of its assets
out over one to five weeks (negative cash flows, after selling out or as a custody transfer),
and 40 % close the account. Quarterly churn of the holding population is about 3-7 %.

**The records.** ``trades`` (board lots, commission = max(rate x amount, 5 CNY), amounts of at
least 2,000 CNY), weekly ``balances`` (Fridays; the last at ``end``; a closing account's last
snapshot, at zero, on its close date), ``cashflows`` (signed), ``positions`` (at the last
statement of each month), ``logins`` (one row per login day), ``revenue`` (commission per
account and trade day, equal to the trades' commissions; margin interest and fund fees at the
last statement of each month or at closing). ``total_assets`` is net of margin debt.

**Campaigns** (``_synth_campaigns``). Every quarter after the first half year, a retention list
of about half the holding accounts (more of those with warning signs), 30 % of it held out as
a random control group. Contact changes a treated account's churn hazard for 13 weeks by an
effect that is partly visible (rate above peers, no or a departed manager, losses: positive;
long-dormant accounts: negative) and partly not. ``contacts`` records the lists;
:func:`simulate_brokerage` also returns each account's true effect.

Everything is a pure function of ``seed``: the same seed gives identical tables.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from valuemodel.data._synth_accounts import make_population
from valuemodel.data._synth_calendar import make_clock
from valuemodel.data._synth_campaigns import Campaigns, truth_frame
from valuemodel.data._synth_market import (
    REGIME_NAMES,
    REPO_CODES,
    simulate_market,
    weekly_activity,
)
from valuemodel.data._synth_simulation import simulate
from valuemodel.data._synth_tables import account_ids, build_tables, dates, text
from valuemodel.data.schema import TABLES
from valuemodel.errors import InputError

GENERATION_STAGES: tuple[str, ...] = (
    "market",
    "population",
    "simulation",
    "accounts",
    "trades",
    "balances",
    "cashflows",
    "positions",
    "logins",
    "revenue",
    "contacts",
)
"""The stages ``generate_brokerage`` reports to ``progress``, in order (one call each)."""

__all__ = [
    "GENERATION_STAGES",
    "generate_brokerage",
    "market_history",
    "simulate_brokerage",
    "write_brokerage",
]


def generate_brokerage(
    n_accounts: int,
    start: str | date = "2024-01-01",
    end: str | date = "2025-12-31",
    seed: int = 7,
    progress: Callable[[str], None] | None = None,
) -> dict[str, pd.DataFrame]:
    """A synthetic brokerage of ``n_accounts`` accounts, with activity in ``[start, end]``.

    Returns the tables ``accounts, trades, balances, cashflows, positions, logins, revenue,
    contacts``
    with every column of the data contract (docs/data-contract.md). Ids and the accounts'
    attributes are pandas ``str`` columns; the activity tables' few-valued text (``side``,
    ``product``, ``symbol``, ``channel``, ``kind``) is ``category`` to save memory (written as
    plain strings). Dates are ``datetime64[ns]`` at midnight, money ``float64`` in CNY rounded
    to cents, ``quantity`` ``int64`` and ``birth_year`` nullable ``Int32``. ``progress``, if
    given, is called with each name in ``GENERATION_STAGES`` as that stage starts.

    Raises ``InputError`` for fewer than one account or a period shorter than a week.
    """
    return simulate_brokerage(n_accounts, start, end, seed, progress)[0]


def simulate_brokerage(
    n_accounts: int,
    start: str | date = "2024-01-01",
    end: str | date = "2025-12-31",
    seed: int = 7,
    progress: Callable[[str], None] | None = None,
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """``generate_brokerage``'s tables and what only the generator knows: the true effect of
    contact for every holding account at every past campaign.

    The second frame has ``account_id``, ``date`` (the campaign), ``group``
    (``treated``/``control``/``none`` = not listed), ``effect`` (log-reduction of the visible
    churn hazard), ``p_control``, ``p_treated`` (chance of deciding to churn within 13 weeks
    without and with contact) and ``uplift`` = ``p_control - p_treated``. Keep it out of
    the data directory: the models must not see it.
    """
    first, last = _check_arguments(n_accounts, start, end)
    report = progress or (lambda stage: None)
    spawned = np.random.default_rng(seed).spawn(4)
    market_rng, population_rng, behaviour_rng, campaign_rng = spawned
    report("market")
    clock = make_clock(first, last)
    market = simulate_market(len(clock.days), market_rng)
    report("population")
    activity = weekly_activity(market, clock.day_week, clock.n_weeks)
    population = make_population(int(n_accounts), clock, activity, population_rng)
    ids = account_ids(population.n, population_rng)
    report("simulation")
    campaigns = Campaigns.schedule(clock.first_week, clock.n_weeks, population.n, campaign_rng)
    recorder, close_day = simulate(population, market, clock, behaviour_rng, campaigns)
    symbols = np.concatenate([market.symbols, market.option_codes, REPO_CODES])
    tables = build_tables(population, close_day, recorder, ids, symbols, report, campaigns)
    return tables, truth_frame(campaigns, ids, dates, text)


def market_history(
    start: str | date = "2024-01-01", end: str | date = "2025-12-31", seed: int = 7
) -> pd.DataFrame:
    """The market behind ``generate_brokerage(..., start, end, seed)``, for plots and checks.

    One row per trading day in ``[start, end]``: ``date``, ``index_close`` and ``regime``
    (``bear``/``flat``/``bull``).
    """
    first, last = _check_arguments(1, start, end)
    market_rng = np.random.default_rng(seed).spawn(3)[0]
    clock = make_clock(first, last)
    market = simulate_market(len(clock.days), market_rng)
    recorded = clock.days >= clock.start
    return pd.DataFrame(
        {
            "date": clock.days[recorded].astype("datetime64[ns]"),
            "index_close": np.round(market.index[recorded], 2),
            "regime": np.array(REGIME_NAMES)[market.regime[recorded]],
        }
    )


def write_brokerage(tables: Mapping[str, pd.DataFrame], out_dir: str | Path) -> list[Path]:
    """Write each table to ``out_dir/<table>.parquet``; returns the paths written.

    Dates are stored as ``date32``, text as ``string``. The files are first written into a
    temporary sibling directory. A new ``out_dir`` then appears in one rename; an existing
    one has each file replaced by a finished one (``os.replace``), and a ``<table>.csv`` of
    a table written is removed so the directory stays a valid data directory. On failure
    nothing in ``out_dir`` changes.
    """
    unknown = sorted(set(tables) - set(TABLES))
    if unknown:
        raise InputError(f"write_brokerage: not contract tables: {', '.join(unknown)}")
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"{out_dir}: exists and is not a directory")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = out_dir.parent / f".{out_dir.name}.{uuid.uuid4().hex[:12]}.partial"
    staging.mkdir()
    try:
        for name, frame in tables.items():
            pq.write_table(_to_arrow(frame), staging / f"{name}.parquet")
        return _move_into_place(staging, out_dir, list(tables))
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _move_into_place(staging: Path, out_dir: Path, names: list[str]) -> list[Path]:
    paths = [out_dir / f"{name}.parquet" for name in names]
    if not out_dir.exists():
        os.replace(staging, out_dir)
        return paths
    for name, path in zip(names, paths, strict=True):
        os.replace(staging / f"{name}.parquet", path)
        (out_dir / f"{name}.csv").unlink(missing_ok=True)
    return paths


def _to_arrow(frame: pd.DataFrame) -> pa.Table:
    """The frame as an Arrow table with dates as ``date32`` and plain ``string`` text
    (categories included)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    fields = []
    for f in table.schema:
        value_type = f.type.value_type if pa.types.is_dictionary(f.type) else f.type
        if pa.types.is_timestamp(value_type):
            fields.append(pa.field(f.name, pa.date32()))
        elif pa.types.is_large_string(value_type) or pa.types.is_string(value_type):
            fields.append(pa.field(f.name, pa.string()))
        else:
            fields.append(f)
    return table.cast(pa.schema(fields)).replace_schema_metadata(None)


def _check_arguments(n_accounts: int, start: str | date, end: str | date) -> tuple[date, date]:
    if isinstance(n_accounts, bool) or not isinstance(n_accounts, int | np.integer):
        raise InputError(f"n_accounts must be an integer, got {n_accounts!r}")
    if n_accounts < 1:
        raise InputError(f"n_accounts must be at least 1, got {n_accounts}")
    first, last = _as_date(start, "start"), _as_date(end, "end")
    if (last - first).days < 7:
        raise InputError(f"end ({last}) must be at least 7 days after start ({first})")
    return first, last


def _as_date(value: str | date, name: str) -> date:
    try:
        return pd.Timestamp(value).date()
    except (ValueError, TypeError) as error:
        raise InputError(f"{name}: not a date: {value!r} (expected YYYY-MM-DD)") from error
