"""The training report: one self-contained HTML page per trained model (``report.html``).

What a reviewer looks at before trusting a model: the decision against the previous champion,
metrics against the baselines, calibration (churn) or value deciles (value), gains and lift,
feature importance, the SHAP summary, and the data the model saw (snapshot ranges, counts,
feature ranges, the data fingerprint). Plots are embedded as base64 PNG images; the page
loads nothing from elsewhere. Only aggregates are shown: no account ID or row-level data.

The page is the Jinja2 template ``templates/training_report.html``, shipped with the package and
rendered with autoescaping on: this module gathers the numbers and figures as plain values, the
template holds the markup and the prose, and no value reaches the page unescaped.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

import jinja2
import numpy as np
import pandas as pd

from valuemodel.models import plots, shap_values
from valuemodel.models.baselines import recency_score

__all__ = ["render_training_report"]

_TEMPLATE = "training_report.html"
_HIGHER_IS_BETTER = {"brier": False, "ece": False, "decile_mape": False}
_HEADLINE = {
    "churn": ("roc_auc", "pr_auc", "lift_top_decile", "brier"),
    "clv": ("normalized_gini", "spearman", "decile_mape", "aggregate_error"),
}
_METRIC_NAMES = {
    "roc_auc": "ROC-AUC",
    "pr_auc": "PR-AUC",
    "brier": "Brier score (cross-fitted)",
    "ece": "expected calibration error (cross-fitted)",
    "lift_top_decile": "lift in the top decile",
    "capture_top_decile": "share of churners in the top decile",
    "normalized_gini": "normalized Gini",
    "spearman": "Spearman rank correlation",
    "decile_mape": "decile MAPE",
    "aggregate_error": "error of the total",
}
_FAIRNESS_COLUMNS = {
    "n": "rows",
    "population_share": "share of population",
    "mean_predicted": "mean predicted",
    "observed_rate": "observed churn",
    "calibration_gap": "gap",
    "ece": "ECE",
    "roc_auc": "ROC-AUC",
    "churner_share": "share of churners",
    "top_churner_share": "share of top K churners",
    "top_lost_value_share": "share of top K lost value",
    "churner_capture": "own churners in top K",
    "lost_value_capture": "own lost value in top K",
}
_PROTECTED_NAMES = {
    "roc_auc": "ROC-AUC",
    "normalized_gini": "normalized Gini",
    "churner_capture": "churners in the top K",
    "value_capture": "value in the top K",
}


def render_training_report(
    model: Any,
    features: pd.DataFrame,
    actual: Any,
    *,
    decision: Mapping[str, Any] | None = None,
    figures: Mapping[str, Any] | None = None,
    title: str | None = None,
    max_shap_rows: int = 500,
    seed: int = 7,
    holdout: Mapping[str, float] | None = None,
    fairness: pd.DataFrame | None = None,
    protected: Mapping[str, Any] | None = None,
    fairness_notes: Sequence[str] = (),
) -> str:
    """The HTML training report of one model, as a string (the caller writes or logs it).

    ``model``: the trained ``LoadedModel`` (``load_bundle`` of the folder just saved; its
    ``metadata`` gives metrics, baseline metrics, counts, snapshot dates, gap rule, churn
    definition and data fingerprint); ``features`` and ``actual``: the out-of-time validation
    part (``Part.features``, ``Part.y``); ``decision``: the promotion decision
    (``Decision.to_dict()``: ``promoted``, ``alias``, ``reason``, ``metric``, ``new_score``,
    ``champion_version``, ``champion_score``); ``figures``: figures already made by training
    (``calibration``, ``gains``, ``importance``), drawn here when absent. SHAP values are
    computed on at most ``max_shap_rows`` validation rows (a seeded sample: TreeSHAP costs
    rows x trees x leaves, and 2,000 rows of a 474-tree value model took 36 s, 500 rows draw
    the same summary in a quarter of it). ``holdout``:
    the model's metrics on the held-out validation accounts, shown next to the others.
    ``fairness``: the per age band and gender table (``models.fairness.group_table``), with
    ``fairness_notes`` (warnings first) under it; ``protected``: the model with and without
    the protected features (``with``, ``without``, ``cost``, ``excluded``, ``on``).
    """
    actual = np.asarray(actual, dtype=float)
    if len(actual) != len(features) or len(actual) == 0:
        raise ValueError(
            f"features and actual must describe the same validation rows: got {len(features)} "
            f"feature rows and {len(actual)} labels"
        )
    meta = model.metadata
    figures = dict(figures or {})
    predicted = np.asarray(model.predict(features), dtype=float)
    sample = _sample(features, max_shap_rows, seed)
    shap = shap_values.shap_frame(model, sample)
    units = shap_values.shap_units(model)
    importance = shap_values.global_importance(shap)
    return _template().render(
        title=title or _title(model),
        header=_header(model, meta, decision),
        metrics=_metrics(model.kind, meta, decision, holdout or {}),
        performance=_performance(model, features, actual, predicted, figures),
        fairness=_fairness(fairness, fairness_notes),
        protected=_protected(protected or {}),
        drivers=_drivers(model, sample, shap, units, figures),
        data=_data(meta, features, actual, model.kind, list(importance.index)),
    )


@functools.cache
def _template() -> jinja2.Template:
    """The page template from the package data, loaded once (autoescaping on; a value the
    template names but the page lacks is an error, not an empty cell)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("valuemodel.training", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    return env.get_template(_TEMPLATE)


# --- sections: plain values for the template -----------------------------------------------


def _title(model: Any) -> str:
    what = "Churn model" if model.kind == "churn" else "Value (CLV) model"
    return f"{what}: training report"


def _header(model: Any, meta: Mapping, decision: Mapping | None) -> dict[str, Any]:
    """What the model predicts, when and how it was trained, and the promotion decision."""
    horizon = meta.get("horizon_days", "?")
    target = (
        f"churn within {horizon} days ({meta.get('churn_definition', 'auto')} definition)"
        if model.kind == "churn"
        else f"revenue over the next {horizon} days"
    )
    shown = None
    if decision:
        promoted = bool(decision.get("promoted"))
        shown = {
            "css": "promoted" if promoted else "kept",
            "state": "promoted to champion" if promoted else "registered as challenger",
            "reason": decision.get("reason", ""),
        }
    return {
        "target": target,
        "as_of": meta.get("as_of", "?"),
        "structure": meta.get("structure", model.structure),
        "run_id": model.run_id,
        "decision": shown,
    }


def _metrics(
    kind: str, meta: Mapping, decision: Mapping | None, holdout: Mapping[str, float]
) -> dict[str, Any]:
    """The headline cards and the table of model, baselines and champion per metric."""
    metrics = meta.get("metrics", {}) or {}
    baselines = meta.get("baseline_metrics", {}) or {}
    cards = [_card(name, metrics.get(name), baselines) for name in _HEADLINE[kind]]
    if decision and decision.get("champion_score") is not None:
        rows = "held-out accounts" if holdout else "validation rows"
        cards.append(
            {
                "label": f"previous champion v{decision.get('champion_version')}",
                "value": _fmt(decision["champion_score"]),
                "sub": f"{_label(decision.get('metric', ''))} on the same {rows} "
                f"(new: {_fmt(decision.get('new_score'))})",
            }
        )
    elif decision:
        cards.append(
            {"label": "previous champion", "value": "none", "sub": "first model of this kind"}
        )
    return {"cards": cards, "held_out": bool(holdout)} | _metrics_table(
        metrics, baselines, decision, holdout
    )


def _card(name: str, value: Any, baselines: Mapping[str, Mapping]) -> dict[str, str]:
    best = [(b, v.get(name)) for b, v in baselines.items() if _finite(v.get(name))]
    sub = ", ".join(f"{b}: {_fmt(v)}" for b, v in best) or "no baseline"
    return {"label": _label(name), "value": _fmt(value), "sub": f"baselines: {sub}"}


def _metrics_table(
    metrics: Mapping, baselines: Mapping, decision: Mapping | None, holdout: Mapping
) -> dict[str, Any]:
    """Model, baselines and champion per metric (``head``, ``rows`` of ``label`` and ``cells``
    of ``text`` and ``best``); the best is marked among the columns measured on the same rows
    (the tuning half, and the held-out accounts when there are any: the champion is judged
    there)."""
    tuned = {"model": metrics, **{f"baseline: {b}": v for b, v in baselines.items()}}
    held = {"model, held out": holdout} if holdout else {}
    champion = decision.get("champion_score") if decision else None
    if champion is not None:
        (held if holdout else tuned)[f"champion v{decision.get('champion_version')}"] = {
            decision["metric"]: champion
        }
    groups = [g for g in (tuned, held) if g]
    rows = []
    for name in sorted(metrics, key=_metric_order):
        cells = []
        for group in groups:
            values = [column.get(name) for column in group.values()]
            best = _best(name, values)
            cells += [{"text": _fmt(v), "best": i == best} for i, v in enumerate(values)]
        rows.append({"label": _label(name), "cells": cells})
    return {"head": ["metric", *(c for g in groups for c in g)], "rows": rows}


def _metric_order(name: str) -> tuple[int, str]:
    known = list(_METRIC_NAMES)
    return (known.index(name) if name in known else len(known), name)


def _best(name: str, values: list[Any]) -> int | None:
    scored = [(i, float(v)) for i, v in enumerate(values) if _finite(v)]
    if len(scored) < 2:
        return None
    if name == "aggregate_error":
        return min(scored, key=lambda t: abs(t[1]))[0]
    higher = _HIGHER_IS_BETTER.get(name, True)
    return (max if higher else min)(scored, key=lambda t: t[1])[0]


def _performance(model, features, actual, predicted, figures: dict) -> list[dict[str, str]]:
    """Calibration (churn) or value deciles (value), then gains and lift: ``heading``,
    ``png``, ``caption`` each."""
    if model.kind == "churn":
        fig = figures.get("calibration") or plots.calibration_curve(actual, {"model": predicted})
        parts = [("Calibration", fig, "Predicted probability against the observed rate.")]
        scores = {"model": predicted}
        with contextlib.suppress(ValueError):  # no recency feature: no recency baseline
            scores["recency rule"] = recency_score(features)
        gains = figures.get("gains") or plots.gains_lift(actual, scores)
        what = "churners"
    else:
        fig = plots.value_deciles(actual, predicted)
        parts = [("Value deciles", fig, "Accounts ranked by predicted value, ten equal groups.")]
        gains = figures.get("gains") or plots.gains_lift(actual, {"model": predicted}, "revenue")
        what = "revenue"
    parts.append(
        ("Gains and lift", gains, f"Share of {what} found by contacting the top accounts first.")
    )
    return [{"heading": h, "png": _png(f), "caption": c} for h, f, c in parts]


def _fairness(table: pd.DataFrame | None, notes: Sequence[str]) -> dict[str, Any]:
    """The per-group table (``None`` without one) and the notes shown under it."""
    if table is None:
        return {"table": None, "notes": list(notes)}
    rows = []
    for r in table.to_dict(orient="records"):
        name = f"{r['dimension'].replace('_', ' ')}: {r['group']}"
        if not r["scored"]:
            rows.append([name, f"{int(r['n']):,}", "too few rows: not scored"] + [""] * 10)
            continue
        rows.append([name] + [_fairness_cell(c, r[c]) for c in _FAIRNESS_COLUMNS])
    head = ["group", *_FAIRNESS_COLUMNS.values()]
    return {"table": {"head": head, "rows": rows}, "notes": list(notes)}


def _fairness_cell(column: str, value: Any) -> str:
    if column == "n":
        return f"{int(value):,}"
    if "share" in column or "capture" in column:
        return f"{float(value):.1%}" if _finite(value) else "-"
    return _fmt(value)


def _protected(protected: Mapping[str, Any]) -> dict[str, Any] | None:
    """The model with and without the protected features (``None`` when not compared)."""
    if not protected:
        return None
    rows = [
        [
            _PROTECTED_NAMES.get(k, k),
            _fmt(protected["with"][k]),
            _fmt(v),
            _fmt(protected["cost"][k]),
        ]
        for k, v in protected["without"].items()
    ]
    return {
        "excluded": ", ".join(protected.get("excluded", [])),
        "on": protected.get("on", "the same rows"),
        "top_share": f"{protected.get('top_share', 0.1):.0%}",
        "head": ["measure", "with them", "without (this model)", "cost"],
        "rows": rows,
    }


def _drivers(model, sample, shap, units: str, figures: dict) -> dict[str, str]:
    """Feature importance and the SHAP summary, as PNG, with the sample size and units."""
    importance = figures.get("importance") or plots.feature_importance(model.booster)
    summary = plots.shap_summary(
        shap_values.explanation(model, sample, shap), title="SHAP summary", units=units
    )
    return {
        "importance": _png(importance),
        "summary": _png(summary),
        "accounts": f"{len(sample):,}",
        "units": units,
    }


def _data(meta, features, actual, kind: str, order: list[str]) -> dict[str, Any]:
    """Snapshot ranges and counts per part, facts about the data, and the feature ranges
    (features in ``order``)."""
    counts = meta.get("counts", {}) or {}
    parts = []
    for part in ("train", "valid"):
        dates = meta.get(f"{part}_dates") or []
        parts.append(
            [
                "training" if part == "train" else "validation (out of time)",
                f"{dates[0]} .. {dates[-1]}" if dates else "?",
                counts.get(f"{part}_snapshots", len(dates)),
                counts.get(f"{part}_rows", "?"),
                counts.get(f"{part}_accounts", "?"),
            ]
        )
    outcome = (
        f"churn rate {np.mean(actual):.1%}"
        if kind == "churn"
        else f"mean revenue {np.mean(actual):,.0f} CNY, {np.mean(actual > 0):.0%} with revenue"
    )
    return {
        "parts": {
            "head": ["part", "snapshot dates", "snapshots", "rows", "accounts"],
            "rows": parts,
        },
        "facts": [
            ("gap rule", meta.get("gap_rule", "?")),
            ("history before the first snapshot (days)", meta.get("history_days", "?")),
            ("validation outcome", outcome),
        ],
        "fingerprint": meta.get("data_fingerprint", "?"),
        "ranges": _feature_ranges(features, order),
    }


def _feature_ranges(features: pd.DataFrame, order: list[str]) -> dict[str, Any]:
    """Missing share and 1st / 50th / 99th percentiles per numeric feature; the three most
    frequent values (with their shares) per categorical one."""
    rows = []
    for name in order:
        col = features[name]
        missing = f"{col.isna().mean():.0%}"
        if isinstance(col.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(col):
            top = col.astype("object").dropna().value_counts().head(3)
            shown = ", ".join(f"{k} {v / max(len(col), 1):.0%}" for k, v in top.items())
            rows.append([name, missing, shown or "-", "", ""])
            continue
        values = col.to_numpy(dtype=float, na_value=np.nan)
        values = values[np.isfinite(values)]
        q = np.quantile(values, [0.01, 0.5, 0.99]) if len(values) else [None] * 3
        rows.append([name, missing, *(_fmt(v) for v in q)])
    head = ["feature", "missing", "1st percentile / top values", "median", "99th"]
    return {"head": head, "rows": rows}


# --- values --------------------------------------------------------------------------------


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80, bbox_inches="tight", metadata={"Software": None})
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _sample(features: pd.DataFrame, rows: int, seed: int) -> pd.DataFrame:
    if len(features) <= rows:
        return features
    picked = np.sort(np.random.default_rng(seed).choice(len(features), rows, replace=False))
    return features.iloc[picked]


def _label(name: str) -> str:
    return _METRIC_NAMES.get(name, name)


def _finite(value: Any) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _fmt(value: Any) -> str:
    if not _finite(value):  # NaN: undefined, e.g. ROC-AUC of a group without churners
        return "-" if value is None or isinstance(value, float | int) else str(value)
    v = float(value)
    if v != 0 and (abs(v) >= 1e4 or abs(v) < 1e-3):
        return f"{v:,.0f}" if abs(v) >= 1e4 else f"{v:.2e}"
    return f"{v:.4f}" if abs(v) < 10 else f"{v:,.1f}"
