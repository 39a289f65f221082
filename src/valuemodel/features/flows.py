"""Cash flows (with ``cashflows``): money in and out, counts, and the deposit pattern.

For each activity window ``w`` (the configured windows and the short ones, default 7 and 14):

- ``net_flow_{w}d``: signed sum of transfers dated in ``(T - w, T]`` (> 0 money in).
- ``outflow_{w}d``: money out in the window as a positive number; ``withdrawals_{w}d``: how
  many transfers out. ``inflow_{w}d`` / ``deposits_{w}d``: the same for money in.

For the configured windows only:

- ``outflow_share_{w}d`` = outflow / total_assets at T - w (with balances; null when that
  base is 0 or absent): "moved 35% of assets out in 30 days".

And:

- ``days_since_largest_withdrawal``: days from the largest transfer out dated in
  ``(T - 365, T]`` to T (the latest of equal ones, compared in whole cents); null when there
  was none.
- ``deposit_streak_months``: how many complete calendar months in a row, ending with the last
  complete month up to T (T's own month when T is its last day, else the month before), had
  at least one transfer in; capped at 12.
- ``days_since_deposit_free_month``: days from the last day of the latest complete month
  without a transfer in (among those 12) to T, i.e. from the end of the month before the
  streak; null when all 12 months had one (0 when T is the last day of a month without
  deposits).
"""

from __future__ import annotations

from datetime import date

import ibis
import ibis.expr.datatypes as dt
import pyarrow as pa

from valuemodel.data.reader import DataSet
from valuemodel.features.activity import (
    LARGEST_WITHDRAWAL_WINDOW,
    assets_at,
    days_since_key,
    flow_window_source,
)
from valuemodel.features.asof import Spine, last_month_end, month_end, month_index, ratio
from valuemodel.features.definition import Family, Feature
from valuemodel.features.parts import Source

STREAK_CAP = 12
"""``deposit_streak_months`` looks at the last 12 complete months."""

_FLOWS = ("cashflows",)
_ACTIVITY = ("windows", "short_windows")


def _windowed_flow(measure: str, unit: str, risk_direction: str) -> Feature:
    """``{measure}_{w}d``: a cash-flow sum or count over each activity window."""
    return Feature(
        f"{measure}_{{w}}d",
        unit=unit,
        requires=_FLOWS,
        risk_direction=risk_direction,
        window_sets=_ACTIVITY,
        sources=(flow_window_source,),
        expression=lambda x, w: x[f"{measure}_{w}"],
    )


def _days_since_largest_withdrawal(x: ibis.Table) -> ibis.Value:
    return days_since_key(x.as_of, x[f"top_out_{LARGEST_WITHDRAWAL_WINDOW}"])


def _days_since_deposit_free_month(x: ibis.Table) -> ibis.Value:
    return ibis.ifelse(x.deposit_streak_months == 0, x.month_end_days, x.deposit_free_days)


def _deposit_streak_source(data: DataSet, spine: Spine) -> Source:
    """``deposit_streak_months`` (0 when none) and ``deposit_free_days`` per (account, as_of).

    Months with a deposit are numbered, runs of consecutive months found as islands
    (``month - row_number``), and each as-of date keeps the run holding its last complete
    month: the streak is that month minus the run's first month plus one.
    """
    lasts = _last_complete_months(spine)
    first = min(lasts.values()) - STREAK_CAP
    cf = data.table("cashflows")
    cf = cf.filter(
        cf.amount > 0,
        cf.date > ibis.literal(month_end(first - 1), dt.date),
        cf.date <= ibis.literal(month_end(max(lasts.values())), dt.date),
    )
    months = cf.group_by(["account_id", (cf.date.year() * 12 + cf.date.month() - 1).name("m")])
    months = months.aggregate()
    order = ibis.row_number().over(ibis.window(group_by="account_id", order_by="m"))
    months = months.mutate(_n=order)
    months = months.mutate(island=months.m - months._n)
    runs = months.group_by(["account_id", "island"]).aggregate(
        lo=months.m.min(), hi=months.m.max()
    )
    at = _month_end_calendar(spine)
    j = runs.join(at, [runs.lo <= at["last"], runs.hi >= at["last"]])
    streak = ibis.least(j["last"] - j.lo + 1, STREAK_CAP).cast(dt.int64)
    per = j.select("account_id", "as_of", streak=streak).view()
    pairs = [(t, k) for t in spine.dates for k in range(STREAK_CAP)]
    days = _memtable(
        as_of=([p[0] for p in pairs], pa.date32()),
        streak=([p[1] for p in pairs], pa.int64()),
        deposit_free_days=([_free_days(t, lasts[t], k) for t, k in pairs], pa.float64()),
    )
    k = per.left_join(days, ["as_of", "streak"])
    table = k.select(
        "account_id",
        "as_of",
        "deposit_free_days",
        deposit_streak_months=k.streak.cast(dt.float64),
    )
    return Source("deposit_streaks", table, {"deposit_streak_months": 0.0})


def _month_end_days_source(data: DataSet, spine: Spine) -> Source:
    """``month_end_days`` per as_of: T - the end of the last complete month."""
    return Source("month_end_days", _month_end_calendar(spine).select("as_of", "month_end_days"))


def _month_end_calendar(spine: Spine) -> ibis.Table:
    """Per as_of: ``last`` (the last complete month's index) and ``month_end_days``."""
    lasts = _last_complete_months(spine)
    return _memtable(
        as_of=(list(spine.dates), pa.date32()),
        last=([lasts[t] for t in spine.dates], pa.int64()),
        month_end_days=([_free_days(t, lasts[t], 0) for t in spine.dates], pa.float64()),
    )


def _last_complete_months(spine: Spine) -> dict[date, int]:
    return {t: month_index(last_month_end(t)) for t in spine.dates}


def _free_days(t: date, last: int, streak: int) -> float:
    """Days from the end of the month ``streak`` months before ``last`` to ``t``."""
    return float((t - month_end(last - streak)).days)


def _memtable(**columns: tuple[list, pa.DataType]) -> ibis.Table:
    return ibis.memtable(pa.table({k: pa.array(v, t) for k, (v, t) in columns.items()}))


FLOWS = Family(
    "flows",
    (
        _windowed_flow("net_flow", "CNY", "lower"),
        _windowed_flow("outflow", "CNY", "higher"),
        _windowed_flow("inflow", "CNY", "lower"),
        Feature(
            "outflow_share_{w}d",
            unit="share",
            requires=("cashflows", "balances"),
            risk_direction="higher",
            sources=(flow_window_source,),
            expression=lambda x, w: ratio(x[f"outflow_{w}"], x[assets_at(-w)]),
        ),
        _windowed_flow("withdrawals", "transfers", "higher"),
        _windowed_flow("deposits", "transfers", "lower"),
        Feature(
            "days_since_largest_withdrawal",
            unit="days",
            requires=_FLOWS,
            risk_direction="lower",
            sources=(flow_window_source,),
            expression=_days_since_largest_withdrawal,
        ),
        Feature(
            "deposit_streak_months",
            unit="months",
            requires=_FLOWS,
            risk_direction="lower",
            sources=(_deposit_streak_source,),
            expression=lambda x: x.deposit_streak_months,
        ),
        Feature(
            "days_since_deposit_free_month",
            unit="days",
            requires=_FLOWS,
            risk_direction="higher",
            sources=(_deposit_streak_source, _month_end_days_source),
            expression=_days_since_deposit_free_month,
        ),
    ),
)
"""The cash-flow features, in output order."""
