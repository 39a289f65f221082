"""``train``: snapshots -> out-of-time split -> tuning -> MLflow run -> registry and alias.

Only rows dated on or before ``as_of`` are read (``data.until(as_of)``), and labels are only
computed where their window closes by ``as_of``; so deleting or changing any later row
leaves the trained models unchanged.
"""

from __future__ import annotations

import logging
import math
import tempfile
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from valuemodel.data.reader import DataSet, open_data
from valuemodel.errors import InputError, ModelError
from valuemodel.models import metrics
from valuemodel.models.bundle import save_bundle
from valuemodel.training import audit, frames
from valuemodel.training.config import TrainingConfig
from valuemodel.training.fitting import FittedModel, fit_churn, fit_value
from valuemodel.training.importance import without_families
from valuemodel.training.progress import Stages
from valuemodel.training.promotion import PROMOTION_METRIC, Decision, decide
from valuemodel.training.refit import refit_churn
from valuemodel.training.result import ModelResult, TrainResult
from valuemodel.training.snapshots import SnapshotPlan, plan_snapshots
from valuemodel.training.uplift import campaigns, listed_features, uplift_for

log = logging.getLogger(__name__)
_FIXED_STEPS = 5


def _as_date(value: Any) -> date:
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        ts = pd.NaT
    if pd.isna(ts):
        raise InputError(f"as_of: cannot read {value!r} as a date (use YYYY-MM-DD)")
    return ts.date()


def _plans(
    data: DataSet, as_of: date, cfg: TrainingConfig
) -> tuple[date, list[SnapshotPlan], list[str]]:
    known_end = data.end_date()
    if known_end is None:
        raise InputError(f"{data.path}: no rows dated on or before {as_of}")
    end = min(as_of, known_end)
    start = frames.data_start(data)
    anchor = min(cfg.churn_horizon, cfg.value_horizon)
    ends, notes = frames.label_ends(data, cfg.churn_definition, end)
    plans = [
        plan_snapshots(
            label=label,
            horizon_days=h,
            start=start,
            end=ends[label],
            # the grid stays anchored on ``end``: a lagging table only drops later snapshots
            anchor_horizon=anchor - (end - ends[label]).days,
            config=cfg.snapshots,
        )
        for label, h in (("churn", cfg.churn_horizon), ("value", cfg.value_horizon))
    ]
    return end, plans, notes


def _parts(frame: pd.DataFrame, plan: SnapshotPlan, cfg: TrainingConfig):
    train = frames.select(frame, plan.train_dates, plan.label)
    valid = frames.select(frame, plan.valid_dates, plan.label)
    frames.check_labels(plan.label, train, valid)
    kept, held = frames.hold_out(valid)
    try:
        frames.check_labels(plan.label, kept, held)
    except InputError:
        kept, held = valid, None
    if held is not None:  # the held-out accounts judge promotion: none of their outcomes
        train = frames.without_held_out_overlap(train, plan.horizon_days, plan.valid_dates[0])
    cap = cfg.snapshots.max_training_rows
    if len(train.y) > cap:
        from valuemodel.training.tuning import subsample

        rows = subsample(len(train.y), cap, cfg.tuning.seed)
        train = frames.Part(
            train.features.iloc[rows].reset_index(drop=True), train.y[rows], train.dates
        )
    return train, kept, held


def _holdout_note(label: str) -> str:
    return (
        f"{label}: too few validation accounts to hold half of them out; the champion is "
        "compared on the validation rows the new model was tuned on"
    )


def train(
    data_dir: str | Path | DataSet,
    as_of: date | str,
    *,
    churn_horizon: int | None = None,
    value_horizon: int | None = None,
    churn_definition: str | None = None,
    trials: int | None = None,
    config: TrainingConfig | None = None,
    tracking_uri: str | None = None,
    experiment: str | None = None,
    force: bool = False,
    progress: Callable[..., None] | None = None,
    feature_config: Any = None,
) -> TrainResult:
    """Train, log, register and (if at least as good) promote the churn and value models.

    Arguments left as None take their value from ``config`` (default: ``TrainingConfig()``,
    the same as ``training/default.yaml``: horizons 90 and 365 days, ``auto`` churn, 10 trials,
    experiment ``valuemodel``). ``progress(done, total, stage)`` is called as each stage starts
    and after each tuning trial (``training.progress``; ``progress(done, total)`` also works).
    Raises ``InputError`` when no snapshot can be labelled or a label has one class.
    """
    cfg = (config or TrainingConfig()).with_overrides(
        churn_horizon=churn_horizon,
        value_horizon=value_horizon,
        churn_definition=churn_definition,
        trials=trials,
        experiment=experiment,
    )
    as_of = _as_date(as_of)
    data = data_dir if isinstance(data_dir, DataSet) else open_data(data_dir)
    known = data.until(as_of)
    definition = _churn_definition(known, cfg.churn_definition)
    end, plans, lag_notes = _plans(known, as_of, cfg)
    notes = [_describe_plan(p, cfg) for p in plans] + [n for p in plans for n in p.notes]
    notes += lag_notes
    for note in notes:
        log.info(note)
    steps = Stages(progress, 2 * cfg.tuning.trials + _FIXED_STEPS)
    n_dates = len(set(plans[0].labelled_dates) | set(plans[1].dates))
    past = campaigns(known, cfg.churn_horizon, end)  # the uplift model's, same pass
    steps.begin(f"features and labels at {n_dates} snapshot and {len(past[1])} campaign dates")
    frame, now, listed, (sample, sampled) = _snapshot_frame(
        known, plans, cfg, end, feature_config, past
    )
    for note in sampled:
        log.info(note)
    notes += sampled
    steps.step()
    churn_parts, value_parts = _parts(frame, plans[0], cfg), _parts(frame, plans[1], cfg)
    notes += frames.negative_values(frame, plans[1].dates, plans[1].horizon_days)
    # The churn model is fitted without the excluded families; the parts keep every column
    # for what is judged on them (the fairness table needs age and gender).
    fit_parts = tuple(
        p if p is None else without_families(p, cfg.churn.exclude_families) for p in churn_parts
    )
    notes += [
        _holdout_note(p.label)
        for p, parts in zip(plans, (churn_parts, value_parts), strict=True)
        if parts[2] is None
    ]
    from valuemodel.models.tracking import Tracker

    tracker = Tracker(tracking_uri)
    fingerprint = data.fingerprint(as_of)
    excluded, excluded_notes = audit.excluded_features(cfg, frame.columns)
    notes += excluded_notes
    context = dict(
        as_of=as_of,
        fingerprint=fingerprint,
        force=force,
        churn_definition=definition,
        excluded=excluded,
    )
    context["input"] = data.summary()
    notes += audit.input_notes(context["input"])
    rows = f"on {len(fit_parts[0].y):,} rows"
    trial = steps.trials("churn", cfg.tuning.trials, f"churn: fitting {rows}, baselines")
    fitted = fit_churn(*audit.without(fit_parts[:2], excluded), cfg, trial)
    steps.begin("churn: refit on every labelled month" if cfg.churn.refit else "churn: final")
    # The refit prepares its rows with the tuned model's schema: excluded features stay out.
    fitted, refit_notes = refit_churn(fitted, frame, plans[0], fit_parts[0], fit_parts[2], cfg)
    notes += refit_notes + audit.reference_note(fitted) + list(fitted.notes)
    fitted = replace(fitted, schema=fitted.schema.drift_baseline(now, frame, end))
    steps.step("churn: report and registering")
    churn = _publish(tracker, fitted, plans[0], churn_parts, cfg, context)
    steps.step()
    rule = audit.fit_clv_rule(cfg, churn_parts[0])
    shapes = f"{', '.join(cfg.value.structures)} on {len(value_parts[0].y):,} rows"
    trial = steps.trials("value", cfg.tuning.trials, f"value: fitting {shapes}")
    fitted = fit_value(
        *audit.without(value_parts[:2], excluded), cfg, cfg.value_horizon, trial, rule=rule
    )
    notes += fitted.notes
    fitted = replace(fitted, schema=fitted.schema.drift_baseline(now, frame, end))
    steps.step("value: report and registering")
    clv = _publish(tracker, fitted, plans[1], value_parts, cfg, context)
    if known.has("contacts"):
        steps.begin("uplift: features at past campaigns, fitting, registering")
    published = (churn, clv)
    uplift = uplift_for(tracker, known, end, cfg, context, published, feature_config, listed,
                        sample, found=past)  # fmt: skip
    steps.step("done")
    uri, experiment = tracker.uri, cfg.experiment
    return TrainResult(
        as_of, churn, clv, uri, experiment, fingerprint, definition, tuple(notes), uplift
    )


def _snapshot_frame(known: DataSet, plans, cfg: TrainingConfig, end: date, fc, campaigns):
    """Features and both labels at the union of the two plans' snapshot dates (the churn
    plan's gap dates included: the final churn model is refitted on them); the features at
    ``end``; and the uplift model's at the complete ``campaigns`` (rows, dates): one pass.
    Also the accounts read (all, or a sample above ``snapshots.max_feature_rows``) and a note."""
    dates = sorted(set(plans[0].labelled_dates) | set(plans[1].dates))
    rows, past = campaigns
    every = [*dates, end, *past]
    cap, seed = cfg.snapshots.max_feature_rows, cfg.tuning.seed
    sample, sampled = frames.account_sample(known, every, cap, seed, fc)
    features = frames.features_at(known, every, fc, sample)
    listed = listed_features(rows, features, past) if past else None
    features = frames.seen_at(features, [*dates, end])  # the rows are sliced below
    horizons = dict(churn_horizon=cfg.churn_horizon, value_horizon=cfg.value_horizon)
    frame = frames.labelled_frame(
        known, dates, **horizons, churn_definition=cfg.churn_definition, end=end,
        features=features, sample=sample,
    )  # fmt: skip
    now = features[features["as_of"] == pd.Timestamp(end)].reset_index(drop=True)
    return frame, now, listed, (sample, sampled)


def _churn_definition(data: DataSet, definition: str) -> str:
    from valuemodel.features.labels import resolve_churn_definition

    return resolve_churn_definition(data, definition)


def _describe_plan(plan: SnapshotPlan, cfg: TrainingConfig) -> str:
    return (
        f"{plan.label}: {len(plan.dates)} {cfg.snapshots.frequency} snapshots "
        f"{plan.dates[0]}..{plan.dates[-1]} with >= {plan.history_days} days of history "
        f"({len(plan.train_dates)} train, {len(plan.valid_dates)} validate, "
        f"{plan.gap_rule} gap, {plan.horizon_days}-day horizon)"
    )


def _champion_decision(
    tracker, kind: str, new: dict[str, float], judge: frames.Part, on: str, force: bool
) -> Decision:
    """Apply the promotion rule to the new model's metrics ``new`` and the current champion's,
    both measured through their saved bundles on the rows ``judge`` (named by ``on``)."""
    metric = PROMOTION_METRIC[kind]
    rule = {"force": force, "on": on}
    current = tracker.alias_version(kind, "champion")
    if current is None:
        return decide(metric, new[metric], None, None, **rule)
    try:
        old_score = _metrics_on(kind, tracker.load(kind, "champion"), judge)[metric]
    except ModelError as exc:
        version = str(current.version)
        return decide(metric, new[metric], version, None, champion_error=str(exc), **rule)
    return decide(metric, new[metric], str(current.version), old_score, **rule)


def _metrics_on(kind: str, model, part: frames.Part) -> dict[str, float]:
    """All metrics of a saved ``model`` (loaded) on the rows of ``part``.

    On the held-out accounts, which neither tuning, early stopping nor calibration saw, they
    are out of sample, unlike the headline metrics measured on the tuning half; Brier and ECE
    need no cross-fitting there."""
    predicted = model.predict(part.features)
    if kind == "churn":
        return metrics.churn_metrics(part.y, predicted)
    return metrics.value_metrics(part.y, predicted)


def _counts(train: frames.Part, valid: frames.Part, held: frames.Part | None) -> dict[str, int]:
    out = {f"train_{k}": v for k, v in train.counts().items()}
    out |= {f"valid_{k}": v for k, v in valid.counts().items()}
    if held is not None:
        out |= {f"holdout_{k}": v for k, v in held.counts().items()}
    return out


def _publish(tracker, fitted: FittedModel, plan: SnapshotPlan, parts, cfg, context) -> ModelResult:
    train, valid, held = parts
    counts = _counts(train, valid, held)
    metadata = _metadata(fitted, plan, counts, context)
    run_id = tracker.start_run(
        cfg.experiment,
        f"{fitted.kind}-{context['as_of']}",
        {"valuemodel.kind": fitted.kind, "data_fingerprint": context["fingerprint"]},
    )
    try:
        with tempfile.TemporaryDirectory(prefix="valuemodel-bundle-") as tmp:
            bundle = save_bundle(
                Path(tmp) / "model",
                kind=fitted.kind,
                schema=fitted.schema,
                boosters=fitted.boosters,
                metadata=metadata,
                config=cfg.to_dict(),
                calibration=fitted.calibration,
                value=fitted.value,
            )
            from valuemodel.models.bundle import load_bundle
            from valuemodel.training.report import render_training_report

            model = load_bundle(bundle, run_id=run_id)
            judge, on = held, "held-out validation accounts"
            if held is None:  # none could be held out: the rows the new model was tuned on
                judge, on = valid, "the new validation data"
            judged = _metrics_on(fitted.kind, model, judge)
            decision = _champion_decision(
                tracker, fitted.kind, judged, judge, on, context["force"]
            )
            holdout = judged if held is not None else {}
            review = audit.review(fitted, model, parts, judge, on, cfg, context["excluded"])
            # A refitted model has seen the kept validation accounts: show it on unseen ones.
            shown = held if fitted.final and held is not None else valid
            report = render_training_report(
                model,
                shown.features,
                shown.y,
                decision=decision.to_dict(),
                figures=fitted.figures,
                holdout=holdout,
                fairness=review.fairness,
                protected=review.protected,
                fairness_notes=[*review.warnings, *review.notes],
            )
            tracker.log(
                run_id,
                params=_params(fitted, plan, counts, cfg, context),
                metrics=_run_metrics(fitted, decision, holdout) | review.metrics(),
                figures=fitted.figures,
                documents=_documents(fitted, plan, metadata, holdout)
                | {"input.json": context["input"]}
                | review.documents(),
                texts={"report.html": report} | review.texts(),
                bundle_dir=bundle,
            )
        version = tracker.publish(
            fitted.kind, run_id, decision.alias, decision.promoted, decision.to_dict()
        )
    except BaseException:
        tracker.finish(run_id, "FAILED")
        raise
    tracker.finish(run_id)
    return ModelResult(
        kind=fitted.kind,
        registered_model=_registered(fitted.kind),
        run_id=run_id,
        version=version,
        alias=decision.alias,
        promoted=decision.promoted,
        reason=decision.reason,
        metrics=dict(fitted.metrics),
        baseline_metrics={k: dict(v) for k, v in fitted.baselines.items()},
        counts=counts,
        horizon_days=plan.horizon_days,
        structure=fitted.structure,
        train_dates=plan.train_dates,
        valid_dates=plan.valid_dates,
        gap_rule=plan.gap_rule,
        params=dict(fitted.params),
        champion_metric=decision.champion_score,
        holdout_metrics=holdout,
        fairness=_records(review.fairness),
        protected=review.protected,
        warnings=tuple(review.warnings),
        notes=tuple(review.notes),
    )


def _records(table: pd.DataFrame | None) -> tuple[dict[str, Any], ...]:
    if table is None:
        return ()
    return tuple(table.to_dict(orient="records"))


def _registered(kind: str) -> str:
    from valuemodel.models.tracking import REGISTERED_MODELS

    return REGISTERED_MODELS[kind]


def _metadata(fitted: FittedModel, plan: SnapshotPlan, counts, context) -> dict[str, Any]:
    return {
        "horizon_days": plan.horizon_days,
        "structure": fitted.structure,
        "as_of": str(context["as_of"]),
        "train_dates": [str(d) for d in plan.train_dates],
        "valid_dates": [str(d) for d in plan.valid_dates],
        "gap_rule": plan.gap_rule,
        "history_days": plan.history_days,
        "counts": counts,
        "metrics": _finite(fitted.metrics),
        "baseline_metrics": {k: _finite(v) for k, v in fitted.baselines.items()},
        "data_fingerprint": context["fingerprint"],
        "churn_definition": context["churn_definition"],
        "excluded_features": list(context["excluded"]),
        "final_model": fitted.final,
        **fitted.metadata,
    }


def _finite(values: dict[str, float]) -> dict[str, float | None]:
    return {k: (None if v is None or math.isnan(v) else float(v)) for k, v in values.items()}


def _params(fitted, plan: SnapshotPlan, counts, cfg: TrainingConfig, context) -> dict[str, Any]:
    out: dict[str, Any] = {
        "as_of": str(context["as_of"]),
        "horizon_days": plan.horizon_days,
        "churn_definition": context["churn_definition"],
        "structure": fitted.structure,
        "data_fingerprint": context["fingerprint"],
        "train_start": str(plan.train_dates[0]),
        "train_end": str(plan.train_dates[-1]),
        "valid_start": str(plan.valid_dates[0]),
        "valid_end": str(plan.valid_dates[-1]),
        "gap_rule": plan.gap_rule,
        "history_days": plan.history_days,
        "n_features": len(fitted.schema.feature_names),
        "trials": cfg.tuning.trials,
        "tuning_seed": cfg.tuning.seed,
        "snapshot_frequency": cfg.snapshots.frequency,
        "force": context["force"],
        "excluded_features": ",".join(context["excluded"]) or "none",
    }
    out |= {f"lgb.{k}": v for k, v in sorted(fitted.params.items())}
    return out | {k: v for k, v in counts.items()}


def _run_metrics(
    fitted: FittedModel, decision: Decision, holdout: dict[str, float]
) -> dict[str, float]:
    out = dict(fitted.metrics) | dict(fitted.extra_metrics)
    for name, values in fitted.baselines.items():
        out |= {f"baseline.{name}.{k}": v for k, v in values.items()}
    out |= {f"holdout.{k}": v for k, v in holdout.items()}
    if decision.champion_score is not None:
        out[f"champion.{decision.metric}"] = decision.champion_score
    out["tuning.trials_pruned"] = float(fitted.tuning.pruned)
    return out


def _documents(fitted: FittedModel, plan: SnapshotPlan, metadata, holdout) -> dict[str, Any]:
    out = _importance_document(fitted)
    return out | {
        "features.json": {"features": fitted.schema.feature_names, "dtypes": fitted.schema.dtypes},
        "snapshots.json": {
            **{
                k: metadata[k]
                for k in ("train_dates", "valid_dates", "gap_rule", "history_days", "counts")
            },
            "notes": list(plan.notes),
        },
        "metrics.json": {
            "model": metadata["metrics"],
            "baselines": metadata["baseline_metrics"],
            "extra": _finite(fitted.extra_metrics),
            "holdout": _finite(holdout),
        },
        "tuning.json": {
            "best_score": fitted.tuning.best_score,
            "trials": fitted.tuning.trials,
            "pruned": fitted.tuning.pruned,
            "scores": fitted.tuning.scores,
            "params": fitted.params,
        },
    }


def _importance_document(fitted: FittedModel) -> dict[str, Any]:
    """``family_importance.json`` for a churn run (see ``training.importance``)."""
    if not fitted.family_importance:
        return {}
    what = (
        "ROC-AUC drop of the tuned model on the out-of-time validation rows (a seeded "
        "subsample of at most tuning.max_tuning_rows) when all of a family's features are "
        "shuffled together (mean of 3 seeded permutations)"
    )
    return {"family_importance.json": {"what": what, "families": fitted.family_importance}}
