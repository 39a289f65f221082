"""Hyperparameter search with Optuna: seeded TPE, median pruning, early stopping.

Each trial trains one booster on the training part (a seeded subsample of at most
``tuning.max_tuning_rows`` rows, binned once and shared by all trials), stops early on the
validation part (subsampled to the same cap: :func:`stopping_rows`), and is scored on it:
ROC-AUC for churn, normalized Gini for value. The best trial's booster is kept
(``TuningResult.booster``): the value model's structure comparison trains the same Tweedie
booster on the same rows, and takes it instead of training it again.

Every boosting round reports the validation metric (ROC-AUC; minus the Tweedie deviance for
value, comparable across trials as the variance power is fixed) to a ``MedianPruner``, which
stops trials that fall below the median of earlier ones at the same round.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import optuna
import pandas as pd

from valuemodel.models import boosting, metrics
from valuemodel.models.churn import DEFAULT_PARAMS
from valuemodel.training.config import TrainingConfig

Progress = Callable[[], None]


@dataclass(frozen=True)
class TuningResult:
    """Best parameters (tree parameters only) and a summary of the study."""

    params: dict[str, Any]
    best_score: float | None = None
    trials: int = 0
    pruned: int = 0
    scores: list[float] = field(default_factory=list)
    booster: lgb.Booster | None = field(default=None, repr=False, compare=False)
    """The best trial's booster (trained on the tuning subsample, stopped early on
    :func:`stopping_rows` of the validation part); None without trials."""


def suggest_params(trial: optuna.Trial) -> dict[str, Any]:
    """The search space shared by the churn and value boosters."""
    return {
        "learning_rate": trial.suggest_float("learning_rate", 0.03, 0.3, log=True),
        "num_leaves": trial.suggest_int("num_leaves", 8, 128, log=True),
        "min_data_in_leaf": trial.suggest_int("min_data_in_leaf", 20, 400, log=True),
        "feature_fraction": trial.suggest_float("feature_fraction", 0.5, 1.0),
        "bagging_fraction": trial.suggest_float("bagging_fraction", 0.5, 1.0),
        "bagging_freq": 1,
        "lambda_l2": trial.suggest_float("lambda_l2", 1e-3, 10.0, log=True),
    }


class PruningCallback:
    """LightGBM callback: report the validation metric to the trial, prune when told."""

    def __init__(self, trial: optuna.Trial, metric: str, sign: float = 1.0):
        self.trial = trial
        self.metric = metric
        self.sign = sign

    def __call__(self, env: Any) -> None:
        for data_name, name, value, _ in env.evaluation_result_list:
            if data_name == "valid" and name == self.metric:
                self.trial.report(self.sign * float(value), step=env.iteration)
                if self.trial.should_prune():
                    raise optuna.TrialPruned(f"round {env.iteration}: {name}={value:.5f}")
                return


def subsample(n: int, cap: int, seed: int) -> np.ndarray:
    """Sorted row positions of a seeded subsample of at most ``cap`` of ``n`` rows."""
    if n <= cap:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=cap, replace=False))


def stopping_rows(n: int, config: TrainingConfig) -> np.ndarray:
    """The validation rows (of ``n``) that early stopping reads: a seeded subsample of at
    most ``tuning.max_tuning_rows``. Trials stop on them, and so do the value model's fits
    (``fitting``): on 100,000 accounts the validation part is about twice that cap, and
    every boosting round scored all of it; the Gini that compares the structures and the
    reported metrics still use every validation row."""
    return subsample(n, config.tuning.max_tuning_rows, config.tuning.seed + 1)


class _Objective:
    def __init__(self, kind, train_set, valid_set, X_valid, y_valid, config: TrainingConfig):
        self.kind, self.config = kind, config
        self.threads = config.lightgbm.threads(len(train_set.get_label()))
        self.train_set, self.valid_set = train_set, valid_set
        self.X_valid, self.y_valid = X_valid, y_valid
        self.best: tuple[float, lgb.Booster | None] = (-np.inf, None)

    def fixed(self) -> dict[str, Any]:
        if self.kind == "churn":
            return {"objective": "binary", "metric": "auc"}
        return {
            "objective": "tweedie",
            "metric": "tweedie",
            "tweedie_variance_power": self.config.value.tweedie_variance_power,
        }

    def __call__(self, trial: optuna.Trial) -> float:
        lgb_cfg = self.config.lightgbm
        tree = {**suggest_params(trial), **lgb_cfg.fixed_params}
        params = boosting.booster_params(
            {**tree, **self.fixed()}, self.config.tuning.seed, self.threads
        )
        metric, sign = ("auc", 1.0) if self.kind == "churn" else ("tweedie", -1.0)
        booster = boosting.train_booster(
            params,
            self.train_set,
            self.valid_set,
            max_rounds=lgb_cfg.max_rounds,
            early_stopping_rounds=lgb_cfg.early_stopping_rounds,
            callbacks=[PruningCallback(trial, metric, sign)],
        )
        pred = booster.predict(self.X_valid)
        if self.kind == "churn":
            score = metrics.roc_auc(self.y_valid, pred)
        else:
            score = metrics.normalized_gini(self.y_valid, pred)
        score = score if np.isfinite(score) else -1.0
        if score > self.best[0]:  # the first of equal scores, as Optuna's best trial
            self.best = (score, booster)
        return score


class _ProgressCallback:
    def __init__(self, progress: Progress | None):
        self.progress = progress

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        if self.progress is not None:
            self.progress()


def tune(
    kind: str,
    X_train: pd.DataFrame,
    y_train: np.ndarray,
    X_valid: pd.DataFrame,
    y_valid: np.ndarray,
    config: TrainingConfig,
    progress: Progress | None = None,
) -> TuningResult:
    """Search tree parameters for ``kind`` (``churn`` or ``value``); ``progress()`` per trial.

    With ``tuning.trials == 0`` the defaults (plus ``lightgbm.fixed_params``) are returned.
    """
    fixed = config.lightgbm.fixed_params
    if config.tuning.trials == 0:
        return TuningResult(params={**DEFAULT_PARAMS, **fixed})
    cap, seed = config.tuning.max_tuning_rows, config.tuning.seed
    rows = subsample(len(X_train), cap, seed)
    train_set = boosting.dataset(X_train.iloc[rows], np.asarray(y_train)[rows])
    vrows = stopping_rows(len(X_valid), config)
    X_valid, y_valid = X_valid.iloc[vrows], np.asarray(y_valid)[vrows]
    valid_set = boosting.dataset(X_valid, y_valid, reference=train_set)
    objective = _Objective(kind, train_set, valid_set, X_valid, y_valid, config)
    optuna_logger = logging.getLogger("optuna")
    level = optuna_logger.level
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        study = optuna.create_study(
            direction="maximize",
            sampler=optuna.samplers.TPESampler(seed=config.tuning.seed, n_startup_trials=5),
            pruner=optuna.pruners.MedianPruner(
                n_startup_trials=3, n_warmup_steps=config.tuning.pruning_warmup_steps
            ),
        )
        study.optimize(
            objective,
            n_trials=config.tuning.trials,
            timeout=config.tuning.timeout_seconds,
            callbacks=[_ProgressCallback(progress)],
        )
    finally:
        optuna_logger.setLevel(level)
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    pruned = sum(t.state == optuna.trial.TrialState.PRUNED for t in study.trials)
    if not complete:
        return TuningResult({**DEFAULT_PARAMS, **fixed}, None, len(study.trials), pruned)
    best = study.best_trial
    params = {**DEFAULT_PARAMS, **best.params, **fixed}
    scores = [float(t.value) for t in complete]
    booster = objective.best[1] if objective.best[0] == best.value else None
    return TuningResult(params, float(best.value), len(study.trials), pruned, scores, booster)
