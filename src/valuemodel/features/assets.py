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
from valuemodel.features.definition import Family, Feature, PerWindow
from valuemodel.features.parts import Source

_BALANCES = ("balances",)
_BALANCES_AND_FLOWS = ("balances", "cashflows")
_CHANGES = ("change_windows",)


def _pnl(x: ibis.Table, w: int) -> ibis.Value:
    """Assets at T - assets at T - w - net flows in the window."""
    return x[assets_at(0)] - x[assets_at(-w)] - x[f"net_flow_{w}"]


def _return(x: ibis.Table, w: int) -> ibis.Value:
    """Modified Dietz: P&L over the assets at T - w plus the time-weighted flows."""
    invested = x[assets_at(-w)] + x[f"weighted_flow_{w}"]
    return ibis.ifelse(invested > 0, _pnl(x, w) / invested, ibis.null(dt.float64))


def _share(x: ibis.Table, value: str, shift: int) -> ibis.Value:
    return ratio(x[shifted_name(value, shift)], x[assets_at(shift)])


def _change(value: str, stem: str, risk_direction: str) -> Feature:
    """``{stem}_change_{w}d``: a balance amount at T minus at T - w (CNY)."""
    return Feature(
        f"{stem}_change_{{w}}d",
        unit="CNY",
        requires=_BALANCES,
        risk_direction=risk_direction,
        window_sets=_CHANGES,
        expression=lambda x, w: x[shifted_name(value, 0)] - x[shifted_name(value, -w)],
    )


def _share_change(value: str, stem: str, risk_direction: str) -> Feature:
    """``{stem}_change_{w}d``: a balance column's share of total assets at T minus at T - w."""
    return Feature(
        f"{stem}_change_{{w}}d",
        unit="share points",
        requires=_BALANCES,
        risk_direction=risk_direction,
        window_sets=_CHANGES,
        expression=lambda x, w: _share(x, value, 0) - _share(x, value, -w),
    )


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


def _month_ends(dates: tuple[date, ...]) -> list[date]:
    ends = set()
    for t in dates:
        last = month_index(last_month_end(t))
        ends |= {month_end(m) for m in range(last - 12, last + 1)}
    return sorted(ends)


ASSETS = Family(
    "assets",
    (
        Feature(
            "total_assets",
            unit="CNY",
            requires=_BALANCES,
            risk_direction="lower",
            expression=lambda x: x[assets_at(0)],
        ),
        Feature(
            "avg_assets_{w}d",
            unit="CNY",
            requires=_BALANCES,
            risk_direction="lower",
            sources=(balance_window_source,),
            expression=lambda x, w: x[f"avg_assets_{w}"],
        ),
        Feature(
            "asset_growth_{w}d",
            unit="share",
            requires=_BALANCES,
            risk_direction="lower",
            market=True,
            window_sets=("windows", "change_windows"),
            expression=lambda x, w: ratio(x[assets_at(0)], x[assets_at(-w)]) - 1.0,
        ),
        PerWindow(
            (
                Feature(
                    "pnl_{w}d",
                    unit="CNY",
                    requires=_BALANCES_AND_FLOWS,
                    risk_direction="lower",
                    market=True,
                    sources=(flow_window_source,),
                    expression=_pnl,
                ),
                Feature(
                    "return_{w}d",
                    unit="share",
                    requires=_BALANCES_AND_FLOWS,
                    risk_direction="lower",
                    market=True,
                    sources=(flow_window_source,),
                    expression=_return,
                ),
            )
        ),
        Feature(
            "drawdown_{w}d",
            unit="share 0-1",
            requires=_BALANCES,
            risk_direction="higher",
            market=True,
            sources=(balance_window_source,),
            expression=lambda x, w: 1.0 - ratio(x[assets_at(0)], x[f"max_assets_{w}"]),
        ),
        Feature(
            "profitable_month_share_12m",
            unit="share 0-1",
            requires=_BALANCES_AND_FLOWS,
            risk_direction="lower",
            market=True,
            sources=(_profitable_month_source,),
            expression=lambda x: x.profitable_month_share,
        ),
        Feature(
            "margin_usage",
            unit="share",
            requires=_BALANCES,
            risk_direction="none",
            expression=lambda x: _share(x, "margin_debt", 0),
        ),
        Feature(
            "cash_share",
            unit="share 0-1",
            requires=_BALANCES,
            risk_direction="higher",
            expression=lambda x: _share(x, "cash", 0),
        ),
        _change("total_assets", "asset", "lower"),
        _share_change("cash", "cash_share", "higher"),
        _share_change("stock_value", "stock_weight", "lower"),
        _share_change("fund_value", "fund_weight", "lower"),
        _share_change("bond_value", "bond_weight", "none"),
        _change("margin_debt", "margin_debt", "lower"),
    ),
)
"""The asset and P&L features, in output order."""
