"""The training report: one self-contained HTML page per trained model (``report.html``).

What a reviewer looks at before trusting a model: the decision against the previous champion,
metrics against the baselines, calibration (churn) or value deciles (value), gains and lift,
feature importance, the SHAP summary, and the data the model saw (snapshot ranges, counts,
feature ranges, the data fingerprint). Plots are embedded as base64 PNG images; the page
loads nothing from elsewhere. Only aggregates are shown: no account ID or row-level data.
"""

from __future__ import annotations

import base64
import contextlib
import html
import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from valuemodel.models import plots, shap_values
from valuemodel.models.baselines import recency_score

__all__ = ["render_training_report"]

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
_CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,"Noto Sans SC",sans-serif;margin:0;
 background:#f4f6f8;color:#1d2733}
main{max-width:1120px;margin:0 auto;padding:24px 32px 48px}
header{background:#1d3557;color:#fff;padding:24px 32px}
header h1{margin:0 0 6px;font-size:26px} header p{margin:2px 0;opacity:.9}
h2{font-size:19px;margin:32px 0 10px;border-bottom:2px solid #d9dee5;padding-bottom:4px}
.note{color:#56606b;font-size:14px;margin:4px 0 10px}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin-top:16px}
.card{background:#fff;border-radius:8px;padding:12px 14px;min-width:150px;flex:1;
 box-shadow:0 1px 3px rgba(0,0,0,.08)}
.card .label{font-size:13px;color:#56606b} .card .value{font-size:26px;font-weight:600}
.card .sub{font-size:12px;color:#56606b}
.badge{display:inline-block;padding:3px 10px;border-radius:12px;font-weight:600;font-size:14px}
.promoted{background:#2a9d8f;color:#fff} .kept{background:#e9c46a;color:#1d2733}
figure{background:#fff;margin:8px 0 16px;padding:12px;border-radius:8px;text-align:center;
 box-shadow:0 1px 3px rgba(0,0,0,.08)}
figure img{max-width:100%;height:auto} figcaption{font-size:13px;color:#56606b;margin-top:6px}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:16px}
table{border-collapse:collapse;background:#fff;font-size:14px;margin:8px 0}
th,td{padding:5px 12px;border-bottom:1px solid #e3e7ec;text-align:right}
th:first-child,td:first-child{text-align:left} thead th{background:#eef1f5}
td.best{font-weight:700;color:#1b7f5f} table.facts td{text-align:left}
code{font-size:13px;word-break:break-all}
details summary{cursor:pointer;color:#1d3557;margin:8px 0}
"""


def render_training_report(
    model: Any,
    features: pd.DataFrame,
    actual: Any,
    *,
    decision: Mapping[str, Any] | None = None,
    figures: Mapping[str, Any] | None = None,
    title: str | None = None,
    max_shap_rows: int = 2000,
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
    computed on at most ``max_shap_rows`` validation rows (a seeded sample). ``holdout``:
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
    body = [
        _header(model, meta, decision, title),
        _metrics_section(model.kind, meta, decision, holdout or {}),
        _performance_section(model, features, actual, predicted, figures),
        _fairness_section(fairness, fairness_notes),
        _protected_section(protected or {}),
        _drivers_section(model, sample, shap, units, figures),
        _data_section(meta, features, actual, model.kind, shap_values.global_importance(shap)),
    ]
    return _page(title or _title(model), "\n".join(body))


# --- sections ------------------------------------------------------------------------------


def _title(model: Any) -> str:
    what = "Churn model" if model.kind == "churn" else "Value (CLV) model"
    return f"{what}: training report"


def _header(model: Any, meta: Mapping, decision: Mapping | None, title: str | None) -> str:
    horizon = meta.get("horizon_days", "?")
    target = (
        f"churn within {horizon} days ({meta.get('churn_definition', 'auto')} definition)"
        if model.kind == "churn"
        else f"revenue over the next {horizon} days"
    )
    lines = [
        f"<h1>{_e(title or _title(model))}</h1>",
        f"<p>Predicts {_e(target)}; trained as of {_e(meta.get('as_of', '?'))}; "
        f"model {_e(meta.get('structure', model.structure))}"
        + (f"; run <code>{_e(model.run_id)}</code>" if model.run_id else "")
        + "</p>",
    ]
    if decision:
        css = "promoted" if decision.get("promoted") else "kept"
        state = "promoted to champion" if decision.get("promoted") else "registered as challenger"
        lines.append(
            f'<p><span class="badge {css}">{_e(state)}</span> {_e(decision.get("reason", ""))}</p>'
        )
    return f"<header>{''.join(lines)}</header><main>"


def _metrics_section(
    kind: str, meta: Mapping, decision: Mapping | None, holdout: Mapping[str, float]
) -> str:
    metrics = meta.get("metrics", {}) or {}
    baselines = meta.get("baseline_metrics", {}) or {}
    cards = [_card(name, metrics.get(name), baselines) for name in _HEADLINE[kind]]
    if decision and decision.get("champion_score") is not None:
        cards.append(
            _box(
                f"previous champion v{decision.get('champion_version')}",
                _fmt(decision["champion_score"]),
                f"{_label(decision.get('metric', ''))} on the same "
                f"{'held-out accounts' if holdout else 'validation rows'} "
                f"(new: {_fmt(decision.get('new_score'))})",
            )
        )
    elif decision:
        cards.append(_box("previous champion", "none", "first model of this kind"))
    table = _metrics_table(metrics, baselines, decision, holdout)
    held = (
        " The model and the baselines are measured on the validation accounts the model was "
        "tuned on; <em>held out</em> and the champion on the other validation accounts, which "
        "neither tuning nor calibration saw."
        if holdout
        else ""
    )
    return (
        "<h2>Metrics against the baselines and the champion</h2>"
        '<p class="note">All on the out-of-time validation snapshots; the best value of each '
        f"row among the columns measured on the same rows is in bold green.{held}</p>"
        f'<div class="cards">{"".join(cards)}</div>{table}'
    )


def _card(name: str, value: Any, baselines: Mapping[str, Mapping]) -> str:
    best = [(b, v.get(name)) for b, v in baselines.items() if _finite(v.get(name))]
    sub = ", ".join(f"{b}: {_fmt(v)}" for b, v in best) or "no baseline"
    return _box(_label(name), _fmt(value), f"baselines: {sub}")


def _box(label: str, value: str, sub: str) -> str:
    return (
        f'<div class="card"><div class="label">{_e(label)}</div>'
        f'<div class="value">{_e(value)}</div><div class="sub">{_e(sub)}</div></div>'
    )


def _metrics_table(
    metrics: Mapping, baselines: Mapping, decision: Mapping | None, holdout: Mapping
) -> str:
    """Model, baselines and champion per metric; the best is marked among the columns
    measured on the same rows (the tuning half, and the held-out accounts when there are
    any: the champion is judged there)."""
    tuned = {"model": metrics, **{f"baseline: {b}": v for b, v in baselines.items()}}
    held = {"model, held out": holdout} if holdout else {}
    champion = decision.get("champion_score") if decision else None
    if champion is not None:
        (held if holdout else tuned)[f"champion v{decision.get('champion_version')}"] = {
            decision["metric"]: champion
        }
    groups = [g for g in (tuned, held) if g]
    head = "".join(f"<th>{_e(c)}</th>" for c in ["metric", *(c for g in groups for c in g)])
    rows = []
    for name in sorted(metrics, key=_metric_order):
        cells = ""
        for group in groups:
            values = [c.get(name) for c in group.values()]
            best = _best(name, values)
            cells += "".join(
                f'<td class="best">{_fmt(v)}</td>' if i == best else f"<td>{_fmt(v)}</td>"
                for i, v in enumerate(values)
            )
        rows.append(f"<tr><td>{_e(_label(name))}</td>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


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


def _performance_section(model, features, actual, predicted, figures: dict) -> str:
    parts = []
    if model.kind == "churn":
        fig = figures.get("calibration") or plots.calibration_curve(actual, {"model": predicted})
        parts.append(("Calibration", fig, "Predicted probability against the observed rate."))
        scores = {"model": predicted}
        with contextlib.suppress(ValueError):  # no recency feature: no recency baseline
            scores["recency rule"] = recency_score(features)
        gains = figures.get("gains") or plots.gains_lift(actual, scores)
        what = "churners"
    else:
        fig = plots.value_deciles(actual, predicted)
        parts.append(
            ("Value deciles", fig, "Accounts ranked by predicted value, ten equal groups.")
        )
        gains = figures.get("gains") or plots.gains_lift(actual, {"model": predicted}, "revenue")
        what = "revenue"
    parts.append(
        ("Gains and lift", gains, f"Share of {what} found by contacting the top accounts first.")
    )
    return "".join(f"<h2>{_e(h)}</h2>{_figure(f, c)}" for h, f, c in parts)


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


def _fairness_section(table: pd.DataFrame | None, notes: Sequence[str]) -> str:
    if table is None:
        return "".join(f'<p class="note">{_e(n)}</p>' for n in notes)
    rows = []
    for r in table.to_dict(orient="records"):
        name = f"{r['dimension'].replace('_', ' ')}: {r['group']}"
        if not r["scored"]:
            rows.append([name, f"{int(r['n']):,}", "too few rows: not scored"] + [""] * 10)
            continue
        rows.append([name] + [_fairness_cell(c, r[c]) for c in _FAIRNESS_COLUMNS])
    shown = "".join(f'<p class="note">{_e(n)}</p>' for n in notes)
    return (
        "<h2>Fairness: age bands and gender</h2>"
        '<p class="note">The same quality for every group: calibration (mean predicted against '
        "observed churn, ECE), ranking (ROC-AUC), and each group's share of the churners and "
        "lost value the top K of the list reaches, to compare with its share of the population "
        "and of the churners. Age is taken at the as-of date.</p>"
        + _table(["group", *_FAIRNESS_COLUMNS.values()], rows)
        + shown
    )


def _fairness_cell(column: str, value: Any) -> str:
    if column == "n":
        return f"{int(value):,}"
    if "share" in column or "capture" in column:
        return f"{float(value):.1%}" if _finite(value) else "-"
    return _fmt(value)


def _protected_section(protected: Mapping[str, Any]) -> str:
    if not protected:
        return ""
    names = {
        "roc_auc": "ROC-AUC",
        "normalized_gini": "normalized Gini",
        "churner_capture": "churners in the top K",
        "value_capture": "value in the top K",
    }
    rows = [
        [names.get(k, k), _fmt(protected["with"][k]), _fmt(v), _fmt(protected["cost"][k])]
        for k, v in protected["without"].items()
    ]
    return (
        f"<h2>Without {_e(', '.join(protected.get('excluded', [])))}</h2>"
        '<p class="note">This model was trained without the protected features. The same '
        "model fitted with them (same tuned parameters, no new search), on "
        f"{_e(protected.get('on', 'the same rows'))}; the top K is the top "
        f"{protected.get('top_share', 0.1):.0%}. Cost = with - without: what leaving them out "
        "loses (negative: it gains).</p>"
        + _table(["measure", "with them", "without (this model)", "cost"], rows)
    )


def _drivers_section(model, sample, shap, units: str, figures: dict) -> str:
    importance = figures.get("importance") or plots.feature_importance(model.booster)
    summary = plots.shap_summary(
        shap_values.explanation(model, sample, shap), title="SHAP summary", units=units
    )
    return (
        "<h2>What drives the model</h2>"
        '<p class="note">Left: total split gain per feature. Right: SHAP values on '
        f"{len(sample):,} validation accounts, in {_e(units)}; each dot is one account, red "
        "for a high feature value.</p>"
        f'<div class="pair">{_figure(importance, "Feature importance (gain)")}'
        f"{_figure(summary, 'SHAP summary (beeswarm)')}</div>"
    )


def _data_section(meta, features, actual, kind: str, importance: pd.Series) -> str:
    counts = meta.get("counts", {}) or {}
    rows = []
    for part in ("train", "valid"):
        dates = meta.get(f"{part}_dates") or []
        span = f"{dates[0]} .. {dates[-1]}" if dates else "?"
        rows.append(
            [
                "training" if part == "train" else "validation (out of time)",
                span,
                counts.get(f"{part}_snapshots", len(dates)),
                counts.get(f"{part}_rows", "?"),
                counts.get(f"{part}_accounts", "?"),
            ]
        )
    head = ["part", "snapshot dates", "snapshots", "rows", "accounts"]
    outcome = (
        f"churn rate {np.mean(actual):.1%}"
        if kind == "churn"
        else f"mean revenue {np.mean(actual):,.0f} CNY, {np.mean(actual > 0):.0%} with revenue"
    )
    facts = [
        ("gap rule", meta.get("gap_rule", "?")),
        ("history before the first snapshot (days)", meta.get("history_days", "?")),
        ("validation outcome", outcome),
        ("data fingerprint (SHA-256)", f"<code>{_e(meta.get('data_fingerprint', '?'))}</code>"),
    ]
    fact_rows = "".join(f"<tr><td>{_e(k)}</td><td>{_raw(v)}</td></tr>" for k, v in facts)
    return (
        "<h2>Data</h2>"
        + _table(head, rows)
        + f'<table class="facts"><tbody>{fact_rows}</tbody></table>'
        + "<details><summary>Feature ranges on the validation rows (by SHAP importance)"
        + "</summary>"
        + _feature_ranges(features, list(importance.index))
        + "</details></main>"
    )


def _feature_ranges(features: pd.DataFrame, order: list[str]) -> str:
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
    return _table(["feature", "missing", "1st percentile / top values", "median", "99th"], rows)


# --- HTML helpers --------------------------------------------------------------------------


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80, bbox_inches="tight", metadata={"Software": None})
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _figure(fig: Any, caption: str) -> str:
    return (
        f'<figure><img alt="{_e(caption)}" src="data:image/png;base64,{_png(fig)}">'
        f"<figcaption>{_e(caption)}</figcaption></figure>"
    )


def _table(head: list[str], rows: list[list[Any]]) -> str:
    th = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{_e(v)}</td>" for v in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head>\n<body>\n{body}\n</body></html>\n"
    )


def _sample(features: pd.DataFrame, rows: int, seed: int) -> pd.DataFrame:
    if len(features) <= rows:
        return features
    picked = np.sort(np.random.default_rng(seed).choice(len(features), rows, replace=False))
    return features.iloc[picked]


def _e(value: Any) -> str:
    return html.escape(str(value))


def _raw(value: Any) -> str:
    """Pre-built HTML (``<code>``) as is, anything else escaped."""
    return value if isinstance(value, str) and value.startswith("<code>") else _e(value)


def _label(name: str) -> str:
    return _METRIC_NAMES.get(name, name)


def _finite(value: Any) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _fmt(value: Any) -> str:
    if not _finite(value):
        return "-" if value is None else str(value)
    v = float(value)
    if v != 0 and (abs(v) >= 1e4 or abs(v) < 1e-3):
        return f"{v:,.0f}" if abs(v) >= 1e4 else f"{v:.2e}"
    return f"{v:.4f}" if abs(v) < 10 else f"{v:,.1f}"
