"""Event tables reduced to one row per account and day, and the sources families share.

Each ``*_source`` function returns a ``parts.Source``: a table keyed by (account_id, as_of)
with a stable name, so that two families reading it share one join (see ``parts``).
"""

from __future__ import annotations

from datetime import date, timedelta

import ibis
import ibis.expr.datatypes as dt
import pyarrow as pa

from valuemodel.data.reader import DataSet
from valuemodel.features.asof import (
    ACTIVE_MONTHS,
    Spine,
    day_count,
    distinct_days,
    latest_on_or_before,
    month_index,
    ratio,
    shifted_name,
    values_at,
    windowed,
)
from valuemodel.features.parts import Source
from valuemodel.features.sessions import session_windowed, with_session

PRODUCT_SHARES = ("stock", "fund", "bond", "option")
"""Products whose share of traded value is a feature (``other`` is the remainder)."""

SHARE_WINDOW = 365
BUY_SHARE_WINDOW = 90
TREND_RECENT, TREND_BASE = 30, 120
RFM_WINDOW = 365
FIXED_WINDOWS = (TREND_RECENT, BUY_SHARE_WINDOW, TREND_BASE, SHARE_WINDOW)
"""Windows some features need whatever the configured windows are."""

BALANCE_VALUES = ("total_assets", "cash", "margin_debt", "stock_value", "fund_value", "bond_value")
LARGEST_WITHDRAWAL_WINDOW = 365
EPOCH = date(1970, 1, 1)
DAY_SLOTS = 100_000
"""``withdrawal_key`` packs (cents, days since ``EPOCH``) into one int64: cents * DAY_SLOTS +
days, exact on every engine, so the maximum key is the largest withdrawal, the latest of equal
ones (a tie-break that the engines agree on)."""


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
    return t.group_by(["account_id", t.trade_date.name("day")]).aggregate(**_trade_sums(t))


def _trade_sums(t: ibis.Table) -> dict[str, ibis.Value]:
    """The ``trade_days`` measures as aggregates over raw trade rows."""
    amount = t.amount
    aggs = {
        "trades": t.count().cast(dt.float64),
        "traded_value": amount.sum(),
        "commission": t.commission.sum(),
        "buy_value": amount.sum(where=t.side == "buy"),
        "sided_value": amount.sum(where=t.side.notnull()),
        "product_value": amount.sum(where=t.product.notnull()),
    }
    return aggs | {f"{p}_value": amount.sum(where=t.product == p) for p in PRODUCT_SHARES}


def revenue_days(data: DataSet, dates: tuple[date, date] | None = None) -> ibis.Table:
    """Revenue per account and day: (account_id, day, revenue) (within ``(after, until]``)."""
    t = _between(data.table("revenue"), "date", dates)
    return t.group_by(["account_id", t.date.name("day")]).aggregate(revenue=t.amount.sum())


def trade_intervals(data: DataSet, spine: Spine) -> ibis.Table:
    """Trades reduced per (account_id, _k) straight from the raw rows: the ``trade_days``
    measures, ``days`` (distinct trading days, see ``distinct_days``) and ``first_day`` (the
    earliest trading day)."""
    t = spine.cuts.assign(data.table("trades"), "trade_date", bit="_bit")
    return t.group_by(["account_id", "_k"]).aggregate(
        days=distinct_days(t._bit),
        first_day=t.trade_date.min(),
        **_trade_sums(t),
    )


def side_windows(spine: Spine) -> tuple[int, ...]:
    """The windows of ``buy_sell_balance_{w}d``: the short and the change windows."""
    return tuple(sorted({*spine.short, *spine.changes}))


def trade_window_source(data: DataSet, spine: Spine) -> Source:
    """Windowed trade sums per (account_id, as_of) for every window of the spine.

    Columns ``{m}_{w}`` for m in trades, days (active trading days), traded_value, commission
    and each window ``w``; ``{buy,sided}_value_{w}`` for 90 and each ``side_windows`` window;
    ``{product}_value_365``, ``product_value_365``. All 0 for accounts without trades.
    """
    per = trade_intervals(data, spine)
    measures = ["trades", "days", "traded_value", "commission"]
    sided = sorted({BUY_SHARE_WINDOW, *side_windows(spine)})
    fixed = [(m, w) for w in sided for m in ("buy_value", "sided_value")]
    products = ("product_value", *(f"{p}_value" for p in PRODUCT_SHARES))
    fixed += [(m, SHARE_WINDOW) for m in products]

    def combine(r: ibis.Table, inside) -> dict[str, ibis.Value]:
        aggs = {f"{m}_{w}": r[m].sum(where=inside(w)) for w in spine.back for m in measures}
        return aggs | {f"{m}_{w}": r[m].sum(where=inside(w)) for m, w in fixed}

    table = windowed(per, spine.cuts, spine.dates, spine.back, combine)
    return Source("trade_windows", table, dict.fromkeys(table.columns[2:], 0.0))


def active_months_source(data: DataSet, spine: Spine) -> Source:
    """``active_months``: calendar months of the 12 ending with T's month with a trade on or
    before T (0 for accounts without trades).

    Intervals never straddle a month end (month ends are cuts), so each interval's first
    trading day names its month.
    """
    per = trade_intervals(data, spine)
    month = per.first_day.year() * 12 + per.first_day.month() - 1
    firsts = per.group_by(["account_id", month.name("month")]).aggregate(first=per.first_day.min())
    pairs = [
        (t, m)
        for t in spine.dates
        for m in range(month_index(t) - ACTIVE_MONTHS + 1, month_index(t) + 1)
    ]
    months = ibis.memtable(
        pa.table(
            {
                "as_of": pa.array([p[0] for p in pairs], pa.date32()),
                "month": pa.array([p[1] for p in pairs], pa.int64()),
            }
        )
    )
    j = firsts.join(months, [firsts.month == months.month, firsts.first <= months.as_of])
    table = j.group_by(["account_id", "as_of"]).aggregate(active_months=j.count().cast(dt.float64))
    return Source("active_months", table, {"active_months": 0.0})


def login_intervals(data: DataSet, spine: Spine) -> ibis.Table:
    """Login days per (account_id, _k): ``logins`` (see ``distinct_days``)."""
    t = spine.cuts.assign(data.table("logins"), "date", bit="_bit")
    return t.group_by(["account_id", "_k"]).aggregate(logins=distinct_days(t._bit))


def login_window_source(data: DataSet, spine: Spine) -> Source:
    """``logins_{w}``: login days in each window of the spine (0 when none)."""
    per = login_intervals(data, spine)
    table = windowed(
        per,
        spine.cuts,
        spine.dates,
        spine.back,
        lambda r, inside: {f"logins_{w}": r.logins.sum(where=inside(w)) for w in spine.back},
    )
    return Source("login_windows", table, dict.fromkeys(table.columns[2:], 0.0))


def last_event_source(name: str, events: ibis.Table, date_col: str, spine: Spine) -> Source:
    """``last_{name}``: the latest ``date_col`` on or before each as-of date (null when none),
    and ``last_{name}_session``, its session number (``sessions.session_days``).

    ``events`` is a raw event table (any number of rows per day: only the latest date counts).
    """
    latest = latest_on_or_before(events, date_col, spine.dates)
    table = latest.select("account_id", as_of=latest.at, **{f"last_{name}": latest.last_date})
    table = with_session(table, f"last_{name}", f"last_{name}_session", spine)
    return Source(f"last_{name}", table)


def last_trade_source(data: DataSet, spine: Spine) -> Source:
    """``last_trade``: the date of the latest trade on or before each as-of date."""
    return last_event_source("trade", data.table("trades"), "trade_date", spine)


def flow_intervals(data: DataSet, spine: Spine) -> ibis.Table:
    """Cash flows reduced per (account_id, _k) straight from the raw rows: ``net_flow``,
    ``outflow`` and ``inflow`` (both positive), ``withdrawals`` and ``deposits`` (counts),
    ``weighted`` (``sum(flow * (hi - day))``, ``hi`` the interval's upper bound) and
    ``top_out`` (the largest ``withdrawal_key``, null without a withdrawal)."""
    t = spine.cuts.assign(data.table("cashflows"), "date", "_hi")
    out, into = t.amount < 0, t.amount > 0
    return t.group_by(["account_id", "_k"]).aggregate(
        net_flow=t.amount.sum(),
        outflow=(-t.amount).sum(where=out).fill_null(0.0),
        inflow=t.amount.sum(where=into).fill_null(0.0),
        withdrawals=t.count(where=out).cast(dt.float64),
        deposits=t.count(where=into).cast(dt.float64),
        weighted=(t.amount * day_count(t._hi, t.date)).sum(),
        top_out=withdrawal_key(t.amount, t.date).max(where=out),
    )


def withdrawal_key(amount: ibis.Value, day: ibis.Value) -> ibis.Value:
    """``round(-amount * 100) * DAY_SLOTS + days since EPOCH`` as int64 (see ``DAY_SLOTS``)."""
    cents = (-amount * 100).round().cast(dt.int64)
    days = day.delta(ibis.literal(EPOCH, dt.date), unit="day").cast(dt.int64)
    return cents * DAY_SLOTS + days


def days_since_key(as_of: ibis.Value, key: ibis.Value) -> ibis.Value:
    """Days from the date packed in a ``withdrawal_key`` to ``as_of`` (float64; null key
    gives null)."""
    return day_count(as_of, ibis.literal(EPOCH, dt.date)) - (key % DAY_SLOTS).cast(dt.float64)


def flow_window_source(data: DataSet, spine: Spine) -> Source:
    """Cash-flow sums per (account_id, as_of) for each activity window ``w`` (configured and
    short).

    ``net_flow_{w}``, ``outflow_{w}`` and ``inflow_{w}`` (positive), ``withdrawals_{w}`` and
    ``deposits_{w}`` (counts); for the configured windows ``weighted_flow_{w}``: the net flows
    weighted by the share of the window left after each (``(T - day) / w``: a flow on ``T``
    weighs 0, one on the window's first day nearly 1), the modified-Dietz denominator term.
    All 0 for accounts without flows. ``top_out_365``: the largest ``withdrawal_key`` dated in
    ``(T - 365, T]`` (null when none).

    Per interval the weighted sum is kept relative to the interval's upper bound ``hi``
    (``sum(flow * (hi - day))``); a window adds ``(T - hi) * sum(flow)`` for each interval.
    """
    windows = spine.activity_windows
    cuts = spine.cuts
    per = flow_intervals(data, spine)
    largest = LARGEST_WITHDRAWAL_WINDOW

    def values(j: ibis.Table) -> dict[str, ibis.Value]:
        return {"weighted": j.net_flow * j._gap + j.weighted}

    def combine(r: ibis.Table, inside) -> dict[str, ibis.Value]:
        aggs: dict[str, ibis.Value] = {}
        for w in windows:
            for m in ("net_flow", "outflow", "inflow", "withdrawals", "deposits"):
                aggs[f"{m}_{w}"] = r[m].sum(where=inside(w))
        for w in spine.windows:
            aggs[f"weighted_flow_{w}"] = r.weighted.sum(where=inside(w)) / w
        aggs[f"top_out_{largest}"] = r.top_out.max(where=inside(largest))
        return aggs

    rings = sorted({*windows, largest})
    table = windowed(per, cuts, spine.dates, rings, combine, values)
    fill = dict.fromkeys([c for c in table.columns[2:] if not c.startswith("top_out")], 0.0)
    return Source("flow_windows", table, fill)


def balance_window_source(data: DataSet, spine: Spine) -> Source:
    """Balance snapshots dated in ``(T - w, T]``: ``avg_assets_{w}`` (mean of the snapshots'
    total_assets) and ``max_assets_{w}`` for each configured window ``w`` (null when none)."""
    windows = spine.windows
    cuts = spine.cuts
    snaps = cuts.assign(data.table("balances"), "date")
    per = snaps.group_by(["account_id", "_k"]).aggregate(
        assets=snaps.total_assets.sum(),
        snapshots=snaps.total_assets.count(),
        top=snaps.total_assets.max(),
    )

    def combine(r: ibis.Table, inside) -> dict[str, ibis.Value]:
        aggs: dict[str, ibis.Value] = {}
        for w in windows:
            n = r.snapshots.sum(where=inside(w)).cast(dt.float64)
            aggs[f"avg_assets_{w}"] = ratio(r.assets.sum(where=inside(w)), n)
            aggs[f"max_assets_{w}"] = r.top.max(where=inside(w))
        return aggs

    table = windowed(per, cuts, spine.dates, windows, combine)
    return Source("balance_windows", table)


def revenue_window_source(data: DataSet, spine: Spine) -> Source:
    """``revenue_{w}``: revenue dated in ``(T - w, T]`` for each configured window."""
    windows = spine.windows
    cuts = spine.cuts
    t = cuts.assign(data.table("revenue"), "date")
    per = t.group_by(["account_id", "_k"]).aggregate(revenue=t.amount.sum())
    table = windowed(
        per,
        cuts,
        spine.dates,
        windows,
        lambda r, inside: {f"revenue_{w}": r.revenue.sum(where=inside(w)) for w in windows},
    )
    return Source("revenue_windows", table, dict.fromkeys(table.columns[2:], 0.0))


def balance_points(data: DataSet, spine: Spine) -> ibis.Table:
    """Balances at T, at T - w for each configured and change window and at T + h for label
    horizons.

    Columns ``shifted_name(v, s)`` for v in ``BALANCE_VALUES``. Part of the population base
    (source ``balance_points``) when there are balances.
    """
    shifts = [0, *(-w for w in {*spine.windows, *spine.changes}), *spine.forward]
    return values_at(data.table("balances"), "date", spine.dates, BALANCE_VALUES, shifts)


def assets_at(shift: int) -> str:
    """The ``balance_points`` column of total_assets at ``T + shift``."""
    return shifted_name("total_assets", shift)


def trade_session_source(data: DataSet, spine: Spine) -> Source:
    """``trades_{n}s`` and ``days_{n}s`` (active trading days): trades in the last ``n``
    sessions up to T for each session window (``sessions``; 0 for accounts without)."""
    measures = ("trades", "days")

    def combine(r: ibis.Table, inside) -> dict[str, ibis.Value]:
        return {f"{m}_{n}s": r[m].sum(where=inside(n)) for n in spine.sessions for m in measures}

    table = session_windowed(trade_intervals(data, spine), spine, combine)
    return Source("trade_sessions", table, dict.fromkeys(table.columns[2:], 0.0))


def login_session_source(data: DataSet, spine: Spine) -> Source:
    """``logins_{n}s``: login days in the last ``n`` sessions up to T (weekend logins count
    with the session before them; 0 for accounts without)."""

    def combine(r: ibis.Table, inside) -> dict[str, ibis.Value]:
        return {f"logins_{n}s": r.logins.sum(where=inside(n)) for n in spine.sessions}

    table = session_windowed(login_intervals(data, spine), spine, combine)
    return Source("login_sessions", table, dict.fromkeys(table.columns[2:], 0.0))
