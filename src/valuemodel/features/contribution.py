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

from valuemodel.features.activity import (
    BUY_SHARE_WINDOW,
    PRODUCT_SHARES,
    SHARE_WINDOW,
    assets_at,
    balance_window_source,
    revenue_window_source,
    trade_window_source,
)
from valuemodel.features.asof import ratio
from valuemodel.features.config import FeatureConfig
from valuemodel.features.definition import Family, Feature, PerWindow
from valuemodel.features.parts import Rank

_TRADES = ("trades",)


def asset_tier(total_assets: ibis.Value, config: FeatureConfig) -> ibis.Value:
    """``retail`` / ``medium`` / ``large`` by total assets (CNY), see FeatureConfig."""
    return ibis.cases(
        (total_assets < config.retail_below, "retail"),
        (total_assets < config.large_from, "medium"),
        else_="large",
    )


def _rate(x: ibis.Table) -> ibis.Value:
    return ratio(x[f"commission_{SHARE_WINDOW}"], x[f"traded_value_{SHARE_WINDOW}"])


def _rate_rank(x: ibis.Table, config: FeatureConfig) -> Rank:
    """The effective rate ranked within the asset tier (all together without balances)."""
    # Rounded so that the last bits of a sum computed in another order do not reorder ties.
    key = _rate(x).round(12)
    within = [asset_tier(x[assets_at(0)], config)] if assets_at(0) in x.columns else []
    return Rank(key, _percent_rank, within)


def _percent_rank(below: ibis.Value, size: ibis.Value) -> ibis.Value:
    """``below / (size - 1)``: 0 for the lowest key (and for a group of one), 1 for the top."""
    return ibis.ifelse(size > 1, below / (size - 1), 0.0).cast(dt.float64)


def _product_share(product: str) -> Feature:
    """``{product}_share_365d``: the product's share of the traded value of known product."""
    return Feature(
        f"{product}_share_{SHARE_WINDOW}d",
        unit="share 0-1",
        requires=_TRADES,
        risk_direction="none",
        sources=(trade_window_source,),
        expression=lambda x: ratio(
            x[f"{product}_value_{SHARE_WINDOW}"], x[f"product_value_{SHARE_WINDOW}"]
        ),
    )


CONTRIBUTION = Family(
    "contribution",
    (
        PerWindow(
            (
                Feature(
                    "traded_value_{w}d",
                    unit="CNY",
                    requires=_TRADES,
                    risk_direction="lower",
                    sources=(trade_window_source,),
                    expression=lambda x, w: x[f"traded_value_{w}"],
                ),
                Feature(
                    "commission_{w}d",
                    unit="CNY",
                    requires=_TRADES,
                    risk_direction="lower",
                    sources=(trade_window_source,),
                    expression=lambda x, w: x[f"commission_{w}"],
                ),
                Feature(
                    "revenue_{w}d",
                    unit="CNY",
                    requires=_TRADES,
                    risk_direction="lower",
                    sources=(revenue_window_source,),
                    expression=lambda x, w: x[f"revenue_{w}"],
                ),
            )
        ),
        Feature(
            "asset_turnover_{w}d",
            unit="ratio",
            requires=("trades", "balances"),
            risk_direction="lower",
            sources=(trade_window_source, balance_window_source),
            expression=lambda x, w: ratio(x[f"traded_value_{w}"], x[f"avg_assets_{w}"]),
        ),
        Feature(
            "effective_commission_rate",
            unit="rate",
            requires=_TRADES,
            risk_direction="higher",
            sources=(trade_window_source,),
            expression=_rate,
        ),
        Feature(
            "commission_rate_percentile",
            unit="share 0-1",
            requires=_TRADES,
            risk_direction="higher",
            sources=(trade_window_source,),
            rank=_rate_rank,
        ),
        *(_product_share(p) for p in PRODUCT_SHARES),
        Feature(
            f"buy_share_{BUY_SHARE_WINDOW}d",
            unit="share 0-1",
            requires=_TRADES,
            risk_direction="lower",
            sources=(trade_window_source,),
            expression=lambda x: ratio(
                x[f"buy_value_{BUY_SHARE_WINDOW}"], x[f"sided_value_{BUY_SHARE_WINDOW}"]
            ),
        ),
    ),
)
"""The turnover and contribution features, in output order."""
