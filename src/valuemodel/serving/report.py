"""The scoring run's summary: the JSON written beside the list, its Excel sheet, the CLI text.

The summary holds no timestamps (a re-run on the same data and models writes the same bytes)
and no row-level data beyond the ranked list's own top rows in the CLI text.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from valuemodel.serving.config import TierConfig
from valuemodel.serving.control import control_counts
from valuemodel.serving.estimation import expected_performance
from valuemodel.serving.shadow import compare_paths
from valuemodel.serving.tiers import contribution, resolve_cutoff
from valuemodel.serving.words import summary_label

if TYPE_CHECKING:
    from valuemodel.serving.score import ScoreResult

_TOP_COLUMNS = (
    "rank",
    "account_id",
    "churn_probability",
    "clv",
    "value_at_risk",
    "uplift",
    "saved_value",
    "service_segment",
    "recommended_action",
)


def _money(x: float) -> float:
    return round(float(x), 2)


def _counts(series: pd.Series) -> dict[str, int]:
    counts = series.astype("object").fillna("(null)").value_counts()
    return {str(k): int(v) for k, v in sorted(counts.items())}


def _var_by(frame: pd.DataFrame, column: str) -> dict[str, float]:
    if column not in frame.columns or not len(frame):
        return {}
    keys = frame[column].astype("object").fillna("(null)")
    sums = frame["value_at_risk"].groupby(keys).sum()
    return {str(k): _money(v) for k, v in sorted(sums.items())}


def model_info(model: Any, alias: str) -> dict[str, Any]:
    """Version, run, alias, horizon, feature count, and what ``evaluate`` needs later to label
    the outcomes as training did: the churn definition and the training as-of date."""
    metadata = getattr(model, "metadata", None) or {}
    return {
        "version": str(getattr(model, "version", "")),
        "run_id": str(getattr(model, "run_id", "")),
        "alias": alias,
        "horizon_days": getattr(model, "horizon_days", None),
        "features": len(getattr(model, "feature_names", [])),
        "churn_definition": metadata.get("churn_definition"),
        "trained_as_of": metadata.get("as_of"),
    }


def _cutoffs(frame: pd.DataFrame, config: TierConfig) -> dict[str, float | None]:
    def resolved(values: np.ndarray, cut: Any) -> float | None:
        value = resolve_cutoff(values, cut)
        return None if np.isnan(value) else round(value, 6)

    def column(name: str) -> np.ndarray:
        if name not in frame.columns:
            return np.full(len(frame), np.nan)
        return pd.to_numeric(frame[name], errors="coerce").to_numpy(float, na_value=np.nan)

    contrib = contribution(frame, config).to_numpy()
    m, vq, gq = config.measures, config.value_quadrant, config.growth_quadrant
    return {
        "value_quadrant.contribution": resolved(contrib, vq.contribution),
        "value_quadrant.turnover": resolved(column(m.turnover), vq.turnover),
        "growth_quadrant.contribution": resolved(contrib, gq.contribution),
        "growth_quadrant.growth": resolved(column(m.growth), gq.growth),
    }


def build_summary(
    scored: pd.DataFrame,
    written: pd.DataFrame,
    models: dict[str, Any],
    drift: pd.DataFrame,
    warnings: list[str],
    *,
    as_of: str,
    fingerprint: str,
    alias: str,
    tiers: str | Path | None,
    top: int | None,
    lang: str,
    config: TierConfig,
) -> dict[str, Any]:
    """The summary JSON: run settings, model versions, counts and value at risk by tier."""
    excluded = scored["exclusion"].notna() if len(scored) else pd.Series(dtype=bool)
    return {
        "as_of": as_of,
        "data_fingerprint": fingerprint,
        "tiers_file": str(tiers) if tiers is not None else "built-in defaults",
        "top": top,
        "lang": lang,
        "models": {kind: model_info(model, alias) for kind, model in models.items()},
        "counts": {
            "population": int(len(scored)),
            "written": int(len(written)),
            "excluded": _counts(scored.loc[excluded, "exclusion"]) if len(scored) else {},
            "written_by_service_segment": _counts(written["service_segment"]),
            "population_by_service_segment": _counts(scored.get("service_segment", [])),
            "population_by_asset_tier": _counts(scored.get("asset_tier", [])),
        },
        "value_at_risk": {
            "total": _money(scored["value_at_risk"].sum()) if len(scored) else 0.0,
            "by_service_segment": _var_by(scored, "service_segment"),
            "by_asset_tier": _var_by(scored, "asset_tier"),
            "written": _money(written["value_at_risk"].sum()) if len(written) else 0.0,
        },
        "cutoffs": _cutoffs(scored, config) if len(scored) else {},
        "drift": {
            "features_checked": int(drift["psi"].notna().sum()),
            "major": int((drift["status"] == "major").sum()),
            "moderate": int((drift["status"] == "moderate").sum()),
            "beyond_normal": int(drift["beyond_normal"].astype(bool).sum()),
            "warned": int(drift["warn"].astype(bool).sum()),
        },
        "warnings": list(warnings),
    }


def loop_summary(
    scored: pd.DataFrame,
    written: pd.DataFrame,
    draw: dict[str, Any],
    compare: dict[str, Any] | None,
) -> dict[str, Any]:
    """The summary's ``control`` (share; with a share above 0 also the seed, the rule and the
    counts per segment), ``expected_performance`` of the written list and ``compare``."""
    control: dict[str, Any] = {"share": draw["share"]}
    if draw["share"] > 0:
        control |= {
            "seed": draw["seed"],
            "draw": "per service segment, the round(share * n) accounts with the lowest "
            "SHA-256(seed|as_of|account_id)",
            "population_by_service_segment": control_counts(scored),
            "written_by_service_segment": control_counts(written),
        }
    out = {
        "control": control,
        "expected_performance": expected_performance(written["churn_probability"].to_numpy()),
    }
    if compare is not None:
        out["compare"] = compare
    return out


def summary_sheet(summary: dict[str, Any]) -> list[tuple[str, Any]]:
    """The summary as (key, value) rows for the Excel ``Summary`` sheet, in the list's
    language (``summary["lang"]``)."""
    lang = summary.get("lang", "en")

    def label(text: str, **fields: str) -> str:
        return summary_label(text, lang, **fields)

    rows: list[tuple[str, Any]] = [
        (label("as of"), summary["as_of"]),
        (label("accounts in the population"), summary["counts"]["population"]),
        (label("accounts in this list"), summary["counts"]["written"]),
        (label("value at risk, total (CNY)"), summary["value_at_risk"]["total"]),
        (label("value at risk, this list (CNY)"), summary["value_at_risk"]["written"]),
    ]
    for segment, value in summary["value_at_risk"]["by_service_segment"].items():
        rows.append((label("value at risk, {segment} (CNY)", segment=segment), value))
    for kind, info in summary["models"].items():
        rows.append((label("{kind} model version", kind=kind), info["version"]))
    control = summary.get("control", {})
    if control.get("share"):
        rows.append((label("control group share (do not contact)"), control["share"]))
        held = sum(c["control"] for c in control["written_by_service_segment"].values())
        rows.append((label("control accounts in this list"), held))
    expected = summary.get("expected_performance", {})
    if expected.get("roc_auc") is not None:
        rows.append((label("expected ROC-AUC (before outcomes)"), expected["roc_auc"]))
        rows.append((label("expected churners in this list"), expected["churners"]))
    rows.append((label("data fingerprint (SHA-256)"), summary["data_fingerprint"]))
    quarantined = summary.get("input", {}).get("quarantined_rows", {})
    rows.append((label("input rows quarantined"), sum(quarantined.values())))
    rows.append((label("tiers file"), summary["tiers_file"]))
    rows += [(label("warning"), w) for w in summary["warnings"]]
    return rows


def _input_lines(info: dict[str, Any]) -> list[str]:
    """What the input needed: rows quarantined and normalisations, one line each."""
    lines = []
    quarantined = info.get("quarantined_rows", {})
    if quarantined:
        parts = ", ".join(f"{t} {n:,}" for t, n in quarantined.items())
        lines.append(f"  input: {sum(quarantined.values()):,} rows quarantined ({parts})")
    if info.get("normalised"):
        lines.append(f"  input: {len(info['normalised'])} normalisations (see the summary)")
    return lines


def format_score_summary(result: ScoreResult) -> str:
    """Text for the CLI: accounts scored, value at risk by segment, the top ten, warnings."""
    models = ", ".join(f"{k} v{v['version']}" for k, v in result.models.items())
    lines = [
        f"Scored {result.accounts_scored:,} accounts at {result.as_of} ({models}).",
        f"Wrote {result.accounts_written:,} rows to {result.out}",
        f"  summary: {result.summary_path}",
        f"  drift:   {result.drift_path}",
        *_compare_lines(result),
        *_input_lines(result.summary.get("input", {})),
        "",
        "Value at risk of the population by service segment (CNY):",
    ]
    by_segment = result.value_at_risk_by_segment
    width = max((len(s) for s in by_segment), default=0)
    lines += [f"  {s:<{width}}  {v:>16,.2f}" for s, v in by_segment.items()]
    if len(result.top):
        top = result.top[[c for c in _TOP_COLUMNS if c in result.top.columns]].copy()
        top["churn_probability"] = top["churn_probability"].map("{:.1%}".format)
        for column in ("clv", "value_at_risk", "saved_value"):
            if column in top.columns:
                top[column] = top[column].map("{:,.0f}".format)
        if "uplift" in top.columns:
            top["uplift"] = top["uplift"].map("{:+.1%}".format)
        lines += ["", "Top of the list:", top.to_string(index=False)]
    lines += _loop_lines(result.summary)
    if result.warnings:
        lines += ["", "Warnings:", *(f"  - {w}" for w in result.warnings)]
    return "\n".join(lines)


def _compare_lines(result: ScoreResult) -> list[str]:
    """Where the shadow comparison went (``--compare``)."""
    if not result.summary.get("compare"):
        return []
    table, summary = compare_paths(result.out)
    return [f"  compare: {table}", f"           {summary}"]


def _loop_lines(summary: dict[str, Any]) -> list[str]:
    """Control group, expected performance and challenger lines for the CLI text."""
    lines = []
    control = summary.get("control", {})
    if control.get("share"):
        held = sum(c["control"] for c in control["written_by_service_segment"].values())
        lines.append(
            f"Control group: {held:,} listed accounts (share {control['share']:g} of every "
            f"service segment, seed {control['seed']}) are NOT to be contacted."
        )
    expected = summary.get("expected_performance", {})
    if expected.get("roc_auc") is not None:
        lines.append(
            f"Expected before outcomes: ROC-AUC {expected['roc_auc']:.3f}, "
            f"{expected['churners']:,.1f} churners among the listed accounts."
        )
    compare = summary.get("compare")
    if compare:
        lines.append(
            f"Challenger ({compare['alias']}): rank Spearman {compare['rank_spearman']}, "
            f"top {compare['k']} overlap {compare['top_overlap'].get(str(compare['k']))}, "
            f"{compare['entering']} enter and {compare['leaving']} leave the top {compare['k']}."
        )
        for kind in compare.get("stand_in", []):
            used = compare["models"][kind]
            lines.append(
                f"  the {kind} model has no {compare['alias']!r}: its {used['alias']} "
                f"(version {used['version']}) stands in"
            )
    return [""] + lines if lines else []
