"""The training configuration: frozen, validated, its defaults the packaged ``default.yaml``.

``TrainingConfig()`` is the packaged ``training/default.yaml`` (``valuemodel.config``; the
repository's ``training/default.yaml`` is a symlink to it), and a YAML file only needs the
keys it changes. Unknown keys and bad values are rejected with an ``InputError`` naming the
file and the key (``tuning.trials: ...``). The CLV rule's capital tiers default to the feature
set's ``asset_tiers``, their one definition.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from valuemodel.config import PackagedConfig, load, parse
from valuemodel.features.config import Family, default_asset_tiers
from valuemodel.models.boosting import fits_at_once, threads_for

_DEFAULTS = "training/default.yaml"


class SnapshotConfig(PackagedConfig):
    """How training snapshots are chosen and split out of time (see ``training.snapshots``)."""

    defaults_from = (_DEFAULTS, "snapshots")

    frequency: Literal["weekly", "biweekly", "monthly", "quarterly"]
    min_history_days: int = Field(ge=0, le=3650)
    max_snapshots: int = Field(ge=2, le=520)
    validation_fraction: float = Field(gt=0, lt=1)
    gap: Literal["strict", "relaxed"]
    max_training_rows: int = Field(ge=100)
    max_feature_rows: int = Field(ge=1000)
    calendar: str | None = None


class TuningConfig(PackagedConfig):
    """Optuna: TPE sampler with ``seed``, median pruning, ``trials`` per model (0 = defaults)."""

    defaults_from = (_DEFAULTS, "tuning")

    trials: int = Field(ge=0, le=1000)
    seed: int
    max_tuning_rows: int = Field(ge=100)
    pruning_warmup_steps: int = Field(ge=0)
    timeout_seconds: float | None = Field(gt=0)


class LightGBMConfig(PackagedConfig):
    """Reproducible boosting: threads, rounds cap, early stopping; ``fixed_params`` override
    tuned parameters (e.g. a policy ``max_depth``). ``num_threads: auto`` sizes each fit by its
    rows and the usable cores (``models.boosting.threads_for``); a number pins it."""

    defaults_from = (_DEFAULTS, "lightgbm")

    num_threads: Annotated[int, Field(ge=1, le=256)] | Literal["auto"]

    def threads(self, rows: int) -> int:
        """The LightGBM threads of a fit on ``rows`` rows."""
        return threads_for(self.num_threads, rows)

    def fits_at_once(self, rows: int) -> int:
        """How many independent fits on ``rows`` rows run side by side (``auto`` only)."""
        return fits_at_once(self.num_threads, rows)

    max_rounds: int = Field(ge=1)
    early_stopping_rounds: int = Field(ge=1)
    fixed_params: dict[str, Any]


class ChurnConfig(PackagedConfig):
    defaults_from = (_DEFAULTS, "churn")

    calibration: Literal["platt", "isotonic"]
    refit: bool
    exclude_families: tuple[Family, ...]


class ValueConfig(PackagedConfig):
    defaults_from = (_DEFAULTS, "value")

    structures: tuple[Literal["tweedie", "two_part"], ...]
    tweedie_variance_power: float = Field(gt=1, lt=2)


class ClvRuleConfig(PackagedConfig):
    """The ``CLV = P / R`` value baseline (``valuemodel.models.baselines.ClvRule``): P from
    ``revenue_{contribution_days}d``, R per capital tier (``medium_assets`` / ``large_assets``
    CNY of total assets; left out, the feature set's ``retail_below`` / ``large_from``); a
    tier with fewer than ``min_segment_rows`` training rows takes the overall churn rate."""

    defaults_from = (_DEFAULTS, "clv_rule")

    contribution_days: int = Field(ge=1, le=3650)
    medium_assets: float = Field(default_factory=lambda: default_asset_tiers().retail_below, ge=0)
    large_assets: float = Field(default_factory=lambda: default_asset_tiers().large_from, ge=0)
    min_segment_rows: int = Field(ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> ClvRuleConfig:
        if self.large_assets < self.medium_assets:
            raise ValueError("large_assets must be at least medium_assets")
        return self


class FairnessConfig(PackagedConfig):
    """The churn model's per-group table (``valuemodel.models.fairness``): groups with fewer
    than ``min_group_size`` rows are named, not scored; a warning when a group's
    ``|mean predicted - observed churn|`` exceeds ``max_calibration_gap``; the top K of the
    list is the top ``top_share`` of accounts by value at risk."""

    defaults_from = (_DEFAULTS, "fairness")

    min_group_size: int = Field(ge=1)
    max_calibration_gap: float = Field(gt=0, le=1)
    top_share: float = Field(gt=0, le=1)


class TrainingConfig(PackagedConfig):
    """Horizons, churn definition, snapshots, tuning, LightGBM, churn and value options.

    ``exclude_protected``: train both models without ``age`` and ``gender`` and without the
    features named in ``protected_proxies``; the run then also fits the churn and value models
    with them (same tuned parameters, no search) to show what leaving them out costs.
    """

    defaults_from = (_DEFAULTS,)

    churn_horizon: int = Field(ge=1, le=1095)
    value_horizon: int = Field(ge=1, le=1095)
    churn_definition: Literal["auto", "assets", "inactivity"]
    experiment: str = Field(min_length=1)
    snapshots: SnapshotConfig
    tuning: TuningConfig
    lightgbm: LightGBMConfig
    churn: ChurnConfig
    value: ValueConfig
    exclude_protected: bool
    protected_proxies: tuple[str, ...]
    clv_rule: ClvRuleConfig
    fairness: FairnessConfig

    def with_overrides(self, **changes: Any) -> TrainingConfig:
        """A validated copy with top-level keys (or ``tuning.trials`` as ``trials``) changed."""
        data = self.model_dump()
        for key, value in changes.items():
            if value is None:
                continue
            if key == "trials":
                data["tuning"]["trials"] = value
            else:
                data[key] = value
        return parse_config(data, source="arguments")

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def parse_config(data: Any, source: str = "config") -> TrainingConfig:
    """Validate a mapping (e.g. parsed YAML) into a ``TrainingConfig``; keys it leaves out keep
    the packaged defaults."""
    return parse(TrainingConfig, data, source)


def load_config(path: str | Path | None = None) -> TrainingConfig:
    """The config in a YAML file, or the packaged defaults when ``path`` is None."""
    if path is None:
        return TrainingConfig()
    return load(TrainingConfig, path, "training config")
