"""Fit one model on an out-of-time split, with its baselines, metrics and figures.

Churn: tuned LightGBM + calibration fitted on the validation part. ROC-AUC, PR-AUC and lift
are those of the final calibrated probabilities; Brier and ECE are cross-fitted (the
calibration map is fitted on one half of the validation rows and scored on the other, and vice
versa) so that fitting the map on the validation part does not flatter them.

Value: the tuned tree parameters train each configured structure (Tweedie, two-part); the one
with the higher validation normalized Gini is kept, ties going to the first listed. On large
data the comparison uses the tuning subsample and only the winner is refitted on all rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from valuemodel.models import baselines, boosting, figures, metrics, reference
from valuemodel.models.calibration import ProbabilityCalibrator
from valuemodel.models.churn import ChurnClassifier
from valuemodel.models.schema import FeatureSchema
from valuemodel.models.value import ValueRegressor
from valuemodel.training.config import TrainingConfig
from valuemodel.training.frames import Part
from valuemodel.training.importance import family_importance
from valuemodel.training.tuning import TuningResult, stopping_rows, subsample, tune


@dataclass
class FittedModel:
    """Everything a run logs and a bundle stores about one trained model."""

    kind: str
    schema: FeatureSchema
    boosters: dict[str, lgb.Booster]
    structure: str
    params: dict[str, Any]
    metrics: dict[str, float]
    baselines: dict[str, dict[str, float]]
    tuning: TuningResult
    calibration: dict[str, Any] | None = None
    value: dict[str, Any] | None = None
    extra_metrics: dict[str, float] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    final: dict[str, Any] = field(default_factory=dict)
    """How the saved model differs from the tuned one (``refit.refit_churn``), else empty."""
    family_importance: dict[str, dict[str, float]] = field(default_factory=dict)


def _estimator_args(config: TrainingConfig, rows: int) -> dict[str, Any]:
    lgb_cfg = config.lightgbm
    return {
        "seed": config.tuning.seed,
        "num_threads": lgb_cfg.threads(rows),
        "max_rounds": lgb_cfg.max_rounds,
        "early_stopping_rounds": lgb_cfg.early_stopping_rounds,
    }


def _cross_fitted(raw: np.ndarray, y: np.ndarray, method: str, seed: int) -> np.ndarray | None:
    """Probabilities calibrated on the other half of the rows (two folds, stratified by the
    outcome so that each half holds both classes); None when a class has a single row: a
    map fitted on the rows it scores would flatter Brier and ECE."""
    rng = np.random.default_rng(seed)
    folds = np.empty(len(y), dtype=int)
    for value in (0.0, 1.0):
        rows = np.flatnonzero(y == value)
        folds[rows] = rng.permutation(len(rows)) % 2
    if any(len(np.unique(y[folds != k])) < 2 for k in (0, 1)):
        return None
    out = np.empty(len(y))
    for k in (0, 1):
        cal = ProbabilityCalibrator(method).fit(raw[folds != k], y[folds != k])
        out[folds == k] = cal.transform(raw[folds == k])
    return out


def _logistic_metrics(train: Part, valid: Part, schema: FeatureSchema, seed: int, cap: int):
    cat = [n for n in schema.feature_names if schema.dtypes[n] == "category"]
    num = [n for n in schema.feature_names if n not in cat]
    rows = subsample(len(train.y), cap, seed)
    pipe = baselines.logistic_baseline(num, cat, seed=seed)
    X_train = baselines.as_logistic_input(schema.prepare(train.features.iloc[rows]), cat)
    X_valid = baselines.as_logistic_input(schema.prepare(valid.features), cat)
    with threadpool_limits(limits=1):  # multi-threaded BLAS sums would vary between runs
        pipe.fit(X_train, train.y[rows])
        proba = pipe.predict_proba(X_valid)
    return metrics.churn_metrics(valid.y, proba[:, 1]), proba[:, 1]


def _reference_proba(train: Part, valid: Part, config: TrainingConfig) -> np.ndarray | None:
    """The reference model (``models.reference``), trained on the logistic baseline's seeded
    subsample (at most ``tuning.max_tuning_rows`` rows), on the validation rows; None when the
    data have none of its features."""
    seed = config.tuning.seed
    rows = subsample(len(train.y), config.tuning.max_tuning_rows, seed)
    threads = config.lightgbm.threads(len(rows))
    try:
        booster = reference.fit_reference(train.features.iloc[rows], train.y[rows], seed, threads)
    except ValueError:
        return None
    return reference.predict_reference(booster, valid.features)


def _family_importance(model: ChurnClassifier, X_valid, y_valid, config: TrainingConfig):
    """Grouped permutation importance on a seeded subsample of the validation rows (at most
    ``tuning.max_tuning_rows``: 21 predictions of every row would otherwise take a minute
    at 100,000 accounts)."""
    rows = subsample(len(y_valid), config.tuning.max_tuning_rows, config.tuning.seed)
    X, y = X_valid.iloc[rows].reset_index(drop=True), y_valid[rows]
    return family_importance(model.predict_raw, X, y, seed=config.tuning.seed)


def fit_churn(
    train: Part, valid: Part, config: TrainingConfig, progress: Callable[[], None] | None = None
) -> FittedModel:
    """Tune, fit and calibrate the churn model; measure it and its two baselines."""
    schema = FeatureSchema.from_frame(train.features)
    X_train, X_valid = schema.prepare(train.features), schema.prepare(valid.features)
    tuning = tune("churn", X_train, train.y, X_valid, valid.y, config, progress)
    model = ChurnClassifier(
        params=tuning.params,
        calibration=config.churn.calibration,
        **_estimator_args(config, len(train.y)),
    ).fit(X_train, train.y, eval_set=(X_valid, valid.y))
    proba = model.predict_proba(X_valid)[:, 1]
    found = metrics.churn_metrics(valid.y, proba)
    honest = _cross_fitted(
        model._calibrator_input(X_valid), valid.y, config.churn.calibration, config.tuning.seed
    )
    notes = []
    if honest is None:
        notes.append(
            "churn: a churn class has a single validation row, so Brier and ECE cannot be "
            "cross-fitted (calibrated on other rows than they judge); they are left empty"
        )
        found.update(brier=math.nan, ece=math.nan)
    else:
        found.update(
            brier=metrics.brier(valid.y, honest),
            ece=metrics.expected_calibration_error(valid.y, honest),
        )
    recency = baselines.recency_score(valid.features)
    logistic, logistic_proba = _logistic_metrics(
        train, valid, schema, config.tuning.seed, config.tuning.max_tuning_rows
    )
    found_baselines = {
        "recency": metrics.churn_metrics(valid.y, None, recency),
        "logistic": logistic,
    }
    gains = {"model": proba, "recency rule": recency, "logistic": logistic_proba}
    plain = _reference_proba(train, valid, config)
    if plain is not None:
        found_baselines["reference"] = metrics.churn_metrics(valid.y, plain)
        gains["reference"] = plain
    figs = {
        "calibration": figures.calibration_figure(
            valid.y,
            {"logistic baseline": logistic_proba}
            | ({} if honest is None else {"model (cross-fitted)": honest}),
        ),
        "gains": figures.gains_figure(valid.y, gains),
        "importance": figures.importance_figure(model.booster_),
    }
    families = _family_importance(model, X_valid, valid.y, config)
    return FittedModel(
        kind="churn",
        schema=schema,
        boosters={"main": model.booster_},
        structure=f"lightgbm+{config.churn.calibration}",
        params=tuning.params,
        metrics=found,
        baselines=found_baselines,
        tuning=tuning,
        calibration=model.calibrator_.to_dict(),
        extra_metrics={"n_iterations": float(model.n_iterations_)},
        figures=figs,
        family_importance=families,
        notes=notes,
    )


def _value_model(structure: str, tuning: TuningResult, config: TrainingConfig, rows: int):
    return ValueRegressor(
        structure=structure,
        params=tuning.params,
        tweedie_variance_power=config.value.tweedie_variance_power,
        n_jobs=config.lightgbm.fits_at_once(rows),
        **_estimator_args(config, rows),
    )


def _fit_value_structures(X_train, y, X_valid, y_valid, tuning, config: TrainingConfig):
    """The better structure, fitted on all training rows; and each structure's Gini.

    With several structures and more training rows than ``tuning.max_tuning_rows``, the
    comparison is made on the tuning subsample and only the winner is refitted on all rows.
    Every fit stops early on the tuning's validation subsample (``tuning.stopping_rows``);
    the Gini compares them on every validation row. Fitted on the tuning subsample, the
    Tweedie structure is the best trial's booster (same rows, parameters, seed and thread
    count: the same trees), so it is taken from the tuning instead of trained again.
    """
    structures = config.value.structures
    rows = subsample(len(y), config.tuning.max_tuning_rows, config.tuning.seed)
    sampled = len(structures) > 1 and len(rows) < len(y)
    X_cmp, y_cmp = (X_train.iloc[rows], y[rows]) if sampled else (X_train, y)
    stop = stopping_rows(len(y_valid), config)
    eval_set = (X_valid.iloc[stop], y_valid[stop])
    tuned = tuning.booster if len(y_cmp) == len(rows) else None

    def fit(structure: str) -> Callable[[], ValueRegressor]:
        model = _value_model(structure, tuning, config, len(y_cmp))
        if structure == "tweedie" and tuned is not None:
            return partial(model.from_booster, tuned, X_cmp.columns)
        return partial(model.fit, X_cmp, y_cmp, eval_set)

    models = boosting.side_by_side(
        [fit(s) for s in structures], config.lightgbm.fits_at_once(len(y_cmp))
    )
    fitted = dict(zip(structures, models, strict=True))
    gini = {s: metrics.normalized_gini(y_valid, m.predict(X_valid)) for s, m in fitted.items()}
    best = max(structures, key=lambda s: gini[s] if np.isfinite(gini[s]) else -np.inf)
    model = fitted[best]
    if sampled:
        model = _value_model(best, tuning, config, len(y)).fit(X_train, y, eval_set=eval_set)
    return best, model, gini


def fit_value(
    train: Part,
    valid: Part,
    config: TrainingConfig,
    horizon_days: int,
    progress: Callable[[], None] | None = None,
    rule: baselines.ClvRule | None = None,
) -> FittedModel:
    """Tune the value model, fit each structure, keep the better; measure the baselines
    (last-period revenue and, given a fitted ``rule``, ``clv_rule``: P / R, stored in the
    model's metadata so that scoring reproduces it)."""
    schema = FeatureSchema.from_frame(train.features)
    X_train, X_valid = schema.prepare(train.features), schema.prepare(valid.features)
    tuning = tune("value", X_train, train.y, X_valid, valid.y, config, progress)
    best, model, gini = _fit_value_structures(X_train, train.y, X_valid, valid.y, tuning, config)
    pred = model.predict(X_valid)
    scores: dict[str, np.ndarray] = {f"model ({best})": pred}
    found_baselines, notes = {}, []
    try:
        last = baselines.last_period_revenue(valid.features, horizon_days)
        found_baselines["last_revenue"] = metrics.value_metrics(valid.y, last)
        scores["last-period revenue"] = last
    except ValueError as exc:
        notes.append(f"value: baseline skipped ({exc})")
    stored = {}
    if rule is not None:
        try:
            by_rule = rule.predict(valid.features)
        except ValueError as exc:
            notes.append(f"value: P / R baseline skipped ({exc})")
        else:
            found_baselines["clv_rule"] = metrics.value_metrics(valid.y, by_rule)
            scores["P / R rule"] = by_rule
            stored["clv_rule"] = rule.to_dict()
    main = model.boosters_.get("main", model.boosters_.get("amount"))
    return FittedModel(
        kind="clv",
        schema=schema,
        boosters=dict(model.boosters_),
        structure=best,
        params=tuning.params,
        metrics=metrics.value_metrics(valid.y, pred),
        baselines=found_baselines,
        tuning=tuning,
        value=model.to_dict(),
        extra_metrics={f"{s}.normalized_gini": g for s, g in gini.items()},
        figures={
            "gains": figures.gains_figure(valid.y, scores, what="revenue"),
            "importance": figures.importance_figure(main),
        },
        notes=notes,
        metadata=stored,
    )


def baseline_frame(fitted: FittedModel) -> pd.DataFrame:
    """Model and baseline metrics side by side (rows: metric; columns: model, baselines)."""
    table = {"model": fitted.metrics, **fitted.baselines}
    return pd.DataFrame(table)
