"""Service segments, lifecycle stages, RFM pass-through, and all tiers of a population at once.

``service_segment`` and ``lifecycle_stage`` (docs/ranked-list.md, "Tiers") are ordered rules from
the tiers file, so a branch office can redefine them without code. Their rules may read the
capital and grade tiers by name (``value_grade``, ``asset_tier``, ...), which are computed first.
"""

from __future__ import annotations

import pandas as pd

from valuemodel.serving import tiers as _tiers
from valuemodel.serving.config import TierConfig
from valuemodel.serving.rules import assign, referenced_columns

# Tiers that rules may read, in the order they can be computed.
_BASE_TIERS = {
    "asset_tier": _tiers.asset_tier,
    "value_quadrant": _tiers.value_quadrant,
    "growth_quadrant": _tiers.growth_quadrant,
    "value_grade": _tiers.value_grade,
    "risk_class": _tiers.risk_class,
    "grade_risk_category": _tiers.grade_risk_category,
}

RFM_COLUMNS = (
    "rfm_recency_score",
    "rfm_frequency_score",
    "rfm_monetary_score",
    "rfm_score",
    "loyalty_stage",
)

TIER_COLUMNS = (
    "asset_tier",
    "value_quadrant",
    "growth_quadrant",
    "value_grade",
    "risk_class",
    "grade_risk_category",
    "service_segment",
    "lifecycle_stage",
)


def _config(config: TierConfig | None) -> TierConfig:
    return config if config is not None else TierConfig()


def _with_base_tiers(features: pd.DataFrame, needed: set[str], cfg: TierConfig) -> pd.DataFrame:
    missing = {n: f for n, f in _BASE_TIERS.items() if n in needed and n not in features.columns}
    if not missing:
        return features
    return features.assign(**{name: fn(features, cfg) for name, fn in missing.items()})


def service_segment(features: pd.DataFrame, config: TierConfig | None = None) -> pd.Series:
    """``core`` / ``dormant`` / ``precipitating`` by the tiers file's rules, else ``maintaining``.

    Defaults: core = platinum or gold grade and a trade in the last 90 days; dormant = assets
    >= 100,000 and no trade in 180 days; precipitating = assets <= 100,000 and no trade in 90
    days. Without ``balances`` nobody is dormant or precipitating (their rules need assets).
    """
    cfg = _config(config)
    rules = cfg.service_segment
    needed = set().union(*(referenced_columns(r) for r in rules.rules.values()))
    return assign(_with_base_tiers(features, needed, cfg), rules, "service_segment")


def lifecycle_stage(features: pd.DataFrame, config: TierConfig | None = None) -> pd.Series:
    """``new`` / ``declining`` / ``growing`` by the tiers file's rules, else ``mature``.

    Defaults: new = tenure <= 180 days; declining = assets down 20 % over the year or
    ``trading_days_trend`` (last 30 days against the prior quarter's monthly pace, 1 = steady)
    <= 0.5; growing = assets up 20 % or trend >= 1.5. Null for an account past ``new`` with
    neither asset growth nor a trading trend.
    """
    cfg = _config(config)
    rules = cfg.lifecycle_stage
    needed = set().union(*(referenced_columns(r) for r in rules.rules.values()))
    return assign(_with_base_tiers(features, needed, cfg), rules, "lifecycle_stage")


def rfm(features: pd.DataFrame) -> pd.DataFrame:
    """The RFM scores and loyalty ladder, passed through from the features (absent: null)."""
    return pd.DataFrame(
        {c: features[c] if c in features.columns else None for c in RFM_COLUMNS},
        index=features.index,
    )


def assign_tiers(features: pd.DataFrame, config: TierConfig | None = None) -> pd.DataFrame:
    """Every tier of every account: ``account_id``, the ``TIER_COLUMNS``, then ``RFM_COLUMNS``.

    Percentile cut-offs are taken over the rows of ``features`` (the scored population).
    """
    cfg = _config(config)
    work = features.assign(**{n: fn(features, cfg) for n, fn in _BASE_TIERS.items()})
    work = work.assign(
        service_segment=service_segment(work, cfg),
        lifecycle_stage=lifecycle_stage(work, cfg),
    )
    out = work[["account_id", *TIER_COLUMNS]] if "account_id" in work else work[list(TIER_COLUMNS)]
    return pd.concat([out, rfm(features)], axis=1)


def tier_requirements(features: pd.DataFrame, config: TierConfig | None = None) -> list[str]:
    """Plain-language notes on tiers the data cannot compute (for ``ScoreResult.warnings``)."""
    cfg = _config(config)
    notes = []
    m = cfg.measures
    if m.assets not in features.columns:
        notes.append(
            f"asset_tier is null: no '{m.assets}' (no balances table); value_grade uses "
            "contribution only; no account can be dormant or precipitating by the default rules"
        )
    if m.turnover not in features.columns:
        notes.append(f"value_quadrant is null: no '{m.turnover}' feature")
    if m.growth not in features.columns:
        notes.append(f"growth_quadrant is null: no '{m.growth}' feature")
    if not any(c in features.columns for c in m.contribution):
        notes.append(f"no contribution measure ({', '.join(m.contribution)}): quadrants are null")
    if "risk_level" not in features.columns or features["risk_level"].isna().all():
        notes.append("risk_class is null: no risk_level; no product offers are recommended")
    return notes
