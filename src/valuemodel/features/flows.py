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
from valuemodel.features.config import FeatureConfig
from valuemodel.features.parts import Part, Source, assemble

STREAK_CAP = 12
"""``deposit_streak_months`` looks at the last 12 complete months."""


def flow_part(data: DataSet, spine: Spine, config: FeatureConfig) -> Part | None:
    """Money in and out, counts, outflow share and the deposit pattern; None without
    cashflows."""
    if not data.has("cashflows"):
        return None
    balances = data.has("balances")
    sources = [flow_window_source(data, spine), *_deposit_month_sources(data, spine)]

    def features(x: ibis.Table) -> dict[str, ibis.Value]:
        out: dict[str, ibis.Value] = {}
        windows = spine.activity_windows
        for m in ("net_flow", "outflow", "inflow"):
            out |= {f"{m}_{w}d": x[f"{m}_{w}"] for w in windows}
        if balances:
            for w in spine.windows:
                out[f"outflow_share_{w}d"] = ratio(x[f"outflow_{w}"], x[assets_at(-w)])
        for m in ("withdrawals", "deposits"):
            out |= {f"{m}_{w}d": x[f"{m}_{w}"] for w in windows}
        key = x[f"top_out_{LARGEST_WITHDRAWAL_WINDOW}"]
        out["days_since_largest_withdrawal"] = days_since_key(x.as_of, key)
        streak = x.deposit_streak_months
        out["deposit_streak_months"] = streak
        out["days_since_deposit_free_month"] = ibis.ifelse(
            streak == 0, x.month_end_days, x.deposit_free_days
        )
        return out

    return Part("flows", sources, features)


def flow_features(data: DataSet, spine: Spine, config: FeatureConfig) -> ibis.Table | None:
    """Cash-flow features per (account_id, as_of); None without cashflows."""
    part = flow_part(data, spine, config)
    return None if part is None else assemble(spine, [part])


def _deposit_month_sources(data: DataSet, spine: Spine) -> list[Source]:
    """``deposit_streak_months`` (0 when none) and ``deposit_free_days`` per (account, as_of),
    and ``month_end_days`` (T - the last complete month's end) per as_of.

    Months with a deposit are numbered, runs of consecutive months found as islands
    (``month - row_number``), and each as-of date keeps the run holding its last complete
    month: the streak is that month minus the run's first month plus one.
    """
    lasts = {t: month_index(last_month_end(t)) for t in spine.dates}
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
    at = _memtable(
        as_of=(list(spine.dates), pa.date32()),
        last=([lasts[t] for t in spine.dates], pa.int64()),
        month_end_days=([_free_days(t, lasts[t], 0) for t in spine.dates], pa.float64()),
    )
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
    return [
        Source("deposit_streaks", table, {"deposit_streak_months": 0.0}),
        Source("month_end_days", at.select("as_of", "month_end_days")),
    ]


def _free_days(t: date, last: int, streak: int) -> float:
    """Days from the end of the month ``streak`` months before ``last`` to ``t``."""
    return float((t - month_end(last - streak)).days)


def _memtable(**columns: tuple[list, pa.DataType]) -> ibis.Table:
    return ibis.memtable(pa.table({k: pa.array(v, t) for k, (v, t) in columns.items()}))
