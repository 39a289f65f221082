"""``score`` on Spark's executors: :mod:`valuemodel.serving.distributed` does the work, this
module writes what ``score`` writes (the list, the summary, the drift report) from it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from valuemodel.serving.config import TierConfig
from valuemodel.serving.distributed import (
    engine_summary,
    expected_from_histogram,
    score_on_engine,
    uplift_numbers,
)
from valuemodel.serving.drift import drift_report, drift_warnings, market_features
from valuemodel.serving.report import build_summary
from valuemodel.serving.score import (
    ScoreResult,
    _registry,
    write_outputs,
)
from valuemodel.serving.segments import tier_requirements
from valuemodel.serving.uplift import uplift_summary


def score_on_spark(
    data: Any,
    out: Path,
    fmt: str,
    models: dict[str, Any],
    effect: Any,
    ranking: tuple[str, str],
    config: TierConfig,
    run: dict[str, Any],
    fingerprint: Callable[[], str],
) -> ScoreResult | None:
    """``score`` on Spark's executors (:mod:`valuemodel.serving.distributed`); None for an
    empty population (the driver path writes its empty list). The arguments are ``score``'s,
    checked and loaded; ``ranking``: ``(rank_by, why)``; ``fingerprint()``: the data's."""
    found = score_on_engine(data, run["as_of"], models, effect, ranking[0], config, run["lang"])
    if not found["n"]:
        return None
    sample, config = found.pop("sample"), found["config"]
    drift = drift_report(sample, models, run["as_of"], market=market_features(_registry()))
    warnings = tier_requirements(sample, config) + drift_warnings(drift)
    columns = ["exclusion", "value_at_risk", "service_segment", "asset_tier", "uplift"]
    empty = pd.DataFrame({c: pd.Series(dtype=float) for c in [*columns, "saved_value"]})
    base = build_summary(
        empty, empty, models, drift, warnings, fingerprint=fingerprint(), config=config, **run
    )
    summary = engine_summary(found, base)
    summary["input"] = data.summary()
    summary["list"] = out.name
    summary["control"] = {"share": 0.0}  # a control group is drawn on the driver path
    summary["expected_performance"] = expected_from_histogram(found["aggregates"])
    summary["uplift"] = uplift_summary(empty, effect, *ranking)
    if effect is not None:
        summary["uplift"] |= uplift_numbers(found["aggregates"])
    summary_path, drift_path = write_outputs(
        out, lambda path: found["write"](path, fmt), summary, drift, fmt=fmt
    )
    return ScoreResult(
        out=out,
        summary_path=summary_path,
        drift_path=drift_path,
        as_of=run["as_of"],
        accounts_scored=found["n"],
        accounts_written=found["n"],
        models=summary["models"],
        value_at_risk_by_segment=summary["value_at_risk"]["by_service_segment"],
        top=found["top"].reset_index(drop=True),
        summary=summary,
        warnings=warnings,
    )
