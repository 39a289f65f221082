"""Cash flows (with ``cashflows``): net flow, outflow, withdrawals per window.

- ``net_flow_{w}d``: signed sum of transfers dated in ``(T - w, T]`` (> 0 money in).
- ``outflow_{w}d``: money out in the window as a positive number; ``withdrawals_{w}d``: how
  many transfers out.
- ``outflow_share_{w}d`` = outflow / total_assets at T - w (with balances; null when that
  base is 0 or absent): "moved 35% of assets out in 30 days".
"""

from __future__ import annotations

import ibis

from valuemodel.data.reader import DataSet
from valuemodel.features.activity import assets_at, flow_window_source
from valuemodel.features.asof import Spine, ratio
from valuemodel.features.config import FeatureConfig
from valuemodel.features.parts import Part, assemble


def flow_part(data: DataSet, spine: Spine, config: FeatureConfig) -> Part | None:
    """Net flow, outflow, outflow share and withdrawals; None without cashflows."""
    if not data.has("cashflows"):
        return None
    balances = data.has("balances")

    def features(x: ibis.Table) -> dict[str, ibis.Value]:
        out: dict[str, ibis.Value] = {}
        for w in spine.windows:
            out[f"net_flow_{w}d"] = x[f"net_flow_{w}"]
        for w in spine.windows:
            out[f"outflow_{w}d"] = x[f"outflow_{w}"]
        if balances:
            for w in spine.windows:
                out[f"outflow_share_{w}d"] = ratio(x[f"outflow_{w}"], x[assets_at(-w)])
        for w in spine.windows:
            out[f"withdrawals_{w}d"] = x[f"withdrawals_{w}"]
        return out

    return Part("flows", [flow_window_source(data, spine)], features)


def flow_features(data: DataSet, spine: Spine, config: FeatureConfig) -> ibis.Table | None:
    """Cash-flow features per (account_id, as_of); None without cashflows."""
    part = flow_part(data, spine, config)
    return None if part is None else assemble(spine, [part])
