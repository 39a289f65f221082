"""What Spark's executors run when ``score --engine spark`` scores: batches of feature rows in,
scored or listed rows out (pandas frames, through ``DataFrame.mapInPandas``).

Every function here is row by row: a batch gives the same rows whatever other rows share it,
so the executors' results are the embedded engine's. What depends on the whole population
(the tiers' percentile cut-offs, the rank) is resolved on the engine first
(:mod:`valuemodel.serving.distributed`) and reaches the batches as values: the tiers file
with its percentiles replaced by the numbers they stand for, and a ``rank`` column.

The models travel as their verified bundle files (LightGBM text, JSON, checksums; nothing
pickled but bytes), broadcast once; each Python worker loads them once (checksums verified
again) and keeps them for the tasks it runs after.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa

from valuemodel.features.build import to_frame
from valuemodel.features.stable import stable_features
from valuemodel.models.bundle import load_bundle_files
from valuemodel.serving.config import TierConfig
from valuemodel.serving.uplift import add_uplift, mark_do_not_contact, uplift_reasons

Batches = Callable[[Iterator[pd.DataFrame]], Iterator[pd.DataFrame]]
PASSTHROUGH = ("_acc_manager_id", "_acc_branch", "rank")
"""Columns the batches carry beside the features (joined on the engine), never features:
the accounts table's manager and branch, and the rank."""
SCORED_COLUMNS = {
    "account_id": "string",
    "churn_probability": "double",
    "clv": "double",
    "value_at_risk": "double",
    "priority_score": "double",
    "exclusion": "string",
    "service_segment": "string",
    "asset_tier": "string",
    "manager_id": "string",
}
"""What the first pass keeps per account (the rank and the summary read only these)."""
UPLIFT_SCORED = {"uplift": "double", "saved_value": "double"}

_LOADED: dict[str, dict[str, Any]] = {}
"""The models each Python worker loaded, by the shipped bundles' digest."""


@dataclass(frozen=True)
class BatchScoring:
    """What a batch needs besides its rows (pickled once per task: small).

    ``bundles``: a Spark broadcast of ``{"digest": str, "models": {kind: (files, version,
    run_id)}}``; ``config``: the tiers file with its percentile cut-offs resolved to values.
    """

    bundles: Any
    config: TierConfig
    rank_by: str
    lang: str
    uplift: bool


def shipped(models: dict[str, Any]) -> dict[str, Any]:
    """The value to broadcast for ``models`` (``{kind: loaded model}``, ``bundle_files`` kept
    by ``load_bundle``)."""
    import hashlib

    digest = hashlib.sha256()
    for kind in sorted(models):
        digest.update(kind.encode() + models[kind].bundle_files["checksums.json"])
    return {
        "digest": digest.hexdigest(),
        "models": {k: (m.bundle_files, str(m.version), str(m.run_id)) for k, m in models.items()},
    }


def worker_models(bundles: Any) -> dict[str, Any]:
    """The models of a broadcast, loaded once per Python worker."""
    value = bundles.value
    key = value["digest"]
    if key not in _LOADED:
        _LOADED[key] = {
            kind: load_bundle_files(files, version=version, run_id=run_id)
            for kind, (files, version, run_id) in value["models"].items()
        }
    return _LOADED[key]


def feature_rows(batch: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """A batch of the engine's feature rows as scoring reads them (``scoring_features``:
    documented dtypes, floats made stable; ``rank`` kept when present), and the accounts'
    ``account_id``, ``manager_id``, ``branch`` when joined (else None)."""
    extra = [c for c in PASSTHROUGH if c in batch.columns]
    features = to_frame(pa.Table.from_pandas(batch.drop(columns=extra), preserve_index=False))
    features = stable_features(features)
    accounts = None
    if "_acc_manager_id" in extra:
        accounts = pd.DataFrame(
            {
                "account_id": batch["account_id"].astype("str").to_numpy(dtype=object),
                "manager_id": batch["_acc_manager_id"].to_numpy(dtype=object),
                "branch": batch["_acc_branch"].to_numpy(dtype=object),
            }
        )
    if "rank" in extra:
        rank = pd.Series(batch["rank"].to_numpy(), index=batch["account_id"].astype("str"))
        features["rank"] = rank.reindex(features["account_id"]).to_numpy(dtype="int64")
    return features, accounts


def _scored(batch: pd.DataFrame, job: BatchScoring, models: dict[str, Any]) -> pd.DataFrame:
    from valuemodel.serving.score import score_features

    features, accounts = feature_rows(batch)
    pair = {k: models[k] for k in ("churn", "clv")}
    scored = score_features(features, pair, job.config, accounts)
    if job.uplift:
        scored = add_uplift(scored, models["uplift"], job.rank_by, job.config)
    return scored


def scored_batches(job: BatchScoring) -> Batches:
    """The first pass: predictions, tiers, exclusion and priority (``SCORED_COLUMNS``)."""
    columns = list(SCORED_COLUMNS) + (list(UPLIFT_SCORED) if job.uplift else [])

    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        models = worker_models(job.bundles)
        for batch in batches:
            if len(batch):
                yield _typed(_scored(batch, job, models).reindex(columns=columns))

    return run


def listed_batches(job: BatchScoring, columns: list[str]) -> Batches:
    """The second pass, on the rows written (``rank`` joined): reasons (TreeSHAP) and actions,
    the list's ``columns``."""

    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        models = worker_models(job.bundles)
        for batch in batches:
            if len(batch):
                yield list_rows(_scored(batch, job, models), job, models).reindex(columns=columns)

    return run


def list_rows(scored: pd.DataFrame, job: BatchScoring, models: dict[str, Any]) -> pd.DataFrame:
    """The list's rows of ``scored`` rows that carry their ``rank`` (``finish_list``)."""
    from valuemodel.serving.score import _registry, finish_list

    ranked = scored.sort_values("rank", kind="mergesort").reset_index(drop=True)
    if job.uplift:
        ranked["uplift_reasons"] = uplift_reasons(ranked, models["uplift"], _registry(), job.lang)
    written = finish_list(ranked, models["churn"], job.config, _registry(), job.lang)
    return mark_do_not_contact(written, job.lang)


def csv_batches(lang: str) -> Batches:
    """The list's sorted rows as CSV text, one string per batch (no header): the same
    formatting as the embedded engine's file (``writers.csv_text``)."""
    from valuemodel.serving.writers import csv_text

    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            if len(batch):
                yield pd.DataFrame({"line": [csv_text(batch, lang, header=False).rstrip("\n")]})

    return run


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns as object (nulls as None), numbers as float: what Arrow maps to the
    declared Spark types."""
    out = {}
    for column in frame.columns:
        values = frame[column]
        if SCORED_COLUMNS.get(column) == "string":
            out[column] = values.astype("object").where(values.notna(), None)
        else:
            out[column] = pd.to_numeric(values, errors="coerce").astype(float)
    return pd.DataFrame(out, index=frame.index)


def spark_schema(columns: dict[str, str]) -> str:
    """A Spark DDL schema from ``{column: type}``."""
    return ", ".join(f"`{c}` {t}" for c, t in columns.items())


def list_types(sample: pd.DataFrame) -> dict[str, str]:
    """The Spark type of each column of a list frame (``output_columns`` dtypes)."""
    types = {}
    for column in sample.columns:
        dtype = sample[column].dtype
        if pd.api.types.is_bool_dtype(dtype):
            types[column] = "boolean"
        elif pd.api.types.is_integer_dtype(dtype):
            types[column] = "bigint"
        elif pd.api.types.is_float_dtype(dtype):
            types[column] = "double"
        else:
            types[column] = "string"
    return types


def header_text(columns: list[str], lang: str) -> str:
    """The CSV header line the embedded engine's file starts with."""
    from valuemodel.serving.writers import csv_text

    return csv_text(pd.DataFrame(columns=columns), lang, header=True)


__all__ = ["BatchScoring", "csv_batches", "listed_batches", "scored_batches", "shipped"]
