"""The tiers file (``serving/tiers.yaml``) and the scoring config as validated, frozen data.

Every scheme a branch office uses by hand (docs/ranked-list.md, "Tiers") is configured here:
thresholds, cut-offs, segment and lifecycle rules, priority weights, exclusions, capacity and
effort shares, and the action catalogue with its rules. The models hold the rules a file must
follow; the office defaults exist only in the packaged ``serving/tiers.yaml``
(``valuemodel.config``; the repository's ``serving/tiers.yaml`` is a symlink to it), so
``TierConfig()`` is that file. The capital tiers (``asset_tier``) default to the feature set's
``asset_tiers`` (``features/default.yaml``), their one definition.

Rules share one small condition language: a *condition set* maps a column (a feature or a tier
computed before it) to ``{min, max, in, missing}``; all entries of a set must hold (AND), and a
rule given as a list of sets holds when any set holds (OR). ``missing: true`` lets a null (or an
absent column) satisfy the condition; otherwise a null never does.
"""

from __future__ import annotations

import os
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from valuemodel.config import Frozen, PackagedConfig, load, packaged
from valuemodel.features.config import default_asset_tiers
from valuemodel.serving.control import DEFAULT_SEED

RISK_LEVELS = ("C1", "C2", "C3", "C4", "C5")
PRODUCT_RISKS = ("R1", "R2", "R3", "R4", "R5")
ASSET_TIERS = ("large", "medium", "retail")
VALUE_QUADRANTS = ("A", "B", "C", "D")
GROWTH_QUADRANTS = ("I", "II", "III", "IV")
_DEFAULTS = "serving/tiers.yaml"


class Condition(Frozen):
    """One column's test: ``min <= x <= max``, ``above < x < below`` (strict: the sign of a
    feature, e.g. ``below: 0`` for a loss), ``x in values``; nulls pass only if ``missing``."""

    min: float | None = None
    max: float | None = None
    above: float | None = None
    below: float | None = None
    in_: tuple[str, ...] | None = Field(default=None, alias="in")
    missing: bool = False

    @model_validator(mode="after")
    def _not_empty(self) -> Condition:
        bounds = (self.min, self.max, self.above, self.below, self.in_)
        if all(b is None for b in bounds) and not self.missing:
            raise ValueError(
                "a condition needs at least one of min, max, above, below, in, missing"
            )
        return self


ConditionSet = dict[str, Condition]


def _as_any_of(value: Any) -> Any:
    return [value] if isinstance(value, dict) else value


class Cutoff(Frozen):
    """A quadrant cut-off: a ``percentile`` (0..1) of the scored population, or a ``value``."""

    percentile: float | None = Field(default=None, ge=0.0, le=1.0)
    value: float | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Cutoff:
        if (self.percentile is None) == (self.value is None):
            raise ValueError("give exactly one of 'percentile' or 'value'")
        return self


class AssetTierConfig(Frozen):
    """Capital tiers (CNY): large >= ``large``, medium >= ``medium``, else retail. A key left
    out takes the feature set's ``asset_tiers`` (``large_from``, ``retail_below``), not the
    tiers file, which leaves this section out."""

    large: float = Field(default_factory=lambda: default_asset_tiers().large_from, ge=0)
    medium: float = Field(default_factory=lambda: default_asset_tiers().retail_below, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> AssetTierConfig:
        if self.medium > self.large:
            raise ValueError("'medium' must not exceed 'large'")
        return self


class MeasuresConfig(PackagedConfig):
    """Which feature columns stand for contribution, turnover and growth (first present wins)."""

    defaults_from = (_DEFAULTS, "measures")

    contribution: tuple[str, ...]
    turnover: str
    growth: str
    assets: str

    @field_validator("contribution", mode="before")
    @classmethod
    def _listify(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v


class ValueQuadrantConfig(PackagedConfig):
    defaults_from = (_DEFAULTS, "value_quadrant")

    contribution: Cutoff
    turnover: Cutoff


class GrowthQuadrantConfig(PackagedConfig):
    defaults_from = (_DEFAULTS, "growth_quadrant")

    contribution: Cutoff
    growth: Cutoff


class GradeLevel(Frozen):
    """A value grade: reached when assets >= ``min_assets`` OR contribution >= the minimum."""

    name: str
    min_assets: float | None = None
    min_contribution: float | None = None


class ValueGradeConfig(PackagedConfig):
    defaults_from = (_DEFAULTS, "value_grade")

    levels: tuple[GradeLevel, ...]

    @field_validator("levels")
    @classmethod
    def _last_is_catch_all(cls, v: tuple[GradeLevel, ...]) -> tuple[GradeLevel, ...]:
        if len(v) < 2:
            raise ValueError("give at least two levels, the last one without thresholds")
        last = v[-1]
        if last.min_assets is not None or last.min_contribution is not None:
            raise ValueError(f"the last level ({last.name!r}) must have no thresholds")
        names = [lv.name for lv in v]
        if len(set(names)) != len(names):
            raise ValueError(f"level names must be unique, got {names}")
        return v


class RiskClassConfig(PackagedConfig):
    defaults_from = (_DEFAULTS, "risk_class")

    conservative: tuple[str, ...]
    steady: tuple[str, ...]
    aggressive: tuple[str, ...]

    @model_validator(mode="after")
    def _partition(self) -> RiskClassConfig:
        given = [*self.conservative, *self.steady, *self.aggressive]
        if sorted(given) != sorted(RISK_LEVELS):
            raise ValueError(f"each of {', '.join(RISK_LEVELS)} must appear exactly once")
        return self

    def mapping(self) -> dict[str, str]:
        return {
            level: name
            for name in ("conservative", "steady", "aggressive")
            for level in getattr(self, name)
        }


class RuleSetConfig(Frozen):
    """Ordered named rules (first match wins); rows matching none get ``default``.

    A row is null when every column in ``requires`` is null or absent (the tier cannot be told).
    """

    rules: dict[str, list[ConditionSet]]
    default: str
    requires: tuple[str, ...] = ()

    @field_validator("rules", mode="before")
    @classmethod
    def _any_of(cls, v: Any) -> Any:
        return {k: _as_any_of(r) for k, r in v.items()} if isinstance(v, dict) else v

    @property
    def names(self) -> tuple[str, ...]:
        return (*self.rules, self.default)


class EffortGroup(Frozen):
    segments: tuple[str, ...]
    share: float = Field(ge=0.0, le=1.0)


class CapacityConfig(PackagedConfig):
    defaults_from = (_DEFAULTS, "priority", "capacity")

    per_manager: int | None = Field(ge=1)


class PriorityConfig(PackagedConfig):
    """``priority_score = value_at_risk * product of the tier weights``; excluded rows get 0."""

    defaults_from = (_DEFAULTS, "priority")

    weights: dict[str, dict[str, float]]
    missing_weight: float = Field(ge=0.0)
    exclusions: dict[str, list[ConditionSet]]
    effort: tuple[EffortGroup, ...]
    capacity: CapacityConfig

    @field_validator("exclusions", mode="before")
    @classmethod
    def _any_of(cls, v: Any) -> Any:
        return {k: _as_any_of(r) for k, r in v.items()} if isinstance(v, dict) else v

    @field_validator("weights")
    @classmethod
    def _non_negative(cls, v: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        for tier, table in v.items():
            for label, w in table.items():
                if w < 0:
                    raise ValueError(f"weight {tier}.{label} must be >= 0, got {w}")
        return v

    @field_validator("effort")
    @classmethod
    def _shares_sum_to_one(cls, v: tuple[EffortGroup, ...]) -> tuple[EffortGroup, ...]:
        total = sum(g.share for g in v)
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"effort shares must sum to 1, got {total:g}")
        return v


class Action(Frozen):
    """A recommended action; a product offer names its product risk grade and a fallback.

    ``premise``: what the words take for granted about the account (a condition set, or a
    list of them), e.g. ``{unrealized_pnl_ratio: {below: 0}}`` for "positions at a loss". The
    action is never given to an account for which it does not hold, whatever rule names it.
    """

    en: str
    zh: str
    product_risk: Literal["R1", "R2", "R3", "R4", "R5"] | None = None
    fallback: str | None = None
    premise: list[ConditionSet] = []

    @field_validator("premise", mode="before")
    @classmethod
    def _any_of(cls, v: Any) -> Any:
        return _as_any_of(v)

    @model_validator(mode="after")
    def _offer_has_fallback(self) -> Action:
        if self.product_risk is not None and self.fallback is None:
            raise ValueError("a product offer (product_risk set) needs a non-product 'fallback'")
        return self


class ActionRule(Frozen):
    """``action`` applies when ``when`` holds and reason_1's feature matches ``top_reason``."""

    action: str
    when: list[ConditionSet] = []
    top_reason: tuple[str, ...] | None = None

    @field_validator("when", mode="before")
    @classmethod
    def _any_of(cls, v: Any) -> Any:
        return _as_any_of(v)


class ActionsConfig(Frozen):
    catalogue: dict[str, Action]
    rules: tuple[ActionRule, ...]
    default: str

    @model_validator(mode="after")
    def _references(self) -> ActionsConfig:
        known = set(self.catalogue)
        for i, rule in enumerate(self.rules):
            if rule.action not in known:
                raise ValueError(f"rules[{i}].action {rule.action!r} is not in the catalogue")
        if self.default not in known:
            raise ValueError(f"default {self.default!r} is not in the catalogue")
        if self.catalogue[self.default].product_risk is not None:
            raise ValueError(f"default {self.default!r} must not be a product offer")
        if self.catalogue[self.default].premise:
            raise ValueError(f"default {self.default!r} must have no premise (it fits anyone)")
        for name, action in self.catalogue.items():
            fb = action.fallback
            if fb is not None and (fb not in known or self.catalogue[fb].product_risk):
                raise ValueError(
                    f"catalogue.{name}.fallback {fb!r} must be a non-product action "
                    "of the catalogue"
                )
            if fb is not None and self.catalogue[fb].premise:
                raise ValueError(f"catalogue.{name}.fallback {fb!r} must have no premise")
        return self


class ReasonsConfig(PackagedConfig):
    """Which features may never be given as a reason (``fnmatch`` patterns): protected
    attributes and administrative fields a manager must not act on. They still feed the model
    (unless training's ``exclude_protected``); the next strongest driver takes their place."""

    defaults_from = (_DEFAULTS, "reasons")

    exclude: tuple[str, ...]


class TierConfig(PackagedConfig):
    """The whole tiers file. ``TierConfig()`` is the packaged ``serving/tiers.yaml``."""

    defaults_from = (_DEFAULTS,)

    measures: MeasuresConfig
    asset_tier: AssetTierConfig = Field(default_factory=AssetTierConfig)
    value_quadrant: ValueQuadrantConfig
    growth_quadrant: GrowthQuadrantConfig
    value_grade: ValueGradeConfig
    risk_class: RiskClassConfig
    service_segment: RuleSetConfig
    lifecycle_stage: RuleSetConfig
    priority: PriorityConfig
    actions: ActionsConfig
    reasons: ReasonsConfig = Field(default_factory=ReasonsConfig)

    @model_validator(mode="after")
    def _cross_references(self) -> TierConfig:
        segments = set(self.service_segment.names)
        seen: list[str] = []
        for i, group in enumerate(self.priority.effort):
            for s in group.segments:
                if s not in segments:
                    raise ValueError(
                        f"priority.effort[{i}].segments: {s!r} is not a service segment "
                        f"({', '.join(sorted(segments))})"
                    )
                seen.append(s)
        if sorted(seen) != sorted(segments):
            raise ValueError("priority.effort: every service segment must appear exactly once")
        labels = self.tier_labels()
        for tier, table in self.priority.weights.items():
            if tier not in labels:
                raise ValueError(f"priority.weights.{tier}: unknown tier ({', '.join(labels)})")
            for label in table:
                if label not in labels[tier]:
                    raise ValueError(f"priority.weights.{tier}.{label}: unknown {tier} value")
        return self

    def tier_labels(self) -> dict[str, tuple[str, ...]]:
        """Each categorical tier and the values it can take."""
        grades = tuple(lv.name for lv in self.value_grade.levels)
        classes = ("conservative", "steady", "aggressive")
        return {
            "asset_tier": ASSET_TIERS,
            "value_quadrant": VALUE_QUADRANTS,
            "growth_quadrant": GROWTH_QUADRANTS,
            "value_grade": grades,
            "risk_class": classes,
            "grade_risk_category": tuple(f"{g}-{c}" for g in grades for c in classes),
            "service_segment": self.service_segment.names,
            "lifecycle_stage": self.lifecycle_stage.names,
            "loyalty_stage": ("new", "potential", "regular", "mature", "loyal"),
        }


class ScoringConfig(Frozen):
    """``serving/scoring.yaml``: the arguments of :func:`valuemodel.serving.score` as data."""

    data: Path
    as_of: str
    out: Path
    top: int | None = Field(default=None, ge=1)
    tracking_uri: str | None = None
    model_alias: str = "champion"
    tiers: Path | None = None
    lang: Literal["en", "zh"] = "en"
    control_share: float = Field(default=0.0, ge=0.0, lt=1.0)
    control_seed: int = DEFAULT_SEED
    compare: str | None = None


def default_tiers_path() -> Path | Traversable:
    """The tiers file used without ``--tiers``: ``$VALUEMODEL_SERVING_DIR/tiers.yaml`` when
    there is one, else the packaged ``serving/tiers.yaml``."""
    env = os.environ.get("VALUEMODEL_SERVING_DIR")
    path = Path(env) / "tiers.yaml" if env else None
    return path if path is not None and path.is_file() else packaged("serving/tiers.yaml")


def load_tiers(path: str | Path | Traversable | None = None) -> TierConfig:
    """The tiers file at ``path`` (default: :func:`default_tiers_path`); keys it leaves out
    keep the packaged defaults.

    Raises ``InputError`` naming the file and the offending key.
    """
    return load(TierConfig, default_tiers_path() if path is None else path, "tiers file")


def load_scoring_config(path: str | Path) -> ScoringConfig:
    """The batch-scoring config; relative paths in it are resolved against its folder."""
    path = Path(path)
    config = load(ScoringConfig, path, "scoring config file")
    base = path.parent
    updates: dict[str, Any] = {
        "data": base / config.data,
        "out": base / config.out,
    }
    if config.tiers is not None:
        updates["tiers"] = base / config.tiers
    return config.model_copy(update=updates)
