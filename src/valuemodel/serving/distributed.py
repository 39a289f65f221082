"""Scoring where the rows are: ``score --engine spark`` without per-account data on the driver.

The steps, and where each runs (docs/scaling.md, "What runs where"):

1. The features at ``T`` are the engine's (the Ibis feature plan, as ``features`` runs it),
   with ``manager_id`` and ``branch`` joined from ``accounts``, kept on the executors.
2. The tiers' percentile cut-offs come from the engine: for a percentile ``p`` of ``n`` known
   values, numpy's linear interpolation lies between the ``k``-th and ``k+1``-th smallest
   (``k = floor(p (n - 1))``); both are asked of ``percentile_approx`` (exact below
   ``engine.SPARK_QUANTILE_ACCURACY`` values, within ``n / accuracy`` ranks above), and are
   interpolated as numpy does. The batches then read the cut-offs as values.
3. Predictions, tiers, exclusion and priority on the executors (:mod:`.batches`, the models
   loaded once per Python worker from the broadcast bundle files).
4. The rank: a global sort (ties by ``account_id``, excluded accounts last) numbered by
   partition offsets (``engine.spark_ranked``), no single-partition window.
5. Reasons (TreeSHAP) and actions on the executors, for the rows written; the list sorted by
   rank and written by the executors as part files (CSV text formatted as the embedded
   engine's file, or Parquet), which the driver joins into the one output file by streaming
   bytes (CSV) or row groups (Parquet), never holding the list.

The driver receives aggregates only: counts and value at risk per tier, one count per
partition, the histogram of the rounded churn probabilities (at most 10^6 + 1 values) for
the expected ROC-AUC, the list's first ten rows for the console, and for the drift report a
deterministic sample of at most ``DRIFT_SAMPLE`` accounts' features (PSI on 20,000 accounts
is within about 5e-4 of the population's).

Not on this path (the driver path, with the engine's features collected, still serves
them): ``--top`` and per-manager capacity (their quotas), ``--control-share``, ``--compare``
and Excel output; :func:`why_not` names the reason.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from valuemodel import engine
from valuemodel.features.build import feature_table
from valuemodel.features.stable import stable_features
from valuemodel.serving.batches import (
    PASSTHROUGH,
    SCORED_COLUMNS,
    UPLIFT_SCORED,
    BatchScoring,
    csv_batches,
    feature_rows,
    header_text,
    list_rows,
    list_types,
    listed_batches,
    scored_batches,
    shipped,
    spark_schema,
    worker_models,
)
from valuemodel.serving.config import Cutoff, TierConfig
from valuemodel.serving.estimation import top_sizes
from valuemodel.serving.uplift import DO_NOT_CONTACT

DRIFT_SAMPLE = 20_000
"""At most this many accounts' features reach the driver, for the drift report only."""
_ORDER = [("~exclusion", True), ("priority_score", False), ("account_id", True)]


def why_not(data: Any, draw: dict[str, Any], compare: Any, top: Any, fmt: str, config) -> str:
    """Why this run must score on the driver ('' when the executors can do it all)."""
    if getattr(data.con, "name", None) != "pyspark":
        return "not a Spark connection"
    reasons = {
        "--top": top is not None,
        "capacity.per_manager": config.priority.capacity.per_manager is not None,
        "--control-share": draw["share"] > 0,
        "--compare": compare is not None,
        "an Excel list": fmt == ".xlsx",
    }
    return ", ".join(k for k, v in reasons.items() if v)


def engine_features(data: Any, as_of: str) -> Any:
    """The Spark DataFrame of the features at ``as_of``, with the accounts table's
    ``manager_id`` and ``branch`` beside them (``_acc_*``, read as ``score``'s ``accounts``),
    persisted on the executors."""
    table = feature_table(data, as_of)
    if data.has("accounts"):
        accounts = data.until(as_of).table("accounts")
        accounts = accounts.select(
            _acc_account_id=accounts.account_id,
            _acc_manager_id=accounts.manager_id.cast("string"),
            _acc_branch=accounts.branch.cast("string"),
        )
        table = table.left_join(accounts, table.account_id == accounts._acc_account_id)
        table = table.drop("_acc_account_id")
    return engine.spark_persist(engine.spark_frame(table))


def resolved_cutoffs(features: Any, config: TierConfig) -> TierConfig:
    """``config`` with each percentile cut-off replaced by its value over ``features``."""
    m = config.measures
    columns = set(features.columns)
    contribution = next((c for c in m.contribution if c in columns), None)
    cuts = {
        ("value_quadrant", "contribution"): contribution,
        ("value_quadrant", "turnover"): m.turnover if m.turnover in columns else None,
        ("growth_quadrant", "contribution"): contribution,
        ("growth_quadrant", "growth"): m.growth if m.growth in columns else None,
    }
    percentile = {
        key: col
        for key, col in cuts.items()
        if getattr(getattr(config, key[0]), key[1]).percentile is not None and col is not None
    }
    counts = engine.spark_count_known(features, sorted(set(percentile.values())))
    wanted: dict[str, set[int]] = {c: set() for c in counts if counts[c]}
    for (tier, field), col in percentile.items():
        n = counts[col]
        if n:
            k = math.floor(getattr(config, tier).__getattribute__(field).percentile * (n - 1))
            wanted[col] |= {k, min(k + 1, n - 1)}
    ordered = {c: sorted(ks) for c, ks in wanted.items()}
    found = engine.spark_order_statistics(features, ordered, counts)
    updates: dict[str, dict[str, Cutoff]] = {"value_quadrant": {}, "growth_quadrant": {}}
    for (tier, field), col in cuts.items():
        p = getattr(getattr(config, tier), field).percentile
        if p is None:
            continue
        if col is None or not counts.get(col):
            updates[tier][field] = Cutoff(value=float("nan"))
            continue
        values = dict(zip(ordered[col], found[col], strict=True))
        updates[tier][field] = Cutoff(value=_interpolated(values, p, counts[col]))
    return config.model_copy(
        update={t: getattr(config, t).model_copy(update=u) for t, u in updates.items() if u}
    )


def _interpolated(values: dict[int, float], p: float, n: int) -> float:
    """numpy's linear percentile from the two order statistics around it, both rounded as
    ``stable_features`` rounds the features the tiers compare with them (the rounding keeps
    the order, so it commutes with taking the ``k``-th value)."""
    k = math.floor(p * (n - 1))
    pair = [values[k], values[min(k + 1, n - 1)]]
    stable = stable_features(pd.DataFrame({"v": pair}))["v"].to_numpy(dtype=float)
    if n == 1:
        return float(stable[0])
    return float(np.quantile(stable, p * (n - 1) - k))


def score_on_engine(
    data: Any, as_of: str, models: dict[str, Any], effect: Any, rank_by: str, config, lang: str
) -> dict[str, Any]:
    """Score the population at ``as_of`` on the executors (see the module's steps).

    Returns ``write(path, fmt)`` (writes the list, the executors doing the work), ``n``,
    ``top`` (the first ten rows), ``columns``, ``aggregates`` (``summary_parts``), the
    drift sample's features (``sample``) and the ``config`` with resolved cut-offs.
    """
    features = engine_features(data, as_of)
    config = resolved_cutoffs(features, config)
    bundle = {**models, **({"uplift": effect} if effect is not None else {})}
    job = BatchScoring(
        bundles=engine.spark_broadcast(features, shipped(bundle)),
        config=config,
        rank_by=rank_by,
        lang=lang,
        uplift=effect is not None,
    )
    types = dict(SCORED_COLUMNS) | (UPLIFT_SCORED if effect is not None else {})
    scored = features.mapInPandas(scored_batches(job), spark_schema(types))
    ranked = engine.spark_ranked(engine.spark_persist(scored), _ORDER)
    rows = features.join(ranked.select("account_id", "rank"), "account_id")
    sample = engine.spark_collect(rows.where("`rank` <= 5"))
    if not len(sample):
        return {"n": 0}
    example = list_rows(_scored_sample(sample, job), job, worker_models(job.bundles))
    columns = list(example.columns)
    listed = rows.mapInPandas(listed_batches(job, columns), spark_schema(list_types(example)))
    listed = engine.spark_persist(listed.orderBy("rank"))
    return {
        "n": int(ranked.count()),
        "config": config,
        "columns": columns,
        "top": engine.spark_collect(listed.where("`rank` <= 10")).sort_values("rank"),
        "aggregates": summary_parts(ranked, effect is not None),
        "sample": drift_sample(features),
        "write": lambda path, fmt: write_list(listed, columns, path, fmt, lang),
    }


def _scored_sample(sample: pd.DataFrame, job: BatchScoring) -> pd.DataFrame:
    from valuemodel.serving.batches import _scored

    return _scored(sample, job, worker_models(job.bundles))


def drift_sample(features: Any) -> pd.DataFrame:
    """At most about ``DRIFT_SAMPLE`` accounts' features, chosen by a hash of the id (the same
    accounts on every run), as scoring reads them."""
    from pyspark.sql import functions as F

    keep = features.drop(*PASSTHROUGH)
    n = keep.count()
    if n > DRIFT_SAMPLE:
        bucket = F.pmod(F.xxhash64("account_id"), F.lit(n))
        keep = keep.where(bucket < DRIFT_SAMPLE)
    return feature_rows(engine.spark_collect(keep))[0]


def summary_parts(ranked: Any, uplift: bool) -> dict[str, Any]:
    """The summary's population numbers, aggregated on the engine."""
    from pyspark.sql import functions as F

    null = "(null)"

    def by(column: str) -> dict[str, tuple[int, float]]:
        key = F.coalesce(F.col(column), F.lit(null)).alias("key")
        got = ranked.groupBy(key).agg(F.count("*").alias("n"), F.sum("value_at_risk").alias("v"))
        return {r["key"]: (int(r["n"]), float(r["v"] or 0.0)) for r in got.collect()}

    excluded = ranked.where(F.col("exclusion").isNotNull()).groupBy("exclusion").count()
    totals = ranked.agg(
        F.count("*").alias("n"),
        F.sum("value_at_risk").alias("var"),
        F.sum("churn_probability").alias("p"),
        F.count("manager_id").alias("managers"),
    ).first()
    n = int(totals["n"])
    tops = [F.sum(F.when(F.col("rank") <= k, F.col("churn_probability"))) for k in top_sizes(n)]
    top_sums = ranked.agg(*tops).first() if tops else []
    histogram = engine.spark_collect(ranked.groupBy("churn_probability").count())
    parts = {
        "n": n,
        "value_at_risk": float(totals["var"] or 0.0),
        "churners": float(totals["p"] or 0.0),
        "managers": int(totals["managers"]),
        "excluded": {r["exclusion"]: int(r["count"]) for r in excluded.collect()},
        "by_service_segment": by("service_segment"),
        "by_asset_tier": by("asset_tier"),
        "top": {str(k): float(v or 0.0) for k, v in zip(top_sizes(n), top_sums, strict=True)},
        "histogram": histogram,
    }
    if uplift:
        u = ranked.agg(
            F.avg("uplift").alias("mean"),
            F.count(F.when(F.col("uplift") <= DO_NOT_CONTACT, 1)).alias("harm"),
            F.sum(F.greatest(F.col("saved_value"), F.lit(0.0))).alias("saved"),
        ).first()
        parts["uplift"] = {"mean": u["mean"], "harm": int(u["harm"]), "saved": u["saved"]}
    return parts


def write_list(listed: Any, columns: list[str], path: Path, fmt: str, lang: str) -> None:
    """The sorted list, written by the executors into part files in a temporary folder next to
    ``path``, joined into ``path`` (the caller's staged temporary file) in rank order."""
    parts_dir = Path(tempfile.mkdtemp(prefix=f".{path.name}.parts-", dir=path.parent))
    try:
        if fmt == ".csv":
            lines = listed.mapInPandas(csv_batches(lang), "line string")
            parts = engine.spark_write_parts(lines, str(parts_dir / "list"), "text")
            with path.open("wb") as out:
                bom = "\ufeff" if lang == "zh" else ""
                out.write((bom + header_text(columns, lang)).encode("utf-8"))
                for part in parts:
                    with part.open("rb") as chunk:
                        shutil.copyfileobj(chunk, out, 1 << 20)
        else:
            parts = engine.spark_write_parts(listed, str(parts_dir / "list"), "parquet")
            _join_parquet(parts, path)
    finally:
        shutil.rmtree(parts_dir, ignore_errors=True)


def _join_parquet(parts: list[Path], path: Path) -> None:
    """Spark's Parquet part files as one file, a row group at a time."""
    writer = None
    try:
        for part in parts:
            file = pq.ParquetFile(part)
            for group in range(file.num_row_groups):
                table = file.read_row_group(group)
                if writer is None:
                    writer = pq.ParquetWriter(path, table.schema, compression="zstd")
                writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()


def engine_summary(found: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """``base`` (the summary built as for an empty list: run settings, models, drift,
    warnings) with the population's numbers from the engine's aggregates (``found``)."""
    parts, config = found["aggregates"], found["config"]
    n = parts["n"]
    segments, tiers = parts["by_service_segment"], parts["by_asset_tier"]
    summary = dict(base)
    summary["counts"] = {
        **base["counts"],
        "population": n,
        "written": n,
        "excluded": dict(sorted(parts["excluded"].items())),
        "written_by_service_segment": {k: c for k, (c, _) in sorted(segments.items())},
        "population_by_service_segment": {k: c for k, (c, _) in sorted(segments.items())},
        "population_by_asset_tier": {k: c for k, (c, _) in sorted(tiers.items())},
    }
    total = round(parts["value_at_risk"], 2)
    summary["value_at_risk"] = {
        "total": total,
        "by_service_segment": {k: round(v, 2) for k, (_, v) in sorted(segments.items())},
        "by_asset_tier": {k: round(v, 2) for k, (_, v) in sorted(tiers.items())},
        "written": total,
    }
    summary["cutoffs"] = {
        f"{tier}.{field}": _cut(getattr(getattr(config, tier), field).value)
        for tier, field in (
            ("value_quadrant", "contribution"),
            ("value_quadrant", "turnover"),
            ("growth_quadrant", "contribution"),
            ("growth_quadrant", "growth"),
        )
    }
    return summary


def _cut(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else round(value, 6)


def expected_from_histogram(parts: dict[str, Any]) -> dict[str, Any]:
    """``estimation.expected_performance`` of the whole list from the engine's aggregates:
    the expected ROC-AUC from the histogram of the (rounded) churn probabilities, which is
    exact (the probability is its own score, so equal values are ties either way)."""
    hist = parts["histogram"].sort_values("churn_probability")
    v = hist["churn_probability"].to_numpy(dtype=float)
    c = hist["count"].to_numpy(dtype=float)
    n = parts["n"]
    group_p, group_q, group_pq = c * v, c * (1 - v), c * v * (1 - v)
    denominator = group_p.sum() * group_q.sum() - group_pq.sum()
    roc = math.nan
    if n >= 2 and denominator > 0:
        q_below = np.r_[0.0, np.cumsum(group_q)[:-1]]
        numerator = (group_p * q_below).sum() + 0.5 * (group_p * group_q - group_pq).sum()
        roc = float(numerator / denominator)
    return {
        "method": "confidence-based estimation from the calibrated churn probabilities",
        "accounts": int(n),
        "roc_auc": None if math.isnan(roc) else round(roc, 6),
        "churners": round(parts["churners"], 3),
        "churn_rate": round(parts["churners"] / n, 6) if n else None,
        "top": {k: round(s, 3) for k, s in parts["top"].items()},
    }


def uplift_numbers(parts: dict[str, Any]) -> dict[str, Any]:
    """``uplift_summary``'s population numbers from the engine's aggregates."""
    u = parts["uplift"]
    return {
        "mean_uplift": round(float(u["mean"]), 6) if u["mean"] is not None else None,
        "do_not_contact": u["harm"],
        "saved_value_total": round(float(u["saved"] or 0.0), 2),
    }
