"""The feature-set configuration: windows, population threshold, families, tiers.

Configuration is data: a frozen dataclass loaded from ``features/default.yaml`` (the top-level
configuration folder) and validated with messages that name the key.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from valuemodel.errors import InputError
from valuemodel.io import read_yaml

FAMILIES: tuple[str, ...] = (
    "recency",
    "frequency",
    "contribution",
    "assets",
    "flows",
    "holdings",
    "profile",
)
"""The feature families in output order."""


@dataclass(frozen=True)
class FeatureConfig:
    """What ``build_features`` computes.

    - ``windows``: look-back windows in days; every windowed feature (``trades_{w}d``, ...) is
      computed for each.
    - ``short_windows``: extra short look-back windows (days) for the activity and flow counts
      only (trades, trading days, login days, deposits, withdrawals, money in and out, buy/sell
      balance): what changed in the last week or two.
    - ``change_windows``: the look-backs (days) of the change-of-state features
      (``asset_change_{w}d``, ``cash_share_change_{w}d``, ...): state at T against state at
      T - w.
    - ``min_assets``: the population threshold on ``total_assets`` at the as-of date (CNY).
    - ``families``: the families to compute (a subset of ``FAMILIES``; output keeps their order).
    - ``retail_below`` / ``large_from``: asset tiers (CNY) within which the commission rate is
      ranked: retail < ``retail_below`` <= medium < ``large_from`` <= large.
    - ``churn_asset_ratio``: the ``assets`` churn label fires when ``total_assets`` at ``T+H``
      falls below this share of ``total_assets`` at ``T``.
    """

    windows: tuple[int, ...] = (30, 90, 180, 365)
    short_windows: tuple[int, ...] = (7, 14)
    change_windows: tuple[int, ...] = (7, 30, 90)
    min_assets: float = 1000.0
    families: tuple[str, ...] = FAMILIES
    retail_below: float = 500_000.0
    large_from: float = 5_000_000.0
    churn_asset_ratio: float = 0.2

    def __post_init__(self) -> None:
        _check(self)


def default_config_dir() -> Path:
    """The ``features/`` configuration folder (``default.yaml``, ``registry.yaml``).

    ``VALUEMODEL_FEATURES_DIR`` if set, else the repository's top-level ``features/`` folder
    (a source checkout or editable install), else the copy packaged in the wheel
    (``valuemodel/resources/features``, a symlink to the same folder in the repository).
    """
    env = os.environ.get("VALUEMODEL_FEATURES_DIR")
    if env:
        return Path(env)
    repository = Path(__file__).resolve().parents[3] / "features"
    if (repository / "registry.yaml").is_file():
        return repository
    return Path(__file__).resolve().parents[1] / "resources" / "features"


def load_feature_config(path: str | Path | None = None) -> FeatureConfig:
    """Read a feature-set YAML file (default ``features/default.yaml``) into a FeatureConfig.

    Without a path and without the default file (an installed package used outside the
    repository), the built-in defaults apply; they equal ``features/default.yaml``.
    """
    if path is None:
        path = default_config_dir() / "default.yaml"
        if not path.is_file():
            return FeatureConfig()
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: feature configuration file not found")
    return config_from_dict(read_yaml(path) or {}, source=str(path))


def config_from_dict(raw: Any, source: str = "feature configuration") -> FeatureConfig:
    """Build a FeatureConfig from the YAML structure (see ``features/default.yaml``)."""
    if not isinstance(raw, dict):
        raise InputError(f"{source}: expected a mapping of keys, got {type(raw).__name__}")
    known = {
        "windows",
        "short_windows",
        "change_windows",
        "min_assets",
        "families",
        "asset_tiers",
        "labels",
    }
    unknown = sorted(set(raw) - known)
    if unknown:
        raise InputError(f"{source}: unknown key(s) {unknown}; known keys are {sorted(known)}")
    kwargs: dict[str, Any] = {}
    if "windows" in raw:
        kwargs["windows"] = _int_tuple(raw["windows"], "windows", source)
    for key in ("short_windows", "change_windows"):
        if key in raw:
            kwargs[key] = _int_tuple(raw[key], key, source)
    if "min_assets" in raw:
        kwargs["min_assets"] = _number(raw["min_assets"], "min_assets", source)
    if "families" in raw:
        fams = raw["families"]
        if not isinstance(fams, list) or not all(isinstance(f, str) for f in fams):
            raise InputError(f"{source}: 'families' must be a list of family names")
        kwargs["families"] = tuple(f for f in FAMILIES if f in fams) + tuple(
            f for f in fams if f not in FAMILIES
        )
    tiers = _section(raw, "asset_tiers", {"retail_below", "large_from"}, source)
    for key in ("retail_below", "large_from"):
        if key in tiers:
            kwargs[key] = _number(tiers[key], f"asset_tiers.{key}", source)
    labels = _section(raw, "labels", {"churn_asset_ratio"}, source)
    if "churn_asset_ratio" in labels:
        kwargs["churn_asset_ratio"] = _number(
            labels["churn_asset_ratio"], "labels.churn_asset_ratio", source
        )
    try:
        return FeatureConfig(**kwargs)
    except InputError as exc:
        raise InputError(f"{source}: {exc}") from None


def config_to_dict(config: FeatureConfig) -> dict[str, Any]:
    """The YAML structure of a config (the inverse of ``config_from_dict``)."""
    return {
        "windows": list(config.windows),
        "short_windows": list(config.short_windows),
        "change_windows": list(config.change_windows),
        "min_assets": config.min_assets,
        "families": list(config.families),
        "asset_tiers": {"retail_below": config.retail_below, "large_from": config.large_from},
        "labels": {"churn_asset_ratio": config.churn_asset_ratio},
    }


def _check(c: FeatureConfig) -> None:
    if not c.windows:
        raise InputError("'windows' must list at least one window in days")
    for key in ("windows", "short_windows", "change_windows"):
        values = getattr(c, key)
        if any(not isinstance(w, int) or isinstance(w, bool) or w <= 0 for w in values):
            raise InputError(f"'{key}' must be positive whole days, got {list(values)}")
        if len(set(values)) != len(values):
            raise InputError(f"'{key}' has duplicates: {list(values)}")
    if c.min_assets < 0:
        raise InputError(f"'min_assets' must be >= 0, got {c.min_assets}")
    bad = [f for f in c.families if f not in FAMILIES]
    if bad:
        raise InputError(f"'families' has unknown name(s) {bad}; known: {list(FAMILIES)}")
    if not 0 < c.retail_below < c.large_from:
        raise InputError(
            "'asset_tiers' must satisfy 0 < retail_below < large_from, got "
            f"retail_below={c.retail_below}, large_from={c.large_from}"
        )
    if not 0 < c.churn_asset_ratio < 1:
        raise InputError(
            f"'labels.churn_asset_ratio' must be between 0 and 1, got {c.churn_asset_ratio}"
        )


def _int_tuple(value: Any, key: str, source: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        raise InputError(f"{source}: '{key}' must be a list of whole days, got {value!r}")
    return tuple(sorted(value))


def _number(value: Any, key: str, source: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{source}: '{key}' must be a number, got {value!r}")
    return float(value)


def _section(raw: dict, key: str, allowed: set[str], source: str) -> dict:
    section = raw.get(key) or {}
    if not isinstance(section, dict):
        raise InputError(f"{source}: '{key}' must be a mapping")
    unknown = sorted(set(section) - allowed)
    if unknown:
        raise InputError(f"{source}: unknown key(s) {unknown} in '{key}'; known {sorted(allowed)}")
    return section
