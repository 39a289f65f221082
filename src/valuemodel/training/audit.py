"""What a run shows beside the model: the P / R rule, the fairness table, protected features.

- :func:`fit_clv_rule`: the ``CLV = P / R`` baseline, its churn rates per capital tier taken
  from the churn model's training snapshots (the rule is stored with the value model).
- :func:`excluded_features` and :func:`without`: with ``exclude_protected``, the models train
  without ``age``, ``gender`` and the configured proxies (the parts keep those columns, so the
  fairness table can still be computed).
- :func:`input_notes` and :func:`reference_note`: the summary's lines on what the input
  needed and on a tuned churn model that does not beat the plain reference model.
- :func:`review`: after a model is saved, its fairness table (churn) and, with
  ``exclude_protected``, the same model fitted with the protected features (same tuned
  parameters, no search) measured on the same rows: the cost of leaving them out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from valuemodel.models import fairness, metrics
from valuemodel.models.baselines import ClvRule
from valuemodel.models.churn import ChurnClassifier
from valuemodel.models.schema import FeatureSchema
from valuemodel.models.value import ValueRegressor
from valuemodel.training.config import TrainingConfig
from valuemodel.training.fitting import FittedModel, _estimator_args
from valuemodel.training.frames import Part


def fit_clv_rule(config: TrainingConfig, churn_train: Part) -> ClvRule:
    """The P / R rule: P per churn-horizon period, R per capital tier from ``churn_train``."""
    rule = config.clv_rule
    return ClvRule(
        period_days=config.churn_horizon,
        horizon_days=config.value_horizon,
        contribution_days=rule.contribution_days,
        medium=rule.medium_assets,
        large=rule.large_assets,
        min_segment_rows=rule.min_segment_rows,
    ).fit(churn_train.features, churn_train.y)


def excluded_features(config: TrainingConfig, columns) -> tuple[list[str], list[str]]:
    """The feature columns to leave out (none unless ``exclude_protected``), and notes on
    configured names the features do not have."""
    if not config.exclude_protected:
        return [], []
    wanted = [*fairness.PROTECTED_FEATURES, *config.protected_proxies]
    present = [c for c in dict.fromkeys(wanted) if c in set(columns)]
    absent = [c for c in config.protected_proxies if c not in set(columns)]
    notes = [f"protected_proxies: no feature named {c!r}; nothing to leave out" for c in absent]
    return present, notes


def without(parts, columns: list[str]) -> tuple:
    """The parts (None kept) with the feature ``columns`` dropped (those they still have: the
    profile family may already be out of the churn model's inputs)."""
    if not columns:
        return tuple(parts)
    return tuple(
        None
        if p is None
        else Part(p.features.drop(columns=columns, errors="ignore"), p.y, p.dates)
        for p in parts
    )


@dataclass
class Review:
    """The fairness table (churn), the protected-feature comparison and what to log."""

    fairness: pd.DataFrame | None = None
    protected: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def metrics(self) -> dict[str, float]:
        """MLflow metrics: ``protected.with.<m>``, ``protected.without.<m>``,
        ``fairness.max_abs_calibration_gap``."""
        out = {}
        for side in ("with", "without"):
            out |= {f"protected.{side}.{k}": v for k, v in self.protected.get(side, {}).items()}
        if self.fairness is not None and self.fairness["scored"].any():
            gaps = self.fairness.loc[self.fairness["scored"].astype(bool), "calibration_gap"]
            out["fairness.max_abs_calibration_gap"] = float(gaps.abs().max())
        return out

    def documents(self) -> dict[str, Any]:
        """JSON artifacts: ``fairness.json`` (the table) and ``protected.json``."""
        out: dict[str, Any] = {}
        if self.fairness is not None:
            rows = self.fairness.astype(object).where(self.fairness.notna(), None)
            out["fairness.json"] = {
                "rows": rows.to_dict(orient="records"),
                "warnings": self.warnings,
                "notes": self.notes,
            }
        if self.protected:
            out["protected.json"] = _finite(self.protected)
        return out

    def texts(self) -> dict[str, str]:
        """``fairness.csv``: the table for a spreadsheet (6 decimals)."""
        if self.fairness is None:
            return {}
        return {"fairness.csv": self.fairness.round(6).to_csv(index=False)}


def review(
    fitted: FittedModel,
    model: Any,
    parts: tuple,
    judge: Part,
    on: str,
    config: TrainingConfig,
    excluded: list[str],
) -> Review:
    """The fairness table of a churn model on ``judge`` and, when ``excluded`` is not empty,
    the comparison with the model fitted with those features; ``parts`` keep every column."""
    out = Review()
    stake = _stake(judge.features, config)
    if fitted.kind == "churn":
        _add_fairness(out, model.predict(judge.features), judge, stake, on, config)
    if excluded:
        out.protected = _compare(fitted, model, parts, judge, stake, on, config, excluded)
    return out


def _stake(features: pd.DataFrame, config: TrainingConfig) -> np.ndarray:
    """The value at stake per row: the contribution over the P / R rule's window (CNY)."""
    column = f"revenue_{config.clv_rule.contribution_days}d"
    if column not in features.columns:
        return np.ones(len(features))
    values = features[column].to_numpy(dtype=float, na_value=np.nan)
    return np.clip(np.nan_to_num(values, nan=0.0), 0.0, None)


def _add_fairness(out: Review, proba, judge: Part, stake, on: str, config: TrainingConfig):
    cfg = config.fairness
    frame = fairness.protected_groups(judge.features)
    if frame.empty:
        out.notes.append("fairness: no age or gender in the features; no per-group table")
        return
    frame = frame.assign(churn_probability=proba, churned=judge.y, value=stake)
    out.fairness = fairness.group_table(
        frame, top_share=cfg.top_share, min_group_size=cfg.min_group_size
    )
    out.notes.append(
        f"fairness: measured on {on}; the top K is the top {cfg.top_share:.0%} by churn "
        f"probability x last year's contribution; groups under {cfg.min_group_size} rows "
        "are not scored"
    )
    out.warnings += fairness.calibration_warnings(out.fairness, cfg.max_calibration_gap)


def _compare(fitted, model, parts, judge, stake, on, config, excluded) -> dict[str, Any]:
    """Both models' ROC-AUC and value capture (churn) or Gini and revenue capture (value).

    Both sides are fitted here the same way (the tuned parameters, the training part, early
    stopping on the validation part), one with the saved model's features and one with the
    protected ones added back, so that nothing but those features differs: the saved churn
    model itself is refitted on later months, which would flatter the side without them.
    """
    train, valid = parts[0], parts[1]
    kept = list(fitted.schema.feature_names)
    added = [*kept, *(c for c in excluded if c in train.features)]
    args = _estimator_args(config, len(train.y))
    share = config.fairness.top_share
    sides = {}
    for side, columns in (("with", added), ("without", kept)):
        schema = FeatureSchema.from_frame(train.features[columns])
        X_train, X_valid = schema.prepare(train.features), schema.prepare(valid.features)
        X_judge = schema.prepare(judge.features)
        if fitted.kind == "churn":
            clf = ChurnClassifier(
                params=fitted.params, calibration=config.churn.calibration, **args
            ).fit(X_train, train.y, eval_set=(X_valid, valid.y))
            sides[side] = _churn_side(judge.y, clf.predict_proba(X_judge)[:, 1], stake, share)
        else:
            reg = ValueRegressor(
                structure=fitted.structure,
                params=fitted.params,
                tweedie_variance_power=config.value.tweedie_variance_power,
                **args,
            ).fit(X_train, train.y, eval_set=(X_valid, valid.y))
            sides[side] = _value_side(judge.y, reg.predict(X_judge), share)
    cost = {k: sides["with"][k] - sides["without"][k] for k in sides["with"]}
    return {"excluded": list(excluded), "on": on, "top_share": share, **sides, "cost": cost}


def _churn_side(y, proba, stake, share: float) -> dict[str, float]:
    return {
        "roc_auc": metrics.roc_auc(y, proba),
        "churner_capture": fairness.top_capture(y, proba * stake, share),
        "value_capture": fairness.top_capture(y * stake, proba * stake, share),
    }


def _value_side(y, predicted, share: float) -> dict[str, float]:
    return {
        "normalized_gini": metrics.normalized_gini(y, predicted),
        "value_capture": fairness.top_capture(y, predicted, share),
    }


def _finite(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, float) and not math.isfinite(data):
        return None
    return data


def input_notes(info: dict[str, Any]) -> list[str]:
    """What the input needed (quarantine, normalisations), as lines for the summary."""
    notes = [f"input normalised: {text}" for text in info["normalised"]]
    quarantined = info["quarantined_rows"]
    if quarantined:
        parts = ", ".join(f"{table} {n:,}" for table, n in quarantined.items())
        notes.append(f"input: {sum(quarantined.values()):,} rows quarantined ({parts})")
    return notes


def reference_note(fitted: FittedModel) -> list[str]:
    """A note when the tuned churn model does not beat the plain reference model."""
    model = fitted.metrics.get("roc_auc", math.nan)
    plain = fitted.baselines.get("reference", {}).get("roc_auc", math.nan)
    if not model < plain:
        return []
    return [
        f"churn: the tuned model does not beat the plain reference model on the validation "
        f"accounts (ROC-AUC {model:.4f} against {plain:.4f})"
    ]
