"""Rule-based tiers by capital, contribution, turnover, growth, grade and risk.

The schemes are described in docs/ranked-list.md, "Tiers".

Each tier is a pure function ``features -> Series`` (same index, object dtype, null where the
data cannot tell). Input columns are those of ``valuemodel.features.build_features``; which
columns stand for contribution, turnover, growth and assets is set in the tiers file's
``measures`` section. A tier whose inputs are absent (e.g. no ``balances`` table, so no
``total_assets``) is null for every row rather than an error.

Quadrant cut-offs are a ``value`` or a ``percentile`` of the scored population (nulls left out);
"high" means strictly above the cut-off, so a median of zero (most accounts contributed nothing)
does not make every account "high".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from valuemodel.serving.config import Cutoff, TierConfig


def _config(config: TierConfig | None) -> TierConfig:
    return config if config is not None else TierConfig()


def _numeric(features: pd.DataFrame, column: str) -> np.ndarray:
    if column not in features.columns:
        return np.full(len(features), np.nan)
    values = pd.to_numeric(features[column], errors="coerce")
    return values.to_numpy(dtype=float, na_value=np.nan)


def _labels(values: np.ndarray, index: pd.Index, name: str) -> pd.Series:
    return pd.Series(values, index=index, name=name, dtype="object")


def contribution(features: pd.DataFrame, config: TierConfig | None = None) -> pd.Series:
    """Value contribution (CNY): the first present of ``measures.contribution`` (float)."""
    for column in _config(config).measures.contribution:
        if column in features.columns:
            return pd.Series(_numeric(features, column), index=features.index, name="contribution")
    return pd.Series(np.nan, index=features.index, name="contribution", dtype=float)


def resolve_cutoff(values: np.ndarray, cutoff: Cutoff) -> float:
    """The cut-off as a number: the given value, or the percentile of the non-null values."""
    if cutoff.value is not None:
        return float(cutoff.value)
    known = values[~np.isnan(values)]
    if known.size == 0:
        return float("nan")
    return float(np.quantile(known, cutoff.percentile))


def asset_tier(features: pd.DataFrame, config: TierConfig | None = None) -> pd.Series:
    """``large`` (assets >= large), ``medium`` (>= medium), ``retail``; null without assets."""
    cfg = _config(config)
    assets = _numeric(features, cfg.measures.assets)
    out = np.where(
        assets >= cfg.asset_tier.large,
        "large",
        np.where(assets >= cfg.asset_tier.medium, "medium", "retail"),
    ).astype(object)
    out[np.isnan(assets)] = None
    return _labels(out, features.index, "asset_tier")


def _quadrant(
    first: np.ndarray,
    second: np.ndarray,
    cuts: tuple[Cutoff, Cutoff],
    names: tuple[str, str, str, str],
) -> np.ndarray:
    high_1 = first > resolve_cutoff(first, cuts[0])
    high_2 = second > resolve_cutoff(second, cuts[1])
    out = np.select(
        [high_1 & high_2, high_1 & ~high_2, ~high_1 & high_2],
        list(names[:3]),
        default=names[3],
    ).astype(object)
    out[np.isnan(first) | np.isnan(second)] = None
    return out


def value_quadrant(features: pd.DataFrame, config: TierConfig | None = None) -> pd.Series:
    """Contribution x asset turnover: A high/high, B high/low, C low/high, D low/low.

    Null without turnover (no ``balances``) or contribution.
    """
    cfg = _config(config)
    values = _quadrant(
        contribution(features, cfg).to_numpy(),
        _numeric(features, cfg.measures.turnover),
        (cfg.value_quadrant.contribution, cfg.value_quadrant.turnover),
        ("A", "B", "C", "D"),
    )
    return _labels(values, features.index, "value_quadrant")


def growth_quadrant(features: pd.DataFrame, config: TierConfig | None = None) -> pd.Series:
    """Contribution x asset growth: I high/high, II high/low, III low/high, IV low/low.

    Null without asset growth (no ``balances``) or contribution.
    """
    cfg = _config(config)
    values = _quadrant(
        contribution(features, cfg).to_numpy(),
        _numeric(features, cfg.measures.growth),
        (cfg.growth_quadrant.contribution, cfg.growth_quadrant.growth),
        ("I", "II", "III", "IV"),
    )
    return _labels(values, features.index, "growth_quadrant")


def value_grade(features: pd.DataFrame, config: TierConfig | None = None) -> pd.Series:
    """The highest level whose asset OR contribution threshold the account reaches.

    A threshold on a measure the data lacks is never reached, so without ``balances`` the grade
    comes from contribution alone; null when both measures are null.
    """
    cfg = _config(config)
    assets = _numeric(features, cfg.measures.assets)
    contrib = contribution(features, cfg).to_numpy()
    out = np.full(len(features), cfg.value_grade.levels[-1].name, dtype=object)
    undecided = np.ones(len(features), dtype=bool)
    with np.errstate(invalid="ignore"):
        for level in cfg.value_grade.levels[:-1]:
            reached = np.zeros(len(features), dtype=bool)
            if level.min_assets is not None:
                reached |= assets >= level.min_assets
            if level.min_contribution is not None:
                reached |= contrib >= level.min_contribution
            out[undecided & reached] = level.name
            undecided &= ~reached
    out[np.isnan(assets) & np.isnan(contrib)] = None
    return _labels(out, features.index, "value_grade")


def risk_class(features: pd.DataFrame, config: TierConfig | None = None) -> pd.Series:
    """``conservative`` (C1-C2), ``steady`` (C3), ``aggressive`` (C4-C5); null when unknown."""
    mapping = _config(config).risk_class.mapping()
    if "risk_level" not in features.columns:
        return _labels(np.full(len(features), None, dtype=object), features.index, "risk_class")
    values = [mapping.get(level) for level in features["risk_level"].astype("object")]
    return _labels(np.array(values, dtype=object), features.index, "risk_class")


def grade_risk_category(features: pd.DataFrame, config: TierConfig | None = None) -> pd.Series:
    """Value grade x risk class, e.g. ``gold-steady`` (twelve with the default four grades)."""
    grade = value_grade(features, config).to_numpy(dtype=object)
    risk = risk_class(features, config).to_numpy(dtype=object)
    known = pd.notna(grade) & pd.notna(risk)
    out = np.full(len(features), None, dtype=object)
    out[known] = [f"{g}-{r}" for g, r in zip(grade[known], risk[known], strict=True)]
    return _labels(out, features.index, "grade_risk_category")
