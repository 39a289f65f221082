"""Merging the models with the tiers into one priority, and cutting the list to capacity.

The formula (also in ``serving/tiers.yaml`` and ``docs/ranked-list.md``)::

    value_at_risk  = churn_probability * max(clv, 0)
    priority_score = value_at_risk * prod(weights[tier][label] for each weighted tier)
                     (a null or unlisted label weighs ``missing_weight``)
    priority_score = 0 for an excluded account (institutions, no assets, ...)

Rank 1 is the highest priority; ties are broken by ``account_id``; excluded accounts rank after
all others (kept in the full list, so it has one row per account of the population). The score is
rounded to 6 decimals before ranking so that the order is exactly the order of the written value.

With a capacity (``top`` K, and/or ``capacity.per_manager`` per account manager's book), the
capacity is split between the effort groups by their shares (default 60 % core + dormant, 30 %
maintaining, 10 % precipitating; largest remainder); each group takes its best accounts up to its
quota; quota a group cannot use flows to the best remaining accounts of any group; excluded
accounts come last. The chosen accounts are then ranked by priority as above.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from valuemodel.serving.config import EffortGroup, TierConfig
from valuemodel.serving.rules import rule_mask

SCORE_DECIMALS = 6
UNASSIGNED = "(unassigned)"


def _config(config: TierConfig | None) -> TierConfig:
    return config if config is not None else TierConfig()


def value_at_risk(churn_probability: pd.Series, clv: pd.Series) -> pd.Series:
    """``churn_probability * clv``, a negative predicted value counting as zero."""
    return (churn_probability.astype(float) * clv.astype(float).clip(lower=0.0)).rename(
        "value_at_risk"
    )


def exclusion(frame: pd.DataFrame, config: TierConfig | None = None) -> pd.Series:
    """The name of the first exclusion rule an account matches, else null."""
    out = np.full(len(frame), None, dtype=object)
    for name, rule in _config(config).priority.exclusions.items():
        hit = pd.isna(out) & rule_mask(frame, rule)
        out[hit] = name
    return pd.Series(out, index=frame.index, name="exclusion", dtype="object")


def tier_weight(frame: pd.DataFrame, config: TierConfig | None = None) -> pd.Series:
    """The product of the configured tier weights of each account."""
    cfg = _config(config).priority
    weight = np.ones(len(frame))
    for tier, table in cfg.weights.items():
        if tier not in frame.columns:
            weight *= cfg.missing_weight
            continue
        labels = frame[tier].astype("object")
        w = labels.map(table).astype(float).fillna(cfg.missing_weight)
        weight *= w.to_numpy(dtype=float)
    return pd.Series(weight, index=frame.index, name="tier_weight")


def priority_score(frame: pd.DataFrame, config: TierConfig | None = None) -> pd.Series:
    """``value_at_risk`` x tier weights, 0 for excluded accounts, rounded to 6 decimals.

    ``frame`` holds ``value_at_risk``, the weighted tiers and the columns the exclusions read.
    """
    excluded = exclusion(frame, config).notna().to_numpy()
    score = frame["value_at_risk"].to_numpy(dtype=float) * tier_weight(frame, config).to_numpy()
    score = np.where(excluded | np.isnan(score), 0.0, score)
    return pd.Series(np.round(score, SCORE_DECIMALS), index=frame.index, name="priority_score")


def allocate(capacity: int, shares: list[float]) -> list[int]:
    """Split ``capacity`` by ``shares`` (largest remainder; ties to the earlier group)."""
    exact = [capacity * s for s in shares]
    quotas = [int(np.floor(x)) for x in exact]
    left = capacity - sum(quotas)
    by_remainder = sorted(range(len(shares)), key=lambda i: (-(exact[i] - quotas[i]), i))
    for i in by_remainder[:left]:
        quotas[i] += 1
    return quotas


def _ordered(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(_excluded=frame["exclusion"].notna()).sort_values(
        ["_excluded", "priority_score", "account_id"],
        ascending=[True, False, True],
        kind="mergesort",
    )


def select(frame: pd.DataFrame, capacity: int, effort: tuple[EffortGroup, ...]) -> pd.Index:
    """The index labels of the ``capacity`` accounts chosen by the effort quotas.

    ``frame`` has ``account_id``, ``priority_score``, ``service_segment`` and ``exclusion``.
    """
    if capacity >= len(frame):
        return frame.index
    ordered = _ordered(frame)
    group_of = {s: i for i, g in enumerate(effort) for s in g.segments}
    group = ordered["service_segment"].astype("object").map(group_of)
    group = group.fillna(-1).astype(int).to_numpy()
    quotas = np.array([*allocate(capacity, [g.share for g in effort]), 0])
    position = pd.Series(group).groupby(group).cumcount().to_numpy()
    eligible = ~ordered["_excluded"].to_numpy()
    chosen = eligible & (position < quotas[group])
    left = capacity - int(chosen.sum())
    if left > 0:
        rest = np.flatnonzero(~chosen)[:left]
        chosen[rest] = True
    return ordered.index[chosen]


def rank_accounts(
    frame: pd.DataFrame, config: TierConfig | None = None, top: int | None = None
) -> pd.DataFrame:
    """The ranked list: rows chosen by capacity, sorted by priority, with ``rank`` first.

    ``frame`` has ``account_id``, ``priority_score``, ``service_segment``, ``exclusion`` and,
    for a per-manager capacity, ``manager_id`` (accounts without one share one book).
    """
    cfg = _config(config).priority
    chosen = frame
    per_manager = cfg.capacity.per_manager
    if per_manager is not None and "manager_id" in frame.columns:
        books = frame["manager_id"].astype("object").fillna(UNASSIGNED)
        picks = [
            select(book, per_manager, cfg.effort)
            for _, book in frame.groupby(books, sort=True, dropna=False)
        ]
        chosen = frame.loc[np.concatenate([p.to_numpy() for p in picks])] if picks else frame
    if top is not None:
        chosen = chosen.loc[select(chosen, top, cfg.effort)]
    ranked = _ordered(chosen).drop(columns="_excluded")
    ranked.insert(0, "rank", np.arange(1, len(ranked) + 1, dtype=np.int64))
    return ranked.reset_index(drop=True)
