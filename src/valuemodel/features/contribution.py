"""Turnover and contribution: traded value, commission and revenue per window, asset
turnover, the effective commission rate and where it stands among peers, product and side
shares.

- ``asset_turnover_{w}d`` = traded value in the window / ``avg_assets_{w}d`` (balances only).
- ``effective_commission_rate`` = commission_365d / traded_value_365d (null without trades).
- ``commission_rate_percentile``: percent rank (0 = cheapest, 1 = most expensive; ties share
  the lower rank; a peer group of one gets 0) of the effective rate among population accounts
  with a rate at the same as-of date and in the same asset tier (retail / medium / large by
  total_assets at T, see FeatureConfig); without balances, among all of them.
- ``{product}_share_365d``: share of the traded value of trades whose product is known;
  ``buy_share_90d``: buy value / value of trades whose side is known (null when unknown).
"""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt

from valuemodel.data.reader import DataSet
from valuemodel.features.activity import (
    BUY_SHARE_WINDOW,
    PRODUCT_SHARES,
    SHARE_WINDOW,
    assets_at,
    balance_window_source,
    revenue_window_source,
    trade_window_source,
)
from valuemodel.features.asof import Spine, ratio
from valuemodel.features.config import FeatureConfig
from valuemodel.features.parts import Part, Rank, assemble


def contribution_part(data: DataSet, spine: Spine, config: FeatureConfig) -> Part:
    """Traded value, commission, revenue, turnover, commission rate and shares."""
    balances = data.has("balances")
    sources = [trade_window_source(data, spine), revenue_window_source(data, spine)]
    if balances:
        sources.append(balance_window_source(data, spine))

    def features(x: ibis.Table) -> dict[str, ibis.Value]:
        out: dict[str, ibis.Value] = {}
        for w in spine.windows:
            out[f"traded_value_{w}d"] = x[f"traded_value_{w}"]
            out[f"commission_{w}d"] = x[f"commission_{w}"]
            out[f"revenue_{w}d"] = x[f"revenue_{w}"]
        if balances:
            for w in spine.windows:
                out[f"asset_turnover_{w}d"] = ratio(x[f"traded_value_{w}"], x[f"avg_assets_{w}"])
        out["effective_commission_rate"] = _rate(x)
        out["commission_rate_percentile"] = x._commission_rate_percentile
        product_value = x[f"product_value_{SHARE_WINDOW}"]
        for p in PRODUCT_SHARES:
            out[f"{p}_share_{SHARE_WINDOW}d"] = ratio(
                x[f"{p}_value_{SHARE_WINDOW}"], product_value
            )
        out[f"buy_share_{BUY_SHARE_WINDOW}d"] = ratio(
            x[f"buy_value_{BUY_SHARE_WINDOW}"], x[f"sided_value_{BUY_SHARE_WINDOW}"]
        )
        return out

    def ranks(x: ibis.Table) -> dict[str, Rank]:
        # Rounded so that the last bits of a sum computed in another order do not reorder ties.
        key = _rate(x).round(12)
        within = [asset_tier(x[assets_at(0)], config)] if balances else []
        return {"_commission_rate_percentile": Rank(key, _percent_rank, within)}

    return Part("contribution", sources, features, ranks)


def _rate(x: ibis.Table) -> ibis.Value:
    return ratio(x[f"commission_{SHARE_WINDOW}"], x[f"traded_value_{SHARE_WINDOW}"])


def contribution_features(data: DataSet, spine: Spine, config: FeatureConfig) -> ibis.Table:
    """Turnover and contribution features per (account_id, as_of) of the population."""
    return assemble(spine, [contribution_part(data, spine, config)])


def asset_tier(total_assets: ibis.Value, config: FeatureConfig) -> ibis.Value:
    """``retail`` / ``medium`` / ``large`` by total assets (CNY), see FeatureConfig."""
    return ibis.cases(
        (total_assets < config.retail_below, "retail"),
        (total_assets < config.large_from, "medium"),
        else_="large",
    )


def _percent_rank(below: ibis.Value, size: ibis.Value) -> ibis.Value:
    """``below / (size - 1)``: 0 for the lowest key (and for a group of one), 1 for the top."""
    return ibis.ifelse(size > 1, below / (size - 1), 0.0).cast(dt.float64)
