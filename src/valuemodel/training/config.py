"""The training configuration: frozen, validated, loaded from YAML (``training/default.yaml``).

Every value has a default, so ``TrainingConfig()`` is the default configuration and a YAML file
only needs the keys it changes. Unknown keys and bad values are rejected with an ``InputError``
naming the key (``tuning.trials: ...``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from valuemodel.errors import InputError
from valuemodel.io import read_yaml


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SnapshotConfig(_Frozen):
    """How training snapshots are chosen and split out of time (see ``training.snapshots``)."""

    frequency: Literal["weekly", "biweekly", "monthly", "quarterly"] = "monthly"
    min_history_days: int = Field(90, ge=0, le=3650)
    max_snapshots: int = Field(24, ge=2, le=520)
    validation_fraction: float = Field(0.25, gt=0, lt=1)
    gap: Literal["strict", "relaxed"] = "strict"
    max_training_rows: int = Field(500_000, ge=100)


class TuningConfig(_Frozen):
    """Optuna: TPE sampler with ``seed``, median pruning, ``trials`` per model (0 = defaults)."""

    trials: int = Field(10, ge=0, le=1000)
    seed: int = 7
    max_tuning_rows: int = Field(60_000, ge=100)
    pruning_warmup_steps: int = Field(20, ge=0)
    timeout_seconds: float | None = Field(None, gt=0)


class LightGBMConfig(_Frozen):
    """Reproducible boosting: fixed threads, rounds cap, early stopping; ``fixed_params``
    override tuned parameters (e.g. a policy ``max_depth``)."""

    num_threads: int = Field(1, ge=1, le=256)
    max_rounds: int = Field(1000, ge=1)
    early_stopping_rounds: int = Field(30, ge=1)
    fixed_params: dict[str, Any] = Field(default_factory=dict)


class ChurnConfig(_Frozen):
    calibration: Literal["platt", "isotonic"] = "platt"
    refit: bool = True
    exclude_families: tuple[
        Literal["recency", "frequency", "contribution", "assets", "flows", "holdings", "profile"],
        ...,
    ] = ()


class ValueConfig(_Frozen):
    structures: tuple[Literal["tweedie", "two_part"], ...] = ("tweedie", "two_part")
    tweedie_variance_power: float = Field(1.5, gt=1, lt=2)


class ClvRuleConfig(_Frozen):
    """The ``CLV = P / R`` value baseline (``valuemodel.models.baselines.ClvRule``): P from
    ``revenue_{contribution_days}d``, R per capital tier (``medium_assets`` / ``large_assets``
    CNY of total assets); a tier with fewer than ``min_segment_rows`` training rows takes the
    overall churn rate."""

    contribution_days: int = Field(365, ge=1, le=3650)
    medium_assets: float = Field(500_000, ge=0)
    large_assets: float = Field(5_000_000, ge=0)
    min_segment_rows: int = Field(30, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> ClvRuleConfig:
        if self.large_assets < self.medium_assets:
            raise ValueError("large_assets must be at least medium_assets")
        return self


class FairnessConfig(_Frozen):
    """The churn model's per-group table (``valuemodel.models.fairness``): groups with fewer
    than ``min_group_size`` rows are named, not scored; a warning when a group's
    ``|mean predicted - observed churn|`` exceeds ``max_calibration_gap``; the top K of the
    list is the top ``top_share`` of accounts by value at risk."""

    min_group_size: int = Field(100, ge=1)
    max_calibration_gap: float = Field(0.05, gt=0, le=1)
    top_share: float = Field(0.1, gt=0, le=1)


class TrainingConfig(_Frozen):
    """Horizons, churn definition, snapshots, tuning, LightGBM, churn and value options.

    ``exclude_protected``: train both models without ``age`` and ``gender`` and without the
    features named in ``protected_proxies``; the run then also fits the churn and value models
    with them (same tuned parameters, no search) to show what leaving them out costs.
    """

    churn_horizon: int = Field(90, ge=1, le=1095)
    value_horizon: int = Field(365, ge=1, le=1095)
    churn_definition: Literal["auto", "assets", "inactivity"] = "auto"
    experiment: str = Field("valuemodel", min_length=1)
    snapshots: SnapshotConfig = SnapshotConfig()
    tuning: TuningConfig = TuningConfig()
    lightgbm: LightGBMConfig = LightGBMConfig()
    churn: ChurnConfig = ChurnConfig()
    value: ValueConfig = ValueConfig()
    exclude_protected: bool = False
    protected_proxies: tuple[str, ...] = ()
    clv_rule: ClvRuleConfig = ClvRuleConfig()
    fairness: FairnessConfig = FairnessConfig()

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


def _describe(error: dict[str, Any]) -> str:
    key = ".".join(str(p) for p in error["loc"]) or "(top level)"
    got = error.get("input")
    shown = "" if isinstance(got, dict) else f" (got {got!r})"
    return f"{key}: {error['msg']}{shown}"


def parse_config(data: Any, source: str = "config") -> TrainingConfig:
    """Validate a mapping (e.g. parsed YAML) into a ``TrainingConfig``."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError(
            f"{source}: expected a mapping of keys to values, got {type(data).__name__}"
        )
    try:
        return TrainingConfig.model_validate(data)
    except ValidationError as exc:
        lines = [_describe(e) for e in exc.errors()]
        raise InputError(
            f"{source}: invalid training config:\n  - " + "\n  - ".join(lines)
        ) from None


def load_config(path: str | Path | None = None) -> TrainingConfig:
    """The config in a YAML file, or the defaults when ``path`` is None."""
    if path is None:
        return TrainingConfig()
    path = Path(path)
    try:
        data = read_yaml(path)
    except OSError as exc:
        raise InputError(f"{path}: cannot read the training config ({exc.strerror})") from None
    return parse_config(data, source=str(path))
