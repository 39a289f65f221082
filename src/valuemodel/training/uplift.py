"""The uplift model in ``train``: past campaigns -> out-of-time validation -> registry.

For every campaign in ``contacts`` whose churn horizon is complete by the training date, the
listed accounts' features at the campaign date (the same point-in-time feature library), their
group (treated or control) and their churn label in ``(date, date + H]``. The latest complete
campaigns validate out of time (:func:`validation_split`: the latest quarter of them, at least
two when there are four or more, else the latest one); the older ones train an
:class:`~valuemodel.models.uplift.UpliftLearner`. On each validation campaign, averaged over
them weighted by their accounts:

- the Qini coefficient and AUUC of the predicted uplift, against ranking by the churn
  probability and by value at risk, and the realised uplift by decile;
- the **value-weighted Qini coefficient** of ranking by predicted ``saved_value`` (uplift x
  clv) and by ``value_at_risk``: the Qini curve with each account weighed by its predicted
  clv, i.e. the value that contact saved in the top ``k`` of the list (the churned value the
  control rate predicts among the treated of the top, minus what churned, per treated
  account), averaged over every ``k``; and the same curve at the top 10 % (``TOP_SHARE``).

The uplift is bounded by the churn probability ``p`` as in the list (``[-(1 - p), p]``).

**The rule for the list's default ranking**: ``saved_value`` only when its value-weighted Qini
coefficient is above zero and above value at risk's with the paired bootstrap supporting it
(:func:`~valuemodel.models.uplift_metrics.qini_difference`: accounts drawn with replacement
within each validation campaign, both rankings judged on every draw; the lower end of the
90 % interval of the difference is above zero); otherwise ``value_at_risk``. One campaign of
a few hundred control accounts rarely supports it: a few large churners decide its Qini. The
decision and why are stored with the model (``default_rank_by``, ``why``). The registered
model is then refitted on every complete campaign. Champion rule: the Qini coefficient on the
validation campaigns, as for the other models (at least the champion's on the same rows, or
no champion yet).
"""

from __future__ import annotations

import logging
import math
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from valuemodel import engine
from valuemodel.data.reader import DataSet
from valuemodel.models.bundle import load_bundle, save_bundle
from valuemodel.models.schema import FeatureSchema
from valuemodel.models.uplift import UpliftLearner
from valuemodel.models.uplift_metrics import (
    auuc,
    qini_coefficient,
    qini_curve,
    qini_difference,
    uplift_by_decile,
)
from valuemodel.training import frames
from valuemodel.training.importance import without_families
from valuemodel.training.promotion import decide

log = logging.getLogger(__name__)

MIN_CAMPAIGNS = 2
MIN_CONTROL_ROWS = 200
MIN_VALID_ROWS = 30
TOP_SHARE = 0.1
LEVEL = 0.9  # the paired bootstrap interval that must lie above zero for saved_value
DRAWS = 1000
METHOD = "t"
NAME = "valuemodel-uplift"


@dataclass(frozen=True)
class UpliftResult:
    """The uplift model of a training, or why there is none (``trained`` False, ``note``)."""

    trained: bool
    note: str
    registered_model: str = NAME
    run_id: str = ""
    version: str = ""
    alias: str = ""
    promoted: bool = False
    reason: str = ""
    method: str = METHOD
    metrics: dict[str, float] = field(default_factory=dict)
    deciles: tuple[dict[str, Any], ...] = ()
    train_dates: tuple[date, ...] = ()
    valid_dates: tuple[date, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)
    default_rank_by: str = "value_at_risk"
    why: str = ""


def campaigns(data: DataSet, horizon_days: int, end: date) -> tuple[pd.DataFrame, list[date]]:
    """The contacts rows (``account_id``, ``as_of``, ``treatment``) and the dates of the
    campaigns whose churn horizon is complete by ``end``, oldest first."""
    if not data.has("contacts"):
        return pd.DataFrame(columns=["account_id", "as_of", "treatment"]), []
    table = data.table("contacts")
    rows = engine.execute(table.select("account_id", "date", "group"))
    rows = pd.DataFrame(
        {
            "account_id": rows["account_id"].astype(str),
            "as_of": pd.to_datetime(rows["date"]).astype("datetime64[ns]"),
            "treatment": (rows["group"] == "treated").astype(int),
        }
    )
    last = pd.Timestamp(end) - pd.Timedelta(days=horizon_days)
    complete = sorted(d.date() for d in rows["as_of"].unique() if d <= last)
    return rows, complete


def not_enough(rows: pd.DataFrame, complete: list[date], horizon_days: int) -> str | None:
    """Why no uplift model can be trained, or None when the campaigns suffice."""
    done = rows[rows["as_of"].isin(pd.to_datetime(complete))]
    control = int((done["treatment"] == 0).sum())
    if len(complete) >= MIN_CAMPAIGNS and control >= MIN_CONTROL_ROWS:
        return None
    if rows.empty:
        have = "no contacts table"
    else:
        have = (
            f"{len(complete)} campaign(s) with a complete {horizon_days}-day horizon and "
            f"{control:,} control rows in them"
        )
    return (
        f"uplift: {have}; an uplift model needs at least {MIN_CAMPAIGNS} complete campaigns "
        f"(the latest validates out of time) and {MIN_CONTROL_ROWS} control rows: no uplift "
        "model, the list ranks by value_at_risk"
    )


def validation_split(complete: list[date]) -> list[date]:
    """The campaigns that validate out of time: the latest quarter of ``complete`` (rounded
    up), at least two when there are four or more, else the latest one. Oldest first."""
    n = len(complete)
    if n < 2:
        return list(complete[-1:])
    k = max(2, math.ceil(n / 4)) if n >= 4 else 1
    return list(sorted(complete)[-k:])


def listed_features(rows: pd.DataFrame, features: pd.DataFrame, dates: list[date]) -> pd.DataFrame:
    """The rows of ``features`` at ``dates`` (:func:`frames.at_dates`) of the accounts listed
    in a campaign there (``rows``: the contacts rows, :func:`campaigns`). ``features``: the
    whole population's, built in ``train``'s one feature pass with the snapshot dates; not
    for the listed accounts only, as some features rank an account among the population at
    its date (RFM quintiles, the commission rate percentile). Kept for the listed accounts
    (2 in 5 in the generator's data) until used."""
    at = frames.at_dates(features, dates)
    return at.merge(rows[frames.KEYS], on=frames.KEYS, how="inner").reset_index(drop=True)


def campaign_frame(known: DataSet, rows: pd.DataFrame, dates: list[date], cfg, end, fc,
                   features: pd.DataFrame | None = None, sample=None):  # fmt: skip
    """Features and churn label of each listed account at its campaign date, with its group.

    ``features``: the features at ``dates`` already built (:func:`listed_features`); built
    here, for the whole population at ``dates``, when not given. ``sample``: the accounts
    read (``frames.account_sample``; None: all)."""
    frame = frames.labelled_frame(
        known,
        dates,
        churn_horizon=cfg.churn_horizon,
        value_horizon=cfg.value_horizon,
        churn_definition=cfg.churn_definition,
        end=end,
        feature_config=fc,
        features=features,
        sample=sample,
    )
    frame = frame.merge(rows, on=frames.KEYS, how="inner", validate="one_to_one")
    return frame[frame["churn"].notna()].reset_index(drop=True)


def _features(frame: pd.DataFrame, cfg) -> pd.DataFrame:
    part = frames.Part(frame.drop(columns=[*frames.LABELS, "treatment"]), frame["churn"], ())
    return without_families(part, cfg.churn.exclude_families).features


def validate_ranking(
    valid: pd.DataFrame, uplift: np.ndarray, churn: np.ndarray, clv: np.ndarray
) -> dict[str, float]:
    """The metrics of the module docstring on the validation campaigns (``valid``'s
    ``as_of``; one campaign without it): each campaign judged on its own, the metrics
    averaged weighted by its accounts; with ``value_qini_difference`` and its interval
    (``_low``, ``_high``) from :func:`compare_rankings`."""
    uplift, churn = np.asarray(uplift, dtype=float), np.asarray(churn, dtype=float)
    clv = np.clip(np.asarray(clv, dtype=float), 0.0, None)
    uplift = np.clip(uplift, -(1.0 - churn), churn)  # as the list bounds it (serving.uplift)
    groups = _campaign_of(valid)
    parts, sizes = [], []
    for g in np.unique(groups):
        m = groups == g
        parts.append(_campaign_metrics(valid[m], uplift[m], churn[m], clv[m]))
        sizes.append(int(m.sum()))
    metrics = {k: float(np.average([p[k] for p in parts], weights=sizes)) for k in parts[0]}
    compared = compare_rankings(valid, uplift, churn, clv)
    metrics |= {
        "value_qini_difference": compared["difference"],
        "value_qini_difference_low": compared["low"],
        "value_qini_difference_high": compared["high"],
    }
    return metrics


def compare_rankings(valid: pd.DataFrame, uplift, churn, clv) -> dict[str, float]:
    """Saved value against value at risk on the validation campaigns: the value-weighted Qini
    coefficient of each (``saved_value``, ``value_at_risk``), the ``difference`` and its
    ``LEVEL`` paired bootstrap interval (``low``, ``high``). ``uplift`` already bounded."""
    churn, clv = np.asarray(churn, dtype=float), np.clip(np.asarray(clv, dtype=float), 0, None)
    t, y = valid["treatment"].to_numpy(), valid["churn"].to_numpy(dtype=float)
    out = qini_difference(
        np.asarray(uplift, dtype=float) * clv, churn * clv, t, y, value=clv,
        groups=_campaign_of(valid), level=LEVEL, draws=DRAWS,
    )  # fmt: skip
    return {"saved_value": out["a"], "value_at_risk": out["b"]} | {
        k: out[k] for k in ("difference", "low", "high")
    }


def campaign_qini(valid: pd.DataFrame, uplift, churn) -> float:
    """The Qini coefficient of ``uplift`` bounded by ``churn`` as the list bounds it, on each
    validation campaign, averaged weighted by its accounts: ``validate_ranking``'s ``qini``,
    and what a champion is judged by on the same rows."""
    churn = np.asarray(churn, dtype=float)
    uplift = np.clip(np.asarray(uplift, dtype=float), -(1.0 - churn), churn)
    t, y, groups = valid["treatment"].to_numpy(), valid["churn"].to_numpy(), _campaign_of(valid)
    parts = [(qini_coefficient(uplift[m], t[m], y[m]), int(m.sum()))
             for m in (groups == g for g in np.unique(groups))]  # fmt: skip
    return float(np.average([q for q, _ in parts], weights=[n for _, n in parts]))


def _campaign_of(valid: pd.DataFrame) -> np.ndarray:
    if "as_of" not in valid.columns:
        return np.zeros(len(valid), dtype=int)
    return pd.factorize(valid["as_of"])[0]


def _campaign_metrics(valid, uplift, churn, clv) -> dict[str, float]:
    t, y = valid["treatment"].to_numpy(), valid["churn"].to_numpy(dtype=float)
    var, saved = churn * clv, uplift * clv
    metrics = {
        "qini": qini_coefficient(uplift, t, y),
        "qini_churn_probability": qini_coefficient(churn, t, y),
        "qini_value_at_risk": qini_coefficient(var, t, y),
        "auuc": auuc(uplift, t, y),
        "auuc_value_at_risk": auuc(var, t, y),
        "average_effect": float(y[t == 0].mean() - y[t == 1].mean()),
        "saved_top_saved_value": _saved_in_top(saved, t, y, clv),
        "saved_top_value_at_risk": _saved_in_top(var, t, y, clv),
        "value_qini_saved_value": qini_coefficient(saved, t, y, clv),
        "value_qini_value_at_risk": qini_coefficient(var, t, y, clv),
    }
    return {k: float(v) for k, v in metrics.items()}


def _saved_in_top(score, t, y, value) -> float:
    """Saved value per treated account of the campaign, among the top ``TOP_SHARE``."""
    curve = qini_curve(score, t, y, value)
    k = max(int(round(TOP_SHARE * len(curve))), 1) - 1
    return float(curve.qini.iloc[k]) if len(curve) else float("nan")


def rank_by_decision(metrics: dict[str, float], campaigns: int = 1) -> tuple[str, str]:
    """The list's default ranking and why: the rule of the module docstring, on the
    ``campaigns`` latest complete campaigns that validated."""
    saved, var = metrics["value_qini_saved_value"], metrics["value_qini_value_at_risk"]
    low, high = metrics["value_qini_difference_low"], metrics["value_qini_difference_high"]
    where = (
        "on the latest complete campaign"
        if campaigns == 1
        else f"on the latest {campaigns} complete campaigns"
    )
    said = (
        f"{where}, value-weighted Qini (value saved per treated account, averaged over the "
        f"list's cut-offs) {saved:,.2f} ranking by saved_value against {var:,.2f} by "
        f"value_at_risk, difference {saved - var:+,.2f} ({LEVEL:.0%} paired bootstrap "
        f"interval {low:+,.2f} to {high:+,.2f})"
    )
    if saved > 0 and low > 0:
        return "saved_value", f"{said}: saved_value keeps more"
    return "value_at_risk", (
        f"{said}: the interval does not show that saved_value keeps more, so value_at_risk "
        "stays the default; --rank-by saved_value ranks by the uplift model anyway"
    )


def uplift_for(tracker, known: DataSet, end: date, cfg, context, published, fc=None,
               features: pd.DataFrame | None = None, sample=None, found=None):  # fmt: skip
    """``train``'s uplift step: None without a contacts table, else :func:`train_uplift`
    with the churn and clv models just ``published`` (``ModelResult``) loaded by version;
    ``features``: the listed accounts' features at the complete campaigns' dates, built
    with the snapshot dates (:func:`listed_features`) for the accounts of ``sample``
    (``frames.account_sample``; None: all); ``found``: :func:`campaigns`, already read."""
    if not known.has("contacts"):
        return None
    models = {m.kind: tracker.load(m.kind, version=m.version) for m in published}
    result = train_uplift(
        known, end=end, cfg=cfg, tracker=tracker, context=context, models=models, fc=fc,
        features=features, sample=sample, found=found,
    )  # fmt: skip
    log.info(result.note)
    return result


def train_uplift(known: DataSet, *, end: date, cfg, tracker, context, models, fc=None,
                 features: pd.DataFrame | None = None, sample=None, found=None):  # fmt: skip
    """Fit, validate, log and register the uplift model (``UpliftResult``; a note if none).

    ``models``: the churn and clv models of this training (``LoadedModel``), which rank the
    validation campaign by value at risk. ``features``, ``sample``: see
    :func:`campaign_frame`; ``found``: :func:`campaigns` already read (read here if None).
    """
    rows, complete = found or campaigns(known, cfg.churn_horizon, end)
    missing = not_enough(rows, complete, cfg.churn_horizon)
    if missing is not None:
        return UpliftResult(False, missing)
    frame = campaign_frame(known, rows, complete, cfg, end, fc, features, sample)
    valid_dates = validation_split(complete)
    held = frame["as_of"].isin(pd.to_datetime(valid_dates))
    valid, train = frame[held], frame[~held]
    groups = valid["treatment"].value_counts()
    if min(groups.get(0, 0), groups.get(1, 0)) < MIN_VALID_ROWS or train.empty:
        note = (
            f"uplift: the latest complete campaign(s) {', '.join(map(str, valid_dates))} have "
            f"fewer than {MIN_VALID_ROWS} treated or control accounts in the population, or "
            "no older campaign is left to learn from: no uplift model"
        )
        return UpliftResult(False, note)
    features = _features(frame, cfg)
    schema = FeatureSchema.from_frame(features.loc[train.index]).profiled_on(features)
    learner = _learner(cfg, len(train)).fit(
        schema.prepare(features.loc[train.index]), train["treatment"], train["churn"]
    )
    X_valid = schema.prepare(features.loc[valid.index])
    scores = (models["churn"].predict(features.loc[valid.index]),
              models["clv"].predict(features.loc[valid.index]))  # fmt: skip
    metrics = validate_ranking(valid, learner.predict(X_valid), *scores)
    deciles = uplift_by_decile(learner.predict(X_valid), valid["treatment"], valid["churn"])
    rank_by, why = rank_by_decision(metrics, len(valid_dates))
    final = _learner(cfg, len(frame)).fit(
        schema.prepare(features), frame["treatment"], frame["churn"]
    )
    fitted = _Fitted(
        final, schema, metrics, deciles, rank_by, why, complete, frame, valid, valid_dates,
        scores[0],
    )  # fmt: skip
    return _publish(tracker, fitted, features.loc[valid.index], cfg, context)


def _learner(cfg, rows: int) -> UpliftLearner:
    threads = cfg.lightgbm.threads(rows)  # the training config's thread rule, per fit size
    return UpliftLearner(method=METHOD, seed=cfg.tuning.seed, num_threads=threads)


@dataclass
class _Fitted:
    learner: UpliftLearner
    schema: FeatureSchema
    metrics: dict[str, float]
    deciles: pd.DataFrame
    rank_by: str
    why: str
    dates: list[date]
    frame: pd.DataFrame
    valid: pd.DataFrame
    valid_dates: list[date]
    valid_churn: np.ndarray  # the churn model's probabilities on ``valid``: the bound

    def counts(self) -> dict[str, int]:
        f, v = self.frame, self.valid
        return {
            "rows": len(f),
            "treated": int(f["treatment"].sum()),
            "control": int((f["treatment"] == 0).sum()),
            "campaigns": len(self.dates),
            "valid_campaigns": len(self.valid_dates),
            "valid_rows": len(v),
            "valid_treated": int(v["treatment"].sum()),
            "valid_control": int((v["treatment"] == 0).sum()),
        }


def _metadata(fitted: _Fitted, cfg, context) -> dict[str, Any]:
    return {
        "method": fitted.learner.method,
        "treated_share": fitted.learner.treated_share_,
        "average_effect": fitted.learner.average_effect_,
        "horizon_days": cfg.churn_horizon,
        "as_of": str(context["as_of"]),
        "campaigns": [str(d) for d in fitted.dates],
        "valid_dates": [str(d) for d in fitted.valid_dates],
        "default_rank_rule": (
            f"saved_value when its value-weighted Qini is > 0 and the {LEVEL:.0%} paired "
            "bootstrap interval of its difference to value_at_risk's lies above 0"
        ),
        "counts": fitted.counts(),
        "metrics": {k: (None if v != v else v) for k, v in fitted.metrics.items()},
        "default_rank_by": fitted.rank_by,
        "why": fitted.why,
        "top_share": TOP_SHARE,
        "data_fingerprint": context["fingerprint"],
        "churn_definition": context["churn_definition"],
        "excluded_features": list(context["excluded"]),
        "final_model": "refitted on every complete campaign, validation campaign included",
    }


def _champion(tracker, valid_features: pd.DataFrame, fitted: _Fitted, force: bool):
    current = tracker.alias_version("uplift", "champion")
    old, error, qini = None, None, fitted.metrics["qini"]
    if current is not None and not force:
        try:
            champion = tracker.load("uplift", "champion")
            old = campaign_qini(fitted.valid, champion.predict(valid_features), fitted.valid_churn)
        except Exception as exc:  # noqa: BLE001 - any failure to score means it cannot compete
            error = str(exc)
    version = None if current is None else str(current.version)
    on = "the latest complete campaigns"
    return decide("qini", qini, version, old, force=force, champion_error=error, on=on)


def _publish(tracker, fitted: _Fitted, valid_features, cfg, context) -> UpliftResult:
    metadata = _metadata(fitted, cfg, context)
    tags = {"valuemodel.kind": "uplift", "data_fingerprint": context["fingerprint"]}
    run_id = tracker.start_run(cfg.experiment, f"uplift-{context['as_of']}", tags)
    try:
        with tempfile.TemporaryDirectory(prefix="valuemodel-bundle-") as tmp:
            bundle = save_bundle(
                Path(tmp) / "model",
                kind="uplift",
                schema=fitted.schema,
                boosters=fitted.learner.boosters_,
                metadata=metadata,
                config=cfg.to_dict(),
            )
            load_bundle(bundle, run_id=run_id)  # what scoring will load: checksums, parts
            decision = _champion(tracker, valid_features, fitted, context["force"])
            tracker.log(
                run_id,
                params={"method": fitted.learner.method, "default_rank_by": fitted.rank_by,
                        "campaigns": len(fitted.dates), "horizon_days": cfg.churn_horizon},
                metrics=fitted.metrics,
                documents={"uplift_deciles.json": fitted.deciles.to_dict(orient="records"),
                           "uplift.json": metadata},
                bundle_dir=bundle,
            )  # fmt: skip
        version = tracker.publish(
            "uplift", run_id, decision.alias, decision.promoted, decision.to_dict()
        )
    except BaseException:
        tracker.finish(run_id, "FAILED")
        raise
    tracker.finish(run_id)
    return UpliftResult(
        trained=True,
        note=fitted.why,
        run_id=run_id,
        version=version,
        alias=decision.alias,
        promoted=decision.promoted,
        reason=decision.reason,
        metrics=dict(fitted.metrics),
        deciles=tuple(fitted.deciles.to_dict(orient="records")),
        train_dates=tuple(d for d in fitted.dates if d not in fitted.valid_dates),
        valid_dates=tuple(fitted.valid_dates),
        counts=fitted.counts(),
        default_rank_by=fitted.rank_by,
        why=fitted.why,
    )


def summary_lines(result: UpliftResult | None) -> list[str]:
    """The uplift model's part of ``train``'s summary."""
    if result is None:
        return []
    if not result.trained:
        return ["", result.note]
    m, c = result.metrics, result.counts
    valid = ", ".join(str(d) for d in result.valid_dates)
    return [
        "",
        f"{result.registered_model} v{result.version} -> {result.alias}"
        f"{' (promoted)' if result.promoted else ' (not promoted)'}: {result.reason}",
        f"  {result.method}-learner on {c['campaigns']} campaigns ({c['treated']:,} treated, "
        f"{c['control']:,} control); validated out of time on {valid} "
        f"({c['valid_treated']:,} treated, {c['valid_control']:,} control)",
        f"  Qini {m['qini']:.4f} (value at risk {m['qini_value_at_risk']:.4f}, churn "
        f"probability {m['qini_churn_probability']:.4f}); AUUC {m['auuc']:.4f}; average "
        f"effect {m['average_effect']:.4f}; value-weighted Qini "
        f"{m['value_qini_saved_value']:,.2f} (value at risk {m['value_qini_value_at_risk']:,.2f})",
        f"  list ranks by {result.default_rank_by} by default: {result.why}",
    ]
