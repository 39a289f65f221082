"""Holdings (with ``positions``) from each account's latest positions snapshot on or before T.

- ``positions_count``: positions with a market value > 0 (0 when the account has no snapshot).
- ``holdings_hhi``: sum of squared weights (market value / total market value), 1 = a single
  holding; ``top_holding_weight``: the largest weight. Null when the total is 0.
- ``unrealized_pnl_ratio`` = market value / cost basis - 1 over positions with a cost basis
  (null without cost_basis or when it sums to 0).
- For each change window ``w`` (default 7, 30, 90 days), the same quantity at T minus at
  T - w, each from the latest snapshot on or before that date: ``positions_count_change_{w}d``
  (counts, 0 without a snapshot), ``holdings_hhi_change_{w}d`` and
  ``unrealized_pnl_ratio_change_{w}d`` (null when either side is null).

A snapshot may be old (an account whose positions stopped being reported keeps its last
snapshot); ``days_since_last_*`` and the asset features show staleness.
"""

from __future__ import annotations

from datetime import timedelta

import ibis
import ibis.expr.datatypes as dt
import pyarrow as pa

from valuemodel.data import normalise
from valuemodel.data.reader import DataSet
from valuemodel.features.asof import Spine, latest_on_or_before, ratio
from valuemodel.features.definition import Family, Feature
from valuemodel.features.parts import Source

_POSITIONS = ("positions",)
_CHANGES = ("change_windows",)


def _holdings_source(data: DataSet, spine: Spine) -> Source:
    """The snapshot aggregates at T and at T - w for each change window (``_holdings_at``)."""
    shifts = (0, *spine.changes)
    fill = {f"positions_count{_at(s)}": 0.0 for s in shifts}
    table = _holdings_at(data.lots(), spine, shifts, data.sums_lots)
    return Source("holdings", table, fill)


def _count(x: ibis.Table, s: int) -> ibis.Value:
    return x[f"positions_count{_at(s)}"]


def _hhi(x: ibis.Table, s: int) -> ibis.Value:
    total = x[f"held_value{_at(s)}"]
    return ratio(x[f"held_squares{_at(s)}"], total * total)


def _pnl(x: ibis.Table, s: int) -> ibis.Value:
    return ratio(x[f"costed_value{_at(s)}"], x[f"held_cost{_at(s)}"]) - 1.0


def _at(shift: int) -> str:
    """The column suffix of the snapshot on or before T - shift ('' for T itself)."""
    return f"_{shift}" if shift else ""


def _holdings_at(
    pos: ibis.Table, spine: Spine, shifts: tuple[int, ...], sum_lots: bool
) -> ibis.Table:
    """Per (account_id, as_of), for each shift ``s``, the latest snapshot on or before T - s:
    ``positions_count``, ``held_value``, ``held_squares``, ``costed_value``, ``held_cost``
    (suffixed ``_s``; none for s = 0), and ``held_top`` at T. One group-by over the snapshot
    rows, each joined to every (as_of, shift) it is the latest for.

    ``pos`` has one row per lot; with ``sum_lots`` the lots of a symbol are summed after the
    join, over the chosen snapshots only (at 100k accounts 1M rows instead of all 7.8M)."""
    pairs = [(t, t - timedelta(days=s), s) for t in spine.dates for s in shifts]
    snap = latest_on_or_before(pos, "date", [p[1] for p in pairs])
    targets = ibis.memtable(
        pa.table(
            {
                "as_of": pa.array([p[0] for p in pairs], pa.date32()),
                "_at": pa.array([p[1] for p in pairs], pa.date32()),
                "_shift": pa.array([p[2] for p in pairs], pa.int64()),
            }
        )
    )
    snap = snap.join(targets, snap.at == targets._at).select(
        "account_id", "last_date", "as_of", "_shift"
    )
    j = pos.join(snap, [pos.account_id == snap.account_id, pos.date == snap.last_date])
    if sum_lots:
        j = normalise.sum_lots(j, by=("account_id", "as_of", "_shift"))
    mv = j.market_value
    costed = j.cost_basis.notnull()
    aggs: dict[str, ibis.Value] = {}
    for s in shifts:
        here = j._shift == s
        aggs[f"positions_count{_at(s)}"] = j.count(where=here & (mv > 0)).cast(dt.float64)
        aggs[f"held_value{_at(s)}"] = mv.sum(where=here)
        aggs[f"held_squares{_at(s)}"] = (mv * mv).sum(where=here)
        aggs[f"costed_value{_at(s)}"] = mv.sum(where=here & costed)
        aggs[f"held_cost{_at(s)}"] = j.cost_basis.sum(where=here & costed)
    aggs["held_top"] = mv.max(where=j._shift == 0)
    return j.group_by(["account_id", "as_of"]).aggregate(**aggs)


HOLDINGS = Family(
    "holdings",
    (
        Feature(
            "positions_count",
            unit="positions",
            requires=_POSITIONS,
            risk_direction="lower",
            sources=(_holdings_source,),
            expression=lambda x: _count(x, 0),
        ),
        Feature(
            "holdings_hhi",
            unit="index 0-1",
            requires=_POSITIONS,
            risk_direction="none",
            sources=(_holdings_source,),
            expression=lambda x: _hhi(x, 0),
        ),
        Feature(
            "top_holding_weight",
            unit="share 0-1",
            requires=_POSITIONS,
            risk_direction="none",
            sources=(_holdings_source,),
            expression=lambda x: ratio(x.held_top, x.held_value),
        ),
        Feature(
            "unrealized_pnl_ratio",
            unit="share",
            requires=_POSITIONS,
            risk_direction="lower",
            market=True,
            sources=(_holdings_source,),
            expression=lambda x: _pnl(x, 0),
        ),
        Feature(
            "positions_count_change_{w}d",
            unit="positions",
            requires=_POSITIONS,
            risk_direction="lower",
            window_sets=_CHANGES,
            sources=(_holdings_source,),
            expression=lambda x, w: _count(x, 0) - _count(x, w),
        ),
        Feature(
            "holdings_hhi_change_{w}d",
            unit="index points",
            requires=_POSITIONS,
            risk_direction="none",
            window_sets=_CHANGES,
            sources=(_holdings_source,),
            expression=lambda x, w: _hhi(x, 0) - _hhi(x, w),
        ),
        Feature(
            "unrealized_pnl_ratio_change_{w}d",
            unit="share points",
            requires=_POSITIONS,
            risk_direction="lower",
            market=True,
            window_sets=_CHANGES,
            sources=(_holdings_source,),
            expression=lambda x, w: _pnl(x, 0) - _pnl(x, w),
        ),
    ),
)
"""The holding features, in output order."""
