"""Assets and P&L (with ``balances``; P&L also needs ``cashflows``).

- ``total_assets``: the latest snapshot on or before T; ``avg_assets_{w}d``: the plain mean of
  the snapshots dated in ``(T - w, T]`` (with daily snapshots, a daily average; with sparse
  ones, of whatever snapshots fall in the window; null when none does).
- ``asset_growth_{w}d`` = total_assets at T / total_assets at T - w - 1 (each the latest
  snapshot on or before; null when the base is 0 or absent).
- ``drawdown_{w}d`` = 1 - total_assets at T / the largest snapshot in ``(T - w, T]``. Flows
  are not removed: a withdrawal reads as a drawdown.
- ``pnl_{w}d`` = assets at T - assets at T - w - net flows in ``(T - w, T]``;
  ``return_{w}d`` is the modified Dietz return: pnl / (assets at T - w + flows weighted by the
  share of the window left after each). Null when the base is absent or the denominator <= 0.
- ``profitable_month_share_12m``: among the last 12 complete calendar months up to T (the
  month of T counts when T is its last day) with month-end assets at both ends, the share
  whose P&L (month-end assets change minus the month's net flows) was > 0.
- ``margin_usage`` = margin_debt / total_assets, ``cash_share`` = cash / total_assets at T.

Change of state, for each change window ``w`` (default 7, 30, 90 days), each side the latest
snapshot on or before T and on or before T - w (null when either is absent):

- ``asset_change_{w}d`` = total_assets at T - total_assets at T - w (CNY); the ratio is
  ``asset_growth_{w}d``, computed for the change windows too.
- ``cash_share_change_{w}d``, ``{stock,fund,bond}_weight_change_{w}d``: the share of
  total_assets held as cash, stocks, funds, bonds at T minus the same share at T - w (share
  points; a sell-down into cash reads as cash up, stocks down). Value ratios per product are
  not separate features: they follow from the weight change and ``asset_growth_{w}d``.
- ``margin_debt_change_{w}d`` = margin_debt at T - margin_debt at T - w (CNY).
"""

from __future__ import annotations

from datetime import date

import ibis
import ibis.expr.datatypes as dt

from valuemodel.data.reader import DataSet
from valuemodel.features.activity import (
    assets_at,
    balance_window_source,
    flow_window_source,
    shifted_name,
)
from valuemodel.features.asof import (
    Spine,
    last_month_end,
    latest_on_or_before,
    month_end,
    month_index,
    ratio,
)
from valuemodel.features.config import FeatureConfig
from valuemodel.features.parts import Part, Source, assemble


def asset_part(data: DataSet, spine: Spine, config: FeatureConfig) -> Part | None:
    """Asset and P&L features; None without balances (P&L also needs cashflows)."""
    if not data.has("balances"):
        return None
    flows = data.has("cashflows")
    sources = [balance_window_source(data, spine)]
    if flows:
        sources += [flow_window_source(data, spine), _profitable_month_source(data, spine)]

    def features(x: ibis.Table) -> dict[str, ibis.Value]:
        ta = x[assets_at(0)]
        out: dict[str, ibis.Value] = {"total_assets": ta}
        for w in spine.windows:
            out[f"avg_assets_{w}d"] = x[f"avg_assets_{w}"]
        for w in sorted({*spine.windows, *spine.changes}):
            out[f"asset_growth_{w}d"] = ratio(ta, x[assets_at(-w)]) - 1.0
        if flows:
            for w in spine.windows:
                base = x[assets_at(-w)]
                pnl = ta - base - x[f"net_flow_{w}"]
                invested = base + x[f"weighted_flow_{w}"]
                out[f"pnl_{w}d"] = pnl
                out[f"return_{w}d"] = ibis.ifelse(
                    invested > 0, pnl / invested, ibis.null(dt.float64)
                )
        for w in spine.windows:
            out[f"drawdown_{w}d"] = 1.0 - ratio(ta, x[f"max_assets_{w}"])
        if flows:
            out["profitable_month_share_12m"] = x.profitable_month_share
        out["margin_usage"] = ratio(x[shifted_name("margin_debt", 0)], ta)
        out["cash_share"] = ratio(x[shifted_name("cash", 0)], ta)
        return out | _changes(x, spine.changes)

    return Part("assets", sources, features)


def _changes(x: ibis.Table, windows: tuple[int, ...]) -> dict[str, ibis.Value]:
    """The change-of-state features (see the module docstring), grouped by quantity."""

    def share(value: str, shift: int) -> ibis.Value:
        return ratio(x[shifted_name(value, shift)], x[assets_at(shift)])

    def diff(value: str, w: int) -> ibis.Value:
        return x[shifted_name(value, 0)] - x[shifted_name(value, -w)]

    out: dict[str, ibis.Value] = {}
    out |= {f"asset_change_{w}d": diff("total_assets", w) for w in windows}
    for value, name in SHARES:
        out |= {f"{name}_change_{w}d": share(value, 0) - share(value, -w) for w in windows}
    out |= {f"margin_debt_change_{w}d": diff("margin_debt", w) for w in windows}
    return out


SHARES = (
    ("cash", "cash_share"),
    ("stock_value", "stock_weight"),
    ("fund_value", "fund_weight"),
    ("bond_value", "bond_weight"),
)
"""Balance columns whose share of total_assets changes are features, and the feature stems."""


def asset_features(data: DataSet, spine: Spine, config: FeatureConfig) -> ibis.Table | None:
    """Asset and P&L features per (account_id, as_of); None without balances."""
    part = asset_part(data, spine, config)
    return None if part is None else assemble(spine, [part])


def _month_ends(dates: tuple[date, ...]) -> list[date]:
    ends = set()
    for t in dates:
        last = month_index(last_month_end(t))
        ends |= {month_end(m) for m in range(last - 12, last + 1)}
    return sorted(ends)


def _profitable_month_source(data: DataSet, spine: Spine) -> Source:
    ends = _month_ends(spine.dates)
    latest = latest_on_or_before(data.table("balances"), "date", ends, ["total_assets"])
    latest = latest.mutate(month=latest.at.year() * 12 + latest.at.month() - 1)
    before = latest.select("account_id", month=latest.month + 1, prev_assets=latest.total_assets)
    months = latest.join(before, ["account_id", "month"])
    cf = data.table("cashflows")
    cf = cf.filter(cf.date <= ibis.literal(ends[-1], dt.date))
    per_month = cf.group_by(
        ["account_id", (cf.date.year() * 12 + cf.date.month() - 1).name("month")]
    ).aggregate(flow=cf.amount.sum())
    months = months.left_join(per_month, ["account_id", "month"]).select(
        "account_id",
        "at",
        pnl=months.total_assets - months.prev_assets - per_month.flow.fill_null(0.0),
    )
    cal = spine.calendar.select("as_of", "pnl_from", "pnl_to")
    j = months.join(cal, [months.at > cal.pnl_from, months.at <= cal.pnl_to])
    share = (j.pnl > 0).cast(dt.float64).mean()
    table = j.group_by(["account_id", "as_of"]).aggregate(profitable_month_share=share)
    return Source("profitable_months", table)
