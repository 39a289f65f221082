"""Event tables reduced to one row per account and day, and the sources families share.

Each ``*_source`` function returns a ``parts.Source``: a table keyed by (account_id, as_of)
with a stable name, so that two families reading it share one join (see ``parts``).
"""

from __future__ import annotations

from datetime import date, timedelta

import ibis
import ibis.expr.datatypes as dt

from valuemodel.data.reader import DataSet
from valuemodel.features.asof import (
    Spine,
    day_count,
    latest_on_or_before,
    shifted_name,
    values_at,
    window_join,
)
from valuemodel.features.parts import Source

PRODUCT_SHARES = ("stock", "fund", "bond", "option")
"""Products whose share of traded value is a feature (``other`` is the remainder)."""

SHARE_WINDOW = 365
BUY_SHARE_WINDOW = 90
TREND_RECENT, TREND_BASE = 30, 120
RFM_WINDOW = 365
FIXED_WINDOWS = (TREND_RECENT, BUY_SHARE_WINDOW, TREND_BASE, SHARE_WINDOW)
"""Windows some features need whatever the configured windows are."""

BALANCE_VALUES = ("total_assets", "cash", "margin_debt")


def span(spine: Spine) -> tuple[date, date]:
    """Dates ``(after, until]`` that any back-looking window of the spine can reach.

    Event tables are cut to it before being reduced to account-days, so that the reduction
    does not pay for history no window looks at.
    """
    reach = max(max(spine.back), 366)  # 366: the first of the 12 calendar months
    return min(spine.dates) - timedelta(days=reach), max(spine.dates)


def _between(t: ibis.Table, col: str, dates: tuple[date, date] | None) -> ibis.Table:
    if dates is None:
        return t
    after, until = dates
    return t.filter(t[col] > ibis.literal(after, dt.date), t[col] <= ibis.literal(until, dt.date))


def trade_days(data: DataSet, dates: tuple[date, date] | None = None) -> ibis.Table:
    """Trades per account and day, within ``(after, until]`` when ``dates`` is given.

    Columns: account_id, day, trades, traded_value, commission, buy_value, sided_value,
    {product}_value, product_value.

    ``sided_value`` / ``product_value`` are the traded value of trades whose side / product is
    known (null when none is), the denominators of the buy and product shares.
    """
    t = _between(data.table("trades"), "trade_date", dates)
    amount = t.amount
    aggs = {
        "trades": t.count().cast(dt.float64),
        "traded_value": amount.sum(),
        "commission": t.commission.sum(),
        "buy_value": amount.sum(where=t.side == "buy"),
        "sided_value": amount.sum(where=t.side.notnull()),
        "product_value": amount.sum(where=t.product.notnull()),
    }
    aggs |= {f"{p}_value": amount.sum(where=t.product == p) for p in PRODUCT_SHARES}
    return t.group_by(["account_id", t.trade_date.name("day")]).aggregate(**aggs)


def login_days(data: DataSet, dates: tuple[date, date] | None = None) -> ibis.Table:
    """Distinct (account_id, day) with a login (within ``(after, until]``)."""
    t = _between(data.table("logins"), "date", dates)
    return t.group_by(["account_id", t.date.name("day")]).aggregate()


def cashflow_days(data: DataSet, dates: tuple[date, date] | None = None) -> ibis.Table:
    """Cash flows per account and day: (account_id, day, net_flow, outflow, deposits,
    withdrawals); ``outflow`` is positive, ``deposits``/``withdrawals`` count transfers."""
    t = _between(data.table("cashflows"), "date", dates)
    out = t.amount < 0
    return t.group_by(["account_id", t.date.name("day")]).aggregate(
        net_flow=t.amount.sum(),
        outflow=(-t.amount).sum(where=out).fill_null(0.0),
        deposits=t.count(where=t.amount > 0).cast(dt.float64),
        withdrawals=t.count(where=out).cast(dt.float64),
    )


def revenue_days(data: DataSet, dates: tuple[date, date] | None = None) -> ibis.Table:
    """Revenue per account and day: (account_id, day, revenue) (within ``(after, until]``)."""
    t = _between(data.table("revenue"), "date", dates)
    return t.group_by(["account_id", t.date.name("day")]).aggregate(revenue=t.amount.sum())


def trade_window_source(data: DataSet, spine: Spine) -> Source:
    """Windowed trade sums per (account_id, as_of) for every window of the spine.

    Columns ``{m}_{w}`` for m in trades, days (active trading days), traded_value, commission
    and each window ``w``; ``{buy,sided}_value_90``, ``{product}_value_365``,
    ``product_value_365``; ``active_months`` (calendar months of the 12 ending with T's month
    with a trade). All 0 for accounts without trades.
    """
    j = window_join(trade_days(data, span(spine)), "day", spine.calendar, "join_start")
    aggs: dict[str, ibis.Value] = {}
    for w in spine.back:
        inside = j.day > j[f"start_{w}"]
        aggs[f"trades_{w}"] = j.trades.sum(where=inside)
        aggs[f"days_{w}"] = j.count(where=inside).cast(dt.float64)
        aggs[f"traded_value_{w}"] = j.traded_value.sum(where=inside)
        aggs[f"commission_{w}"] = j.commission.sum(where=inside)
    buy = j.day > j[f"start_{BUY_SHARE_WINDOW}"]
    for m in ("buy_value", "sided_value"):
        aggs[f"{m}_{BUY_SHARE_WINDOW}"] = j[m].sum(where=buy)
    share = j.day > j[f"start_{SHARE_WINDOW}"]
    for m in ("product_value", *(f"{p}_value" for p in PRODUCT_SHARES)):
        aggs[f"{m}_{SHARE_WINDOW}"] = j[m].sum(where=share)
    month = j.day.year() * 12 + j.day.month() - 1
    aggs["active_months"] = month.nunique(where=month >= j.month_from).cast(dt.float64)
    table = j.group_by(["account_id", "as_of"]).aggregate(**aggs)
    return Source("trade_windows", table, dict.fromkeys(aggs, 0.0))


def login_window_source(data: DataSet, spine: Spine) -> Source:
    """``logins_{w}``: login days in each window of the spine (0 when none)."""
    j = window_join(login_days(data, span(spine)), "day", spine.calendar, "join_start")
    aggs = {
        f"logins_{w}": j.count(where=j.day > j[f"start_{w}"]).cast(dt.float64) for w in spine.back
    }
    table = j.group_by(["account_id", "as_of"]).aggregate(**aggs)
    return Source("login_windows", table, dict.fromkeys(aggs, 0.0))


def last_event_source(name: str, events: ibis.Table, date_col: str, spine: Spine) -> Source:
    """``last_{name}``: the latest ``date_col`` on or before each as-of date (null when none).

    ``events`` is a raw event table (any number of rows per day: only the latest date counts).
    """
    latest = latest_on_or_before(events, date_col, spine.dates)
    table = latest.select("account_id", as_of=latest.at, **{f"last_{name}": latest.last_date})
    return Source(f"last_{name}", table)


def last_trade_source(data: DataSet, spine: Spine) -> Source:
    """``last_trade``: the date of the latest trade on or before each as-of date."""
    return last_event_source("trade", data.table("trades"), "trade_date", spine)


def flow_window_source(data: DataSet, spine: Spine) -> Source:
    """Cash-flow sums per (account_id, as_of) for each configured window ``w``.

    ``net_flow_{w}``, ``outflow_{w}`` (positive), ``withdrawals_{w}`` (count), and
    ``weighted_flow_{w}``: the net flows weighted by the share of the window left after each
    (``(T - day) / w``: a flow on ``T`` weighs 0, one on the window's first day nearly 1), the
    modified-Dietz denominator term. All 0 for accounts without flows.
    """
    windows = spine.windows
    days = cashflow_days(data, span(spine))
    j = window_join(days, "day", spine.calendar, f"start_{max(windows)}")
    left = day_count(j.as_of, j.day)
    aggs: dict[str, ibis.Value] = {}
    for w in windows:
        inside = j.day > j[f"start_{w}"]
        aggs[f"net_flow_{w}"] = j.net_flow.sum(where=inside)
        aggs[f"outflow_{w}"] = j.outflow.sum(where=inside)
        aggs[f"withdrawals_{w}"] = j.withdrawals.sum(where=inside)
        aggs[f"weighted_flow_{w}"] = (j.net_flow * left / w).sum(where=inside)
    table = j.group_by(["account_id", "as_of"]).aggregate(**aggs)
    return Source("flow_windows", table, dict.fromkeys(aggs, 0.0))


def balance_window_source(data: DataSet, spine: Spine) -> Source:
    """Balance snapshots dated in ``(T - w, T]``: ``avg_assets_{w}`` (mean of the snapshots'
    total_assets) and ``max_assets_{w}`` for each configured window ``w`` (null when none)."""
    windows = spine.windows
    j = window_join(data.table("balances"), "date", spine.calendar, f"start_{max(windows)}")
    aggs: dict[str, ibis.Value] = {}
    for w in windows:
        inside = j.date > j[f"start_{w}"]
        aggs[f"avg_assets_{w}"] = j.total_assets.mean(where=inside)
        aggs[f"max_assets_{w}"] = j.total_assets.max(where=inside)
    return Source("balance_windows", j.group_by(["account_id", "as_of"]).aggregate(**aggs))


def revenue_window_source(data: DataSet, spine: Spine) -> Source:
    """``revenue_{w}``: revenue dated in ``(T - w, T]`` for each configured window."""
    windows = spine.windows
    days = revenue_days(data, span(spine))
    j = window_join(days, "day", spine.calendar, f"start_{max(windows)}")
    aggs = {f"revenue_{w}": j.revenue.sum(where=j.day > j[f"start_{w}"]) for w in windows}
    table = j.group_by(["account_id", "as_of"]).aggregate(**aggs)
    return Source("revenue_windows", table, dict.fromkeys(aggs, 0.0))


def balance_points(data: DataSet, spine: Spine) -> ibis.Table:
    """Balances at T, at T - w for each configured window and at T + h for label horizons.

    Columns ``shifted_name(v, s)`` for v in ``BALANCE_VALUES``. Part of the population base
    (source ``balance_points``) when there are balances.
    """
    shifts = [0, *(-w for w in spine.windows), *spine.forward]
    return values_at(data.table("balances"), "date", spine.dates, BALANCE_VALUES, shifts)


def assets_at(shift: int) -> str:
    """The ``balance_points`` column of total_assets at ``T + shift``."""
    return shifted_name("total_assets", shift)
