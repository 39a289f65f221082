"""Batch scoring: features at ``as_of`` -> both models -> tiers -> ranked list.

The list is described in docs/ranked-list.md.

``score`` is what ``valuemodel score`` and ``serving/score_batch.py`` run. The pure steps are
separate functions so that they can be timed and tested on precomputed features:
:func:`score_features` (predictions, tiers, priority) and :func:`finish_list` (reasons and
actions for the written rows, output columns and rounding).

Outputs, all replaced together only once every one is complete (a failed run changes nothing):

- the list ``out`` (``.csv``, ``.parquet`` or ``.xlsx``): the contract's columns in order, then
  extra columns (``EXTRA_COLUMNS``);
- ``<stem>.summary.json``: model versions, data fingerprint, counts, value at risk by segment;
- ``<stem>.drift.csv``: PSI of every model feature against its training profile;
- with ``compare``: ``<stem>.compare.csv`` and ``<stem>.compare.json``, the challenger in the
  shadow (:mod:`valuemodel.serving.shadow`).

With ``control_share`` S > 0 the list has a ``control`` column (after ``recommended_action``):
``True`` for the share S of every service segment held out of contact
(:mod:`valuemodel.serving.control`); without it the column is absent. The summary records the
share, the seed and the counts, and the expected performance of the written list
(:mod:`valuemodel.serving.estimation`).

Same data, tiers file and model versions give byte-identical files (no timestamps; numbers
rounded to fixed decimals).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from valuemodel.errors import InputError, ModelError
from valuemodel.features.stable import scoring_features
from valuemodel.models.baselines import ClvRule
from valuemodel.serving.actions import recommend
from valuemodel.serving.columns import (  # noqa: F401 - the list's columns, also from here
    CONTRACT_COLUMNS,
    DECIMALS,
    EXTRA_COLUMNS,
    UPLIFT_COLUMNS,
    output_columns,
)
from valuemodel.serving.config import TierConfig, default_tiers_path, load_tiers
from valuemodel.serving.control import DEFAULT_SEED, draw_control
from valuemodel.serving.distributed import why_not
from valuemodel.serving.drift import drift_report, drift_warnings, market_features
from valuemodel.serving.preflight import check_arguments, check_loop
from valuemodel.serving.ranking import exclusion, priority_score, rank_accounts, value_at_risk
from valuemodel.serving.reasons import explain, not_reasons
from valuemodel.serving.report import build_summary, loop_summary, model_info, summary_sheet
from valuemodel.serving.segments import assign_tiers, tier_requirements
from valuemodel.serving.shadow import compare_models, compare_paths, rounded_compare
from valuemodel.serving.uplift import (
    add_uplift,
    load_uplift,
    mark_do_not_contact,
    resolve_rank_by,
    uplift_reasons,
    uplift_summary,
)
from valuemodel.serving.writers import (
    check_format,
    side_paths,
    staged,
    write_csv,
    write_json,
    write_table,
)

Progress = Callable[[str, int], None]
_DRIFT_NUMBERS = ("psi", "normal_psi", "limit", "importance_share")
SCORE_STEPS = ("models", "features", "predict", "drift", "rank", "reasons", "write")
"""The steps ``score`` reports to ``progress(step, done)`` (``done`` = steps completed)."""


@dataclass(frozen=True)
class ScoreResult:
    """What a scoring run wrote and found. ``top`` holds the first ten rows of the list."""

    out: Path
    summary_path: Path
    drift_path: Path
    as_of: str
    accounts_scored: int
    accounts_written: int
    models: dict[str, dict[str, Any]]
    value_at_risk_by_segment: dict[str, float]
    top: pd.DataFrame
    summary: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def score_features(
    features: pd.DataFrame,
    models: dict[str, Any],
    config: TierConfig | None = None,
    accounts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Predictions, tiers, exclusions and priority for every account of ``features``.

    ``features``: ``account_id``, ``as_of``, then features (``build_features``); ``models``:
    ``{"churn": LoadedModel, "clv": LoadedModel}``; ``accounts`` (optional): ``account_id``,
    ``manager_id``, ``branch``. Returns the features with ``churn_probability``, ``clv``,
    ``value_at_risk``, the tier columns, ``exclusion`` and ``priority_score`` added (the
    input index kept). A negative predicted value counts as zero. ``clv_rule`` (the manuals'
    ``P / R`` over the value horizon) is added when the value model stores its rule.
    """
    config = config if config is not None else TierConfig()
    churn = models["churn"].predict(features) if len(features) else np.array([])
    clv = models["clv"].predict(features) if len(features) else np.array([])
    # Rounded once here, so that the written numbers reproduce each other exactly and tiny
    # floating-point noise in the features cannot reorder the list.
    churn = pd.Series(
        np.round(np.asarray(churn, dtype=float), DECIMALS["churn_probability"]),
        index=features.index,
    )
    clv = pd.Series(
        np.round(np.clip(np.asarray(clv, dtype=float), 0.0, None), DECIMALS["clv"]),
        index=features.index,
    )
    predictions = pd.DataFrame(
        {
            "churn_probability": churn,
            "clv": clv,
            # Not rounded again: the written value is exactly the product of the written
            # probability and value, which a reader can check.
            "value_at_risk": value_at_risk(churn, clv),
        }
    )
    rule = (getattr(models["clv"], "metadata", None) or {}).get("clv_rule")
    if rule is not None and len(features):
        predictions["clv_rule"] = np.round(_clv_rule(rule, features), DECIMALS["clv_rule"])
    tiers = assign_tiers(features, config).drop(columns="account_id", errors="ignore")
    parts = [predictions, tiers]
    if accounts is not None:
        parts.append(_account_columns(features, accounts))
    added = pd.concat(parts, axis=1)
    # one consolidated frame: later steps add columns without fragmenting it
    frame = pd.concat([features.drop(columns=added.columns, errors="ignore"), added], axis=1)
    frame = frame.copy()
    excluded = exclusion(frame, config)
    return frame.assign(exclusion=excluded, priority_score=priority_score(frame, config))


def _clv_rule(stored: dict[str, Any], features: pd.DataFrame) -> np.ndarray:
    try:
        return ClvRule.from_dict(stored).predict(features)
    except ValueError as exc:
        raise ModelError(f"the value model's P / R rule cannot score: {exc}") from None


def _account_columns(features: pd.DataFrame, accounts: pd.DataFrame) -> pd.DataFrame:
    """``manager_id`` and ``branch`` per account (the accounts table, else the features)."""
    info = accounts.drop_duplicates("account_id").set_index("account_id")
    out = {}
    for column in ("manager_id", "branch"):
        if column not in info.columns:
            continue
        mapped = features["account_id"].astype("object").map(info[column]).astype("object")
        if column in features.columns:
            mapped = mapped.where(mapped.notna(), features[column].astype("object"))
        out[column] = mapped.where(mapped.notna(), None)
    return pd.DataFrame(out, index=features.index)


def finish_list(
    ranked: pd.DataFrame,
    churn_model: Any,
    config: TierConfig | None = None,
    registry: Any = None,
    lang: str = "en",
) -> pd.DataFrame:
    """Reasons and actions for the ranked rows, then the output columns, rounded.

    ``ranked`` is :func:`~valuemodel.serving.ranking.rank_accounts` output (features kept).
    """
    if len(ranked):
        X = churn_model.prepare(ranked)
        exclude = not_reasons(config)
        reasons = explain(churn_model.booster, X, ranked, registry, lang, exclude)
        ranked = pd.concat([ranked, reasons], axis=1)
    ranked = pd.concat([ranked, recommend(ranked, config, lang)], axis=1)
    return output_columns(ranked)


def _step(progress: Progress | None, name: str) -> None:
    if progress is not None:
        progress(name, SCORE_STEPS.index(name))


def score(
    data_dir: str | Path | Any,
    as_of: Any,
    out: str | Path,
    *,
    top: int | None = None,
    tracking_uri: str | None = None,
    model_alias: str = "champion",
    tiers: str | Path | None = None,
    lang: str = "en",
    control_share: float = 0.0,
    control_seed: int = DEFAULT_SEED,
    compare: str | None = None,
    progress: Progress | None = None,
    rank_by: str | None = None,
) -> ScoreResult:
    """Score the population at ``as_of`` and write the ranked list to ``out`` (atomically).

    ``top``: keep the best K accounts (quotas by the tiers file's effort shares); ``tiers``: a
    tiers file (default: the built-in ``serving/tiers.yaml`` defaults); ``lang``: ``"en"`` or
    ``"zh"`` for reasons and actions; ``control_share``: the share of every service segment
    held out of contact as the control group, drawn with ``control_seed``; ``compare``: the
    alias of a second pair of models scored in the shadow; ``progress(step, done)`` is called
    as each of the ``SCORE_STEPS`` starts (``done`` steps completed); ``rank_by``:
    ``saved_value`` or ``value_at_risk`` (default: what the uplift model's validation decided,
    ``value_at_risk`` without one; :mod:`valuemodel.serving.uplift`).
    ``data_dir``: a data directory, or a validated ``DataSet`` (what the CLI passes: its
    normalisations and quarantine are then recorded in the summary's ``input``).
    The data should be validated first (the CLI does). Raises ``InputError`` (bad argument,
    tiers file or data) or ``ModelError`` (models missing or not matching the features).
    """
    out, as_of_date, fmt = check_arguments(out, as_of, top, lang)
    draw = check_loop(control_share, control_seed, compare, model_alias)
    tiers = tiers if tiers is not None else default_tiers_path()
    config = load_tiers(tiers)
    from valuemodel.data import DataSet, open_data

    data = data_dir if isinstance(data_dir, DataSet) else open_data(data_dir)
    fingerprint = _fingerprint_meanwhile(data, as_of_date)
    _step(progress, "models")
    models = {k: _load_model(k, model_alias, tracking_uri) for k in ("churn", "clv")}
    effect = _load_uplift(model_alias, tracking_uri)
    rank_by, why = resolve_rank_by(rank_by, effect)
    _step(progress, "features")
    run = {"as_of": as_of_date, "alias": model_alias, "tiers": tiers, "top": top, "lang": lang}
    if not why_not(data, draw, compare, top, fmt, config):  # the executors do it all
        from valuemodel.serving.engine_score import score_on_spark

        ranking = (rank_by, why)
        done = score_on_spark(data, out, fmt, models, effect, ranking, config, run, fingerprint)
        if done is not None:
            return done
    features = _build_features(data, as_of_date)
    _step(progress, "predict")
    accounts = _accounts(data, as_of_date)
    scored = _with_control(score_features(features, models, config, accounts), as_of_date, draw)
    if effect is not None:
        scored = add_uplift(scored, effect, rank_by, config)
    shadow = None
    if compare is not None:
        pair = (compare, model_alias)
        shadow = _shadow(features, models, scored, config, top, pair, tracking_uri, lang)
    _step(progress, "drift")
    drift = drift_report(features, models, as_of_date, market=market_features(_registry()))
    # The last use of the feature frame: letting it go before the reasons (the run's memory
    # peak, where the scored and ranked frames and the churn input are all held) keeps a
    # copy of every feature out of that peak (about 1 GB per million accounts).
    del features
    _step(progress, "rank")
    ranked = rank_accounts(scored, config, top)
    _step(progress, "reasons")
    if effect is not None:
        ranked["uplift_reasons"] = uplift_reasons(ranked, effect, _registry(), lang)
    written = finish_list(ranked, models["churn"], config, _registry(), lang)
    written = mark_do_not_contact(written, lang)
    del ranked
    warnings = _warnings(scored, config, drift, top)
    summary = build_summary(
        scored, written, models, drift, warnings, fingerprint=fingerprint(), config=config, **run
    )
    summary["input"] = data.summary()
    summary["list"] = out.name  # a list of another format shares this summary's path
    summary |= loop_summary(scored, written, draw, shadow[1] if shadow else None)
    summary["uplift"] = uplift_summary(scored, effect, rank_by, why)
    _step(progress, "write")
    summary_path, drift_path = write_outputs(
        out, written, summary, drift, fmt=fmt, compare=shadow[0] if shadow else None
    )
    return ScoreResult(
        out=out,
        summary_path=summary_path,
        drift_path=drift_path,
        as_of=as_of_date,
        accounts_scored=len(scored),
        accounts_written=len(written),
        models=summary["models"],
        value_at_risk_by_segment=summary["value_at_risk"]["by_service_segment"],
        top=written.head(10),
        summary=summary,
        warnings=warnings,
    )


def _fingerprint_meanwhile(data: Any, as_of: str) -> Callable[[], str]:
    """``data.fingerprint(as_of)``, hashed on a thread of its own while the features are built
    (the hash releases the GIL; a million accounts' 6 GB of files take some 5 s of one core,
    which the feature query leaves idle part of the time). Warehouse tables are fingerprinted
    by queries on the connection the features use, so theirs is taken when asked for."""
    if data.database is not None:
        return partial(data.fingerprint, as_of)
    pool = ThreadPoolExecutor(1, thread_name_prefix="fingerprint")
    pending = pool.submit(data.fingerprint, as_of)
    pool.shutdown(wait=False)  # the thread ends with its one task
    return pending.result


def write_outputs(
    out: Path,
    written: pd.DataFrame | Callable[[Path], None],
    summary: dict[str, Any],
    drift: pd.DataFrame,
    fmt: str | None = None,
    compare: pd.DataFrame | None = None,
) -> tuple[Path, Path]:
    """Write the list, summary, drift report (and compare files); all replaced together or none.

    With ``compare``, ``summary["compare"]`` is also written as ``<stem>.compare.json``.
    """
    summary_path, drift_path = side_paths(out)
    paths = [out, summary_path, drift_path]
    if compare is not None:
        paths += list(compare_paths(out))
    with staged(paths) as temps:
        t_out, t_summary, t_drift = temps[:3]
        if callable(written):  # the list written by the engine's executors
            written(t_out)
        else:
            write_table(
                written,
                t_out,
                fmt=fmt or check_format(out),
                summary=summary_sheet(summary),
                lang=summary.get("lang", "en"),
            )
        write_json(summary, t_summary)
        write_csv(drift.round(dict.fromkeys(_DRIFT_NUMBERS, 6)), t_drift)
        if compare is not None:
            write_csv(rounded_compare(compare, DECIMALS), temps[3])
            write_json(summary["compare"], temps[4])
    return summary_path, drift_path


def _shadow(
    features: pd.DataFrame,
    models: dict[str, Any],
    scored: pd.DataFrame,
    config: TierConfig,
    top: int | None,
    aliases: tuple[str, str],
    tracking_uri: str | None,
    lang: str,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The compare table and summary of the models behind ``alias`` (see ``shadow``).

    A retrain often makes only one of the two models a challenger: the other is then
    compared under the scored alias (its champion stands in, and ``stand_in`` says so).
    ``aliases``: the compared alias and the scored one.
    """
    alias, scored_alias = aliases
    challengers, used, missing = {}, {}, {}
    for kind in ("churn", "clv"):
        try:
            challengers[kind], used[kind] = _load_model(kind, alias, tracking_uri), alias
        except ModelError as exc:
            missing[kind] = exc
    if len(missing) == 2:
        raise missing["churn"]
    for kind in missing:
        challengers[kind] = models[kind]
        used[kind] = scored_alias
    challenger = score_features(features, challengers, config, _manager_columns(scored))
    both = {"champion_churn": models["churn"], "challenger_churn": challengers["churn"]}
    table, summary = compare_models(
        scored, challenger, both, config, top, registry=_registry(), lang=lang
    )
    summary = {
        "alias": alias,
        "models": {k: model_info(m, used[k]) for k, m in challengers.items()},
        "stand_in": sorted(missing),
        **summary,
    }
    return table, summary


def _manager_columns(scored: pd.DataFrame) -> pd.DataFrame | None:
    columns = [c for c in ("manager_id", "branch") if c in scored.columns]
    return scored[["account_id", *columns]] if columns else None


def _with_control(scored: pd.DataFrame, as_of: str, draw: dict[str, Any]) -> pd.DataFrame:
    """``scored`` with the ``control`` column when the draw's share is above 0."""
    if draw["share"] <= 0:
        return scored
    segments = scored["service_segment"]
    held = draw_control(scored["account_id"], segments, as_of, draw["share"], draw["seed"])
    return scored.assign(control=held)


def _warnings(
    scored: pd.DataFrame, config: TierConfig, drift: pd.DataFrame, top: int | None
) -> list[str]:
    notes = tier_requirements(scored, config)
    n = len(scored)
    if n == 0:
        notes.append("no account is in the population at the as-of date: the list is empty")
    elif top is not None and top > n:
        notes.append(f"--top {top} exceeds the population ({n:,} accounts): all are listed")
    managers = scored["manager_id"] if "manager_id" in scored.columns else pd.Series([None])
    if config.priority.capacity.per_manager is not None and managers.isna().all():
        notes.append("priority.capacity.per_manager is ignored: no account has a manager_id")
    return notes + drift_warnings(drift)


def _build_features(data: Any, as_of: str) -> pd.DataFrame:
    """The one place ``score`` builds features (tests replace it with small frames)."""
    return scoring_features(data, as_of)


def _load_model(kind: str, alias: str, tracking_uri: str | None) -> Any:
    from valuemodel.models.tracking import load_model

    return load_model(kind, alias=alias, tracking_uri=tracking_uri)


def _load_uplift(alias: str, tracking_uri: str | None) -> Any | None:
    """The uplift model behind ``alias``, or None (tests replace it, like ``_load_model``)."""
    return load_uplift(alias, tracking_uri)


def _accounts(data: Any, as_of: str) -> pd.DataFrame | None:
    from valuemodel import engine

    if not data.has("accounts"):
        return None
    table = data.until(as_of).table("accounts")
    return engine.execute(table.select("account_id", "manager_id", "branch"))


def _registry() -> Any:
    """The feature registry for reason texts; without one, reasons name the features."""
    try:
        from valuemodel.features import load_registry

        return load_registry()
    except (ImportError, InputError):
        return None
