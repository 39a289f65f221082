"""What ``train`` returns, and its human summary for the command line."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from valuemodel.training.promotion import PROMOTION_METRIC
from valuemodel.training.uplift import summary_lines


@dataclass(frozen=True)
class ModelResult:
    """One trained model: its run, registry version and alias, the decision and its numbers.

    ``counts`` has ``train_rows``, ``train_accounts``, ``train_snapshots`` and the same for
    ``valid_`` (the validation accounts the model was tuned on) and ``holdout_`` (the held-out
    validation accounts that judged the promotion, when there were enough);
    ``baseline_metrics`` maps a baseline name to its metrics on the validation rows.
    ``holdout_metric`` and ``champion_metric`` are the new model's and the champion's
    promotion metric on the held-out accounts; ``holdout_metrics`` all of the new model's
    metrics there (empty when nothing was held out). ``metrics`` are measured on the
    validation accounts the model was tuned on, so they flatter it a little.

    ``fairness``: the churn model's per age band and gender rows
    (``valuemodel.models.fairness.group_table``); ``protected``: with ``exclude_protected``,
    the model with and without the protected features on the same rows (``with``,
    ``without``, ``cost`` = with - without, ``excluded``); ``warnings``: groups whose
    calibration gap exceeds the configured threshold; ``notes``: what the review measured on.
    """

    kind: str
    registered_model: str
    run_id: str
    version: str
    alias: str
    promoted: bool
    reason: str
    metrics: dict[str, float]
    baseline_metrics: dict[str, dict[str, float]]
    counts: dict[str, int]
    horizon_days: int
    structure: str
    train_dates: tuple[date, ...]
    valid_dates: tuple[date, ...]
    gap_rule: str
    params: dict[str, Any] = field(default_factory=dict)
    champion_metric: float | None = None
    holdout_metrics: dict[str, float] = field(default_factory=dict)
    fairness: tuple[dict[str, Any], ...] = ()
    protected: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def holdout_metric(self) -> float | None:
        """The promotion metric on the held-out accounts (None when none were held out)."""
        return self.holdout_metrics.get(PROMOTION_METRIC[self.kind])


@dataclass(frozen=True)
class TrainResult:
    """Both models of one training, with where they were logged and any notes."""

    as_of: date
    churn: ModelResult
    clv: ModelResult
    tracking_uri: str
    experiment: str
    data_fingerprint: str
    churn_definition: str
    notes: tuple[str, ...] = ()
    uplift: Any = None
    """The uplift model (``training.uplift.UpliftResult``), or why there is none; None when
    the data has no ``contacts`` table."""

    @property
    def models(self) -> tuple[ModelResult, ModelResult]:
        return (self.churn, self.clv)


_HEADLINE = {
    "churn": ("roc_auc", "pr_auc", "brier", "ece", "lift_top_decile", "capture_top_decile"),
    "clv": ("normalized_gini", "spearman", "decile_mape", "aggregate_error"),
}


def _fmt(value: Any) -> str:
    if isinstance(value, float) and value != value:  # undefined: a group without churners
        return "-"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _model_lines(m: ModelResult) -> list[str]:
    c = m.counts
    lines = [
        f"{m.registered_model} v{m.version} -> {m.alias}"
        f"{' (promoted)' if m.promoted else ' (not promoted)'}: {m.reason}",
        f"  model: {m.structure}, horizon {m.horizon_days} days, run {m.run_id}",
        f"  training:   {c['train_rows']} rows, {c['train_accounts']} accounts, "
        f"{c['train_snapshots']} snapshots {m.train_dates[0]}..{m.train_dates[-1]}",
        f"  validation: {c['valid_rows']} rows, {c['valid_accounts']} accounts, "
        f"{c['valid_snapshots']} snapshots {m.valid_dates[0]}..{m.valid_dates[-1]} "
        f"(gap rule {m.gap_rule})",
    ]
    if "holdout_rows" in c:
        lines.append(
            f"  held out:   {c['holdout_rows']} rows, {c['holdout_accounts']} accounts of the "
            "validation snapshots (they judge the promotion)"
        )
    held = m.holdout_metrics
    if held:
        lines.append(
            "  columns: model and baselines on the validation accounts the model was tuned "
            "on, held out on the others"
        )
    header = (
        "  "
        + f"{'metric':<20}"
        + f"{'model':>10}"
        + (f"{'held out':>10}" if held else "")
        + "".join(f"{b:>14}" for b in m.baseline_metrics)
    )
    lines.append(header)
    for name in _HEADLINE[m.kind]:
        row = f"  {name:<20}{_fmt(m.metrics.get(name, float('nan'))):>10}"
        if held:
            row += f"{_fmt(held.get(name, float('nan'))):>10}"
        row += "".join(f"{_fmt(b.get(name, '-')):>14}" for b in m.baseline_metrics.values())
        lines.append(row)
    return lines + _fairness_lines(m) + _protected_lines(m)


def _pct(value: Any) -> str:
    return "-" if value is None or value != value else f"{value:.0%}"


def _fairness_lines(m: ModelResult) -> list[str]:
    """The per-group table: calibration, ROC-AUC and the top K's share of churners."""
    if not m.fairness:
        return [f"  {n}" for n in m.notes] + [f"  WARNING: {w}" for w in m.warnings]
    lines = [
        "  fairness (predicted vs observed churn, ROC-AUC, share of the population and of the "
        "top K's churners):",
        f"  {'group':<20}{'n':>8}{'predicted':>11}{'observed':>10}{'roc_auc':>9}"
        f"{'population':>12}{'top K churners':>16}",
    ]
    for r in m.fairness:
        name = f"{r['dimension'].replace('_band', '')} {r['group']}"
        if not r["scored"]:
            lines.append(f"  {name:<20}{r['n']:>8}  (too few rows: not scored)")
            continue
        lines.append(
            f"  {name:<20}{r['n']:>8}{_fmt(r['mean_predicted']):>11}"
            f"{_fmt(r['observed_rate']):>10}{_fmt(r['roc_auc']):>9}"
            f"{_pct(r['population_share']):>12}{_pct(r['top_churner_share']):>16}"
        )
    return lines + [f"  {n}" for n in m.notes] + [f"  WARNING: {w}" for w in m.warnings]


def _protected_lines(m: ModelResult) -> list[str]:
    """Without the protected features against the same run with them."""
    p = m.protected
    if not p:
        return []
    parts = [f"{k} {_fmt(p['without'][k])} (with them {_fmt(p['with'][k])})" for k in p["without"]]
    return [f"  without {', '.join(p['excluded'])}: " + "; ".join(parts)]


def format_train_summary(result: TrainResult) -> str:
    """A plain-text summary of a training: per model the decision, counts and metrics."""
    lines = [
        f"Trained as of {result.as_of} (experiment {result.experiment!r}, "
        f"tracking {result.tracking_uri})"
    ]
    for m in result.models:
        lines += [""] + _model_lines(m)
    lines += summary_lines(result.uplift)
    if result.notes:
        lines += ["", "Notes:"] + [f"  - {n}" for n in result.notes]
    return "\n".join(lines)
