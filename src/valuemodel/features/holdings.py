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

from valuemodel.data.reader import DataSet
from valuemodel.features.asof import Spine, latest_on_or_before, ratio
from valuemodel.features.config import FeatureConfig
from valuemodel.features.parts import Part, Source, assemble


def holding_part(data: DataSet, spine: Spine, config: FeatureConfig) -> Part | None:
    """Positions count, concentration, top weight, unrealized P&L and their changes; None
    without positions."""
    if not data.has("positions"):
        return None
    shifts = (0, *spine.changes)
    agg = _holdings_at(data.table("positions"), spine, shifts)
    fill = {f"positions_count{_at(s)}": 0.0 for s in shifts}
    source = Source("holdings", agg, fill)

    def hhi(x: ibis.Table, s: int) -> ibis.Value:
        total = x[f"held_value{_at(s)}"]
        return ratio(x[f"held_squares{_at(s)}"], total * total)

    def pnl(x: ibis.Table, s: int) -> ibis.Value:
        return ratio(x[f"costed_value{_at(s)}"], x[f"held_cost{_at(s)}"]) - 1.0

    def features(x: ibis.Table) -> dict[str, ibis.Value]:
        out = {
            "positions_count": x.positions_count,
            "holdings_hhi": hhi(x, 0),
            "top_holding_weight": ratio(x.held_top, x.held_value),
            "unrealized_pnl_ratio": pnl(x, 0),
        }
        count = {s: x[f"positions_count{_at(s)}"] for s in shifts}
        out |= {f"positions_count_change_{w}d": count[0] - count[w] for w in spine.changes}
        out |= {f"holdings_hhi_change_{w}d": hhi(x, 0) - hhi(x, w) for w in spine.changes}
        out |= {f"unrealized_pnl_ratio_change_{w}d": pnl(x, 0) - pnl(x, w) for w in spine.changes}
        return out

    return Part("holdings", [source], features)


def _at(shift: int) -> str:
    """The column suffix of the snapshot on or before T - shift ('' for T itself)."""
    return f"_{shift}" if shift else ""


def _holdings_at(pos: ibis.Table, spine: Spine, shifts: tuple[int, ...]) -> ibis.Table:
    """Per (account_id, as_of), for each shift ``s``, the latest snapshot on or before T - s:
    ``positions_count``, ``held_value``, ``held_squares``, ``costed_value``, ``held_cost``
    (suffixed ``_s``; none for s = 0), and ``held_top`` at T. One group-by over the snapshot
    rows, each joined to every (as_of, shift) it is the latest for."""
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


def holding_features(data: DataSet, spine: Spine, config: FeatureConfig) -> ibis.Table | None:
    """Holding features per (account_id, as_of); None without positions."""
    part = holding_part(data, spine, config)
    return None if part is None else assemble(spine, [part])
