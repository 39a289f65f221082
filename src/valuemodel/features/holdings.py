"""Holdings (with ``positions``) from each account's latest positions snapshot on or before T.

- ``positions_count``: positions with a market value > 0 (0 when the account has no snapshot).
- ``holdings_hhi``: sum of squared weights (market value / total market value), 1 = a single
  holding; ``top_holding_weight``: the largest weight. Null when the total is 0.
- ``unrealized_pnl_ratio`` = market value / cost basis - 1 over positions with a cost basis
  (null without cost_basis or when it sums to 0).

A snapshot may be old (an account whose positions stopped being reported keeps its last
snapshot); ``days_since_last_*`` and the asset features show staleness.
"""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt

from valuemodel.data.reader import DataSet
from valuemodel.features.asof import Spine, latest_on_or_before, ratio
from valuemodel.features.config import FeatureConfig
from valuemodel.features.parts import Part, Source, assemble


def holding_part(data: DataSet, spine: Spine, config: FeatureConfig) -> Part | None:
    """Positions count, concentration, top weight, unrealized P&L; None without positions."""
    if not data.has("positions"):
        return None
    pos = data.table("positions")
    snap = latest_on_or_before(pos, "date", spine.dates)
    snap = snap.select("account_id", "last_date", as_of=snap.at)
    j = pos.join(snap, [pos.account_id == snap.account_id, pos.date == snap.last_date])
    mv = j.market_value
    costed = j.cost_basis.notnull()
    agg = j.group_by(["account_id", "as_of"]).aggregate(
        positions_count=j.count(where=mv > 0).cast(dt.float64),
        held_value=mv.sum(),
        held_squares=(mv * mv).sum(),
        held_top=mv.max(),
        costed_value=mv.sum(where=costed),
        held_cost=j.cost_basis.sum(where=costed),
    )
    source = Source("holdings", agg, {"positions_count": 0.0})

    def features(x: ibis.Table) -> dict[str, ibis.Value]:
        total = x.held_value
        return {
            "positions_count": x.positions_count,
            "holdings_hhi": ratio(x.held_squares, total * total),
            "top_holding_weight": ratio(x.held_top, total),
            "unrealized_pnl_ratio": ratio(x.costed_value, x.held_cost) - 1.0,
        }

    return Part("holdings", [source], features)


def holding_features(data: DataSet, spine: Spine, config: FeatureConfig) -> ibis.Table | None:
    """Holding features per (account_id, as_of); None without positions."""
    part = holding_part(data, spine, config)
    return None if part is None else assemble(spine, [part])
