"""Churn and value labels over ``(T, T + H]`` and ``(T, T + V]`` (docs/data-contract.md, "Time").

Labels are computed for exactly the rows of the feature table (the population at each T).

- ``churn`` (1.0 / 0.0), by definition:
  - ``assets``: the account closes in ``(T, T+H]``, or its total_assets at ``T+H`` (latest
    snapshot on or before) is below ``churn_asset_ratio`` (20 %) of its total_assets at ``T``;
  - ``inactivity``: no trade in ``(T, T+H]``;
  - ``auto``: ``assets`` when there is a balances table, else ``inactivity``.
- ``value``: total revenue dated in ``(T, T+V]`` (0 when none).

A label is complete only when the table it reads runs through the end of its window
(:func:`label_tables`: balances for asset churn, trades for inactivity, revenue for value;
trades when revenue is derived from commissions): ``T + H`` on or before both ``end`` and that
table's last date. Otherwise it is NaN, never read from a stale snapshot or from trades that
are simply not exported yet. ``end`` defaults to the latest date in any table; pass it
explicitly for reproducible labels: with the default, new rows can extend ``end`` and turn a
NaN into a value.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import pyarrow as pa

from valuemodel import engine
from valuemodel.data.reader import DataSet
from valuemodel.errors import InputError
from valuemodel.features.activity import assets_at, revenue_days, trade_days
from valuemodel.features.asof import KEYS, ORDER, Spine, as_of_dates, window_join
from valuemodel.features.config import FeatureConfig, load_feature_config
from valuemodel.features.parts import Source, joined_sources
from valuemodel.features.population import make_spine
from valuemodel.features.sample import AccountSample

CHURN_DEFINITIONS = ("auto", "assets", "inactivity")


def resolve_churn_definition(data: DataSet, churn_definition: str) -> str:
    """``auto`` -> ``assets`` with balances, else ``inactivity``; checks the name and data."""
    if churn_definition not in CHURN_DEFINITIONS:
        raise InputError(
            f"churn_definition must be one of {', '.join(CHURN_DEFINITIONS)}, "
            f"got {churn_definition!r}"
        )
    if churn_definition == "auto":
        return "assets" if data.has("balances") else "inactivity"
    if churn_definition == "assets" and not data.has("balances"):
        raise InputError(
            f"churn_definition 'assets' needs the balances table, and {data.path} has none "
            "(add balances.parquet or balances.csv, or use 'inactivity' or 'auto')"
        )
    return churn_definition


def label_tables(data: DataSet, churn_definition: str) -> dict[str, str]:
    """The table each label reads: ``{"churn": "balances" | "trades", "value": "revenue"}``
    (``churn_definition`` resolved as by :func:`resolve_churn_definition`)."""
    definition = resolve_churn_definition(data, churn_definition)
    return {"churn": "balances" if definition == "assets" else "trades", "value": "revenue"}


def label_ends(
    data: DataSet, churn_definition: str, end: date | None
) -> dict[str, tuple[str, date | None, date | None]]:
    """Per label: (the table it reads, that table's last date, the date its windows must end
    by: the earlier of the two and ``end``)."""
    out = {}
    for label, table in label_tables(data, churn_definition).items():
        last = data.table_end(table)
        by = None if end is None or last is None else min(end, last)
        out[label] = (table, last, by)
    return out


def label_expr(
    data: DataSet,
    as_of: Any,
    churn_horizon: int = 90,
    value_horizon: int = 365,
    churn_definition: str = "auto",
    end: date | str | None = None,
    config: FeatureConfig | None = None,
) -> ibis.Table:
    """The labels as an Ibis expression: (account_id, as_of, churn, value) for the population.

    ``end`` defaults to ``data.end_date()`` (which runs one small query).
    """
    for key, h in (("churn_horizon", churn_horizon), ("value_horizon", value_horizon)):
        if isinstance(h, bool) or not isinstance(h, int) or h <= 0:
            raise InputError(f"{key} must be a positive number of days, got {h!r}")
    definition = resolve_churn_definition(data, churn_definition)
    config = config or load_feature_config()
    end_day = as_of_dates(end)[0] if end is not None else data.end_date()
    ends = label_ends(data, definition, end_day)
    forward = (churn_horizon,) if definition == "assets" else ()
    spine = make_spine(data, as_of, config, forward=forward)
    sources = [_future_revenue(data, spine, value_horizon)]
    if definition == "inactivity":
        sources.append(_future_trades(data, spine, churn_horizon))
    x = joined_sources(spine, sources)
    coverage = _coverage(
        spine.dates, churn_horizon, value_horizon, ends["churn"][2], ends["value"][2]
    )
    x = x.join(coverage, "as_of")
    if definition == "assets":
        closed = (x.close_date > x.as_of) & (x.close_date <= x.churn_until)
        dropped = x[assets_at(churn_horizon)] < config.churn_asset_ratio * x[assets_at(0)]
        churned = closed.fill_null(False) | dropped.fill_null(False)
    else:
        churned = x.future_trade_days == 0
    nothing = ibis.null(dt.float64)
    return x.select(
        *KEYS,
        churn=ibis.ifelse(x.churn_covered, churned.cast(dt.float64), nothing),
        value=ibis.ifelse(x.value_covered, x.future_revenue, nothing),
    ).order_by(list(ORDER))


def build_labels(
    data: DataSet,
    as_of: Any,
    churn_horizon: int = 90,
    value_horizon: int = 365,
    churn_definition: str = "auto",
    end: date | str | None = None,
    config: FeatureConfig | None = None,
    sample: AccountSample | None = None,
):
    """Labels per account and as-of date as pandas: account_id, as_of, churn, value.

    Rows are the population at each as-of date (the rows of ``build_features``), sorted by
    (as_of, account_id); ``churn`` is 1.0 / 0.0 and ``value`` revenue in CNY, each NaN when
    its window is not covered by ``end``. Raises InputError for ``churn_definition='assets'``
    without balances. ``sample``: only the sampled accounts' rows (as ``build_features``).
    """
    from valuemodel.features.build import to_frame

    expr = label_expr(data, as_of, churn_horizon, value_horizon, churn_definition, end, config)
    if sample is not None:
        expr = sample.filter(expr)
    return to_frame(engine.to_pyarrow(expr), release=True)


def _coverage(
    dates, churn_horizon: int, value_horizon: int, churn_end: date | None, value_end: date | None
) -> ibis.Table:
    """Per as-of date: the churn window's end and whether each label window is covered by
    the date its table runs through."""

    def covered(t: date, horizon: int, end: date | None) -> bool:
        return end is not None and t + timedelta(days=horizon) <= end

    return ibis.memtable(
        pa.table(
            {
                "as_of": pa.array(dates, pa.date32()),
                "churn_until": pa.array(
                    [t + timedelta(days=churn_horizon) for t in dates], pa.date32()
                ),
                "churn_covered": [covered(t, churn_horizon, churn_end) for t in dates],
                "value_covered": [covered(t, value_horizon, value_end) for t in dates],
            }
        )
    )


def _future_revenue(data: DataSet, spine: Spine, horizon: int) -> Source:
    cal = _forward_calendar(spine, horizon)
    reach = (min(spine.dates), max(spine.dates) + timedelta(days=horizon))
    j = window_join(revenue_days(data, reach), "day", cal, "as_of", "until")
    table = j.group_by(list(KEYS)).aggregate(future_revenue=j.revenue.sum())
    return Source("future_revenue", table, {"future_revenue": 0.0})


def _future_trades(data: DataSet, spine: Spine, horizon: int) -> Source:
    cal = _forward_calendar(spine, horizon)
    reach = (min(spine.dates), max(spine.dates) + timedelta(days=horizon))
    j = window_join(trade_days(data, reach), "day", cal, "as_of", "until")
    table = j.group_by(list(KEYS)).aggregate(future_trade_days=j.count().cast(dt.float64))
    return Source("future_trades", table, {"future_trade_days": 0.0})


def _forward_calendar(spine: Spine, horizon: int) -> ibis.Table:
    dates = spine.dates
    return ibis.memtable(
        pa.table(
            {
                "as_of": pa.array(dates, pa.date32()),
                "until": pa.array([t + timedelta(days=horizon) for t in dates], pa.date32()),
            }
        )
    )
