"""The feature-set configuration: windows, population threshold, families, asset tiers.

Configuration is data: a frozen pydantic model whose defaults are the packaged
``features/default.yaml`` (``valuemodel/resources/features``; the repository's top-level
``features/`` folder is a symlink to it), validated with messages that name the file and the
key (``valuemodel.config``). The asset tiers defined here are the only definition of the
capital tiers: the tiers file (``serving``) and the CLV rule (``training``) default to them.
"""

from __future__ import annotations

import os
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import Field, StrictFloat, StrictInt, StrictStr, field_validator, model_validator

from valuemodel.config import PackagedConfig, load, packaged, parse

_DEFAULTS = "features/default.yaml"

Family = Literal["recency", "frequency", "contribution", "assets", "flows", "holdings", "profile"]
FAMILIES: tuple[str, ...] = get_args(Family)
"""The feature families in output order."""


class AssetTiers(PackagedConfig):
    """Capital tiers (CNY of total assets): retail < ``retail_below`` <= medium <
    ``large_from`` <= large. The commission rate is ranked within them."""

    defaults_from = (_DEFAULTS, "asset_tiers")

    retail_below: StrictFloat
    large_from: StrictFloat

    @model_validator(mode="after")
    def _ordered(self) -> AssetTiers:
        if not 0 < self.retail_below < self.large_from:
            raise ValueError(
                "must satisfy 0 < retail_below < large_from, got "
                f"retail_below={self.retail_below}, large_from={self.large_from}"
            )
        return self


class LabelSettings(PackagedConfig):
    """``churn_asset_ratio``: the ``assets`` churn label fires when ``total_assets`` at
    ``T+H`` falls below this share of ``total_assets`` at ``T``."""

    defaults_from = (_DEFAULTS, "labels")

    churn_asset_ratio: StrictFloat = Field(gt=0, lt=1)


class FeatureConfig(PackagedConfig):
    """What ``build_features`` computes (``features/default.yaml`` explains every key).

    - ``windows``: look-back windows in days; every windowed feature (``trades_{w}d``, ...) is
      computed for each.
    - ``short_windows``: extra short look-back windows (days) for the activity and flow counts
      only (trades, trading days, login days, deposits, withdrawals, money in and out, buy/sell
      balance): what changed in the last week or two.
    - ``change_windows``: the look-backs (days) of the change-of-state features
      (``asset_change_{w}d``, ``cash_share_change_{w}d``, ...): state at T against state at
      T - w.
    - ``session_windows``: short look-backs counted in trading days (sessions) of
      ``calendar`` for the trade and login counts (``trades_{w}td``, ...): the last ``w``
      sessions up to T.
    - ``calendar``: the exchange calendar (an ``exchange_calendars`` name: ``XSHG`` for
      Shanghai and Shenzhen, ``XHKG`` for Hong Kong, ``XNYS`` for New York) that the
      trading-day features count sessions of.
    - ``min_assets``: the population threshold on ``total_assets`` at the as-of date (CNY).
    - ``families``: the families to compute (a subset of ``FAMILIES``; output keeps their order).
    - ``asset_tiers``: :class:`AssetTiers`; ``labels``: :class:`LabelSettings`.

    Window lists are kept sorted, families in ``FAMILIES`` order.
    """

    defaults_from = (_DEFAULTS,)

    windows: tuple[StrictInt, ...] = Field(min_length=1)
    short_windows: tuple[StrictInt, ...]
    change_windows: tuple[StrictInt, ...]
    session_windows: tuple[StrictInt, ...]
    calendar: StrictStr = Field(min_length=1)
    min_assets: StrictFloat = Field(ge=0)
    families: tuple[str, ...]
    asset_tiers: AssetTiers
    labels: LabelSettings

    @field_validator("windows", "short_windows", "change_windows", "session_windows")
    @classmethod
    def _whole_days(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(w <= 0 for w in value):
            raise ValueError(f"must be positive whole days, got {list(value)}")
        if len(set(value)) != len(value):
            raise ValueError(f"has duplicates: {list(value)}")
        return tuple(sorted(value))

    @field_validator("families")
    @classmethod
    def _known_families(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [f for f in value if f not in FAMILIES]
        if unknown:
            raise ValueError(f"unknown name(s) {unknown}; known: {list(FAMILIES)}")
        return tuple(f for f in FAMILIES if f in value)

    @property
    def retail_below(self) -> float:
        """``asset_tiers.retail_below``, read flat by the feature families."""
        return self.asset_tiers.retail_below

    @property
    def large_from(self) -> float:
        """``asset_tiers.large_from``, read flat by the feature families."""
        return self.asset_tiers.large_from

    @property
    def churn_asset_ratio(self) -> float:
        """``labels.churn_asset_ratio``, read flat by the labels."""
        return self.labels.churn_asset_ratio


def default_config_dir() -> Path | Traversable:
    """The ``features/`` configuration folder (``default.yaml``, ``registry.yaml``).

    ``VALUEMODEL_FEATURES_DIR`` if set, else the folder packaged with the code.
    """
    env = os.environ.get("VALUEMODEL_FEATURES_DIR")
    return Path(env) if env else packaged("features")


def load_feature_config(path: str | Path | None = None) -> FeatureConfig:
    """Read a feature-set YAML file into a FeatureConfig; keys it leaves out keep the packaged
    defaults.

    Without a path: ``default.yaml`` of :func:`default_config_dir`, or the packaged defaults
    (``FeatureConfig()``) when ``$VALUEMODEL_FEATURES_DIR`` has none.
    """
    if path is None:
        path = default_config_dir() / "default.yaml"
        if not path.is_file():
            return FeatureConfig()
    return load(FeatureConfig, path, "feature configuration file")


def default_asset_tiers() -> AssetTiers:
    """The asset tiers of the default feature set (:func:`load_feature_config`), which the
    tiers file and the CLV rule take unless they set their own."""
    return load_feature_config().asset_tiers


def config_from_dict(raw: Any, source: str = "feature configuration") -> FeatureConfig:
    """Build a FeatureConfig from the YAML structure (see ``features/default.yaml``)."""
    return parse(FeatureConfig, raw, source)


def config_to_dict(config: FeatureConfig) -> dict[str, Any]:
    """The YAML structure of a config (the inverse of ``config_from_dict``)."""
    return config.model_dump(mode="json")
