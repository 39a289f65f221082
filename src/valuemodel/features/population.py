"""The population at each as-of date (docs/data-contract.md, "Time") and the spine of a build."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from typing import Any

import ibis

from valuemodel.data.reader import DataSet
from valuemodel.features.activity import (
    FIXED_WINDOWS,
    assets_at,
    balance_points,
    last_trade_source,
)
from valuemodel.features.asof import KEYS, Spine, as_of_dates, calendar_table
from valuemodel.features.config import FeatureConfig

ACTIVITY_WINDOW = 365
"""Without balances, the population is the accounts with a trade in ``(T - 365, T]``."""


def make_spine(
    data: DataSet,
    as_of: Any,
    config: FeatureConfig,
    forward: Iterable[int] = (),
) -> Spine:
    """The calendar and population of a build at the given as-of date(s).

    ``forward`` adds label horizons (``until_{h}`` calendar columns, balances at ``T + h``).
    """
    dates = as_of_dates(as_of)
    windows = tuple(sorted(config.windows))
    short = tuple(sorted(config.short_windows))
    changes = tuple(sorted(config.change_windows))
    back = tuple(sorted({*windows, *short, *changes, *FIXED_WINDOWS, ACTIVITY_WINDOW}))
    forward = tuple(sorted(set(forward)))
    calendar = calendar_table(dates, back, forward)
    spine = Spine(dates, calendar, None, (), windows, back, forward, short, changes)
    spine = replace(
        spine, sessions=tuple(sorted(config.session_windows)), exchange=config.calendar
    )
    base, sources = _population(data, spine, config.min_assets)
    return replace(spine, base=base, base_sources=sources)


def population(
    data: DataSet, as_of_dates: date | str | Iterable[date | str], min_assets: float = 1000.0
) -> ibis.Table:
    """Accounts in the population at each as-of date ``T``: a table (account_id, as_of).

    An account is in the population at ``T`` when it was opened on or before ``T``, was not
    closed on or before ``T`` and either its ``total_assets`` at ``T`` (latest balance snapshot
    on or before ``T``) is at least ``min_assets``, or, when there is no ``balances`` table, it
    traded in the 365 days up to ``T``, i.e. in ``(T - 365, T]`` (a trade exactly 365 days
    before ``T`` does not count, as for every ``w``-day window).
    """
    config = FeatureConfig(min_assets=float(min_assets))
    return make_spine(data, as_of_dates, config).population


def _population(data: DataSet, spine: Spine, min_assets: float):
    acc = data.table("accounts").select("account_id", "open_date", "close_date")
    cal = spine.calendar.select("as_of", f"start_{ACTIVITY_WINDOW}")
    x = acc.cross_join(cal)
    x = x.filter(x.open_date <= x.as_of, x.close_date.isnull() | (x.close_date > x.as_of))
    if data.has("balances"):
        table, name = balance_points(data, spine), "balance_points"
        x = x.join(table, list(KEYS))
        x = x.filter(x[assets_at(0)] >= min_assets)
    else:
        source = last_trade_source(data, spine)
        table, name = source.table, source.name
        x = x.join(table, list(KEYS))
        x = x.filter(x.last_trade > x[f"start_{ACTIVITY_WINDOW}"])
    extra = [c for c in table.columns if c not in KEYS]
    return x.select(*KEYS, "open_date", "close_date", *extra), ("accounts", name)
