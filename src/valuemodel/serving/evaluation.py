"""Did the list work? A past ranked list judged by what happened after its as-of date.

:func:`evaluate` reads a list written by ``score`` and its summary, computes the outcomes with
the training label definitions (:mod:`valuemodel.serving.outcomes`) and writes, atomically,
into ``out``:

- ``evaluation.json``: nested objects (``churn.roc_auc`` is ``{"churn": {"roc_auc": ...}}``):
  ``as_of``, ``data_end``, ``models``, ``horizons`` (each window, its end and whether it is
  complete), ``churn`` (``n``, ``churners``, ``roc_auc``, ``pr_auc``, ``ece``, ``brier``,
  ``reliability``, ``top``: churners and lost value captured in the first K rows of the list),
  ``value`` (``n``, ``spearman``, ``normalized_gini``, ``deciles``; ``complete`` false and
  null metrics while the value window is open), ``by`` (the same per service segment, asset
  tier and manager), ``estimate`` (the expected performance recorded at scoring time beside the
  realised one), ``control`` (treated vs control, :mod:`valuemodel.serving.control`) and
  ``challenger`` (when the list was scored with ``--compare``: both models on the control
  accounts only, ``basis`` and ``n`` saying so, or no verdict without a control group;
  :mod:`valuemodel.serving.challenger`);
- ``evaluation.html``: the same as a self-contained page with plots.

"Lost value" is the predicted ``clv`` of the accounts that churned: the revenue the list put
at stake, since what a churned account would have earned is never observed. Model metrics are
over every listed account with an outcome, contacted or not: contacting those at the top of the
list lowers their churn, so the control group's own metrics (``control.model``) are the ones no
contact touched.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from valuemodel.errors import InputError
from valuemodel.features.labels import label_ends
from valuemodel.models import metrics as m
from valuemodel.serving.challenger import challenger_section
from valuemodel.serving.control import (
    AS_TREATED,
    INTENT_TO_TREAT,
    adjust_verdicts,
    compare_groups,
)
from valuemodel.serving.estimation import estimate_section, top_sizes
from valuemodel.serving.fairness import fairness_section
from valuemodel.serving.outcomes import (
    PastList,
    churn_definition,
    label_horizons,
    outcomes,
    read_contacted,
    read_list,
)
from valuemodel.serving.uplift_evaluation import uplift_lines, uplift_section

GROUPS = ("service_segment", "asset_tier", "manager_id")
BINS = 10
MONITORING_EXPERIMENT = "valuemodel-monitoring"


@dataclass(frozen=True)
class EvaluationResult:
    """What ``evaluate`` wrote: the two files and the evaluation as a dict."""

    json_path: Path
    html_path: Path
    evaluation: dict[str, Any]


def churn_block(y: Any, proba: Any, clv: Any) -> dict[str, Any]:
    """Churn metrics of rows in list order: ``y`` 0/1 outcome, ``proba``, ``clv`` predicted."""
    y, p, v = (np.asarray(a, dtype=float) for a in (y, proba, clv))
    n = len(y)
    out: dict[str, Any] = {"n": n, "churners": int(y.sum()) if n else 0}
    if not n:
        return out | {k: None for k in ("churn_rate", "roc_auc", "pr_auc", "ece", "brier")}
    out |= {
        "churn_rate": _num(y.mean()),
        "roc_auc": _num(m.roc_auc(y, p)),
        "pr_auc": _num(m.pr_auc(y, p)),
        "ece": _num(m.expected_calibration_error(y, p, BINS)),
        "brier": _num(m.brier(y, p)),
        "reliability": reliability(y, p),
        "top": captured(y, p, v),
    }
    return out


def reliability(y: np.ndarray, p: np.ndarray, bins: int = BINS) -> list[dict[str, Any]]:
    """The reliability table: per equal-width probability bin with rows, ``predicted`` (mean
    probability) against ``observed`` (churn rate); the bins ``expected_calibration_error``
    uses."""
    table = m.calibration_bins(y, p, bins)
    return [
        {
            "bin": f"{row.lower:.1f}-{row.upper:.1f}",
            "n": int(row.n),
            "predicted": _num(row.predicted),
            "observed": _num(row.observed),
        }
        for row in table.itertuples(index=False)
    ]


def captured(y: np.ndarray, p: np.ndarray, clv: np.ndarray) -> list[dict[str, Any]]:
    """For the first K rows of the list (K at 5, 10, 20, 50 % of it): churners expected (sum of
    probabilities) and found, their share of all churners, and the lost value captured."""
    lost = clv * y
    rows = []
    for k in top_sizes(len(y)):
        rows.append(
            {
                "k": int(k),
                "expected_churners": _num(p[:k].sum()),
                "churners": int(y[:k].sum()),
                "churner_share": _ratio(y[:k].sum(), y.sum()),
                "lost_value": _num(lost[:k].sum()),
                "lost_value_share": _ratio(lost[:k].sum(), lost.sum()),
            }
        )
    return rows


def value_block(actual: Any, predicted: Any) -> dict[str, Any]:
    """Value metrics: Spearman, normalized Gini, and predicted vs realised by decile."""
    a, p = np.asarray(actual, float), np.asarray(predicted, float)
    if not len(a):
        return {"n": 0, "spearman": None, "normalized_gini": None, "deciles": []}
    order = np.argsort(-p, kind="stable")
    deciles = [
        {
            "decile": i + 1,
            "n": int(len(part)),
            "predicted": _num(p[part].sum()),
            "realised": _num(a[part].sum()),
        }
        for i, part in enumerate(np.array_split(order, 10))
        if len(part)
    ]
    return {
        "n": int(len(a)),
        "spearman": _num(m.spearman(a, p)),
        "normalized_gini": _num(m.normalized_gini(a, p)),
        "aggregate_error": _num(m.aggregate_error(a, p)),
        "deciles": deciles,
    }


def _num(value: Any) -> float | None:
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else round(value, 6)


def _ratio(part: float, whole: float) -> float | None:
    return _num(part / whole) if whole > 0 else None


def judge(frame: pd.DataFrame, value_complete: bool) -> dict[str, Any]:
    """Churn and value blocks of one set of rows (``frame`` in list order, with ``churn``,
    ``value``, ``churn_probability``, ``clv``)."""
    known = frame[frame["churn"].notna()]
    out = {"churn": churn_block(known["churn"], known["churn_probability"], known["clv"])}
    if value_complete:
        valued = frame[frame["value"].notna()]
        out["value"] = value_block(valued["value"], valued["clv"])
    else:
        out["value"] = {"n": 0, "spearman": None, "normalized_gini": None, "deciles": []}
    return out


def by_group(frame: pd.DataFrame, value_complete: bool) -> dict[str, Any]:
    """Per service segment, asset tier and manager: the churn and value headline numbers."""
    out: dict[str, Any] = {}
    for column in GROUPS:
        if column not in frame.columns or frame[column].isna().all():
            continue
        keys = frame[column].astype("object").fillna("(none)").astype(str)
        out[column] = {}
        for key, rows in frame.groupby(keys, sort=True):
            judged = judge(rows, value_complete)
            c, v = judged["churn"], judged["value"]
            out[column][str(key)] = {
                "n": c["n"],
                "churners": c["churners"],
                "churn_rate": c.get("churn_rate"),
                "roc_auc": c.get("roc_auc"),
                "pr_auc": c.get("pr_auc"),
                "ece": c.get("ece"),
                "value_spearman": v["spearman"],
            }
    return out


def control_section(
    frame: pd.DataFrame, contacted: set[str] | None, value_complete: bool
) -> dict[str, Any]:
    """Treated vs control overall, per service segment and per recommended action.

    Intent to treat (default): treated = listed accounts not in the control group. As treated
    (``contacted`` given): treated = accounts actually contacted, against control accounts not
    contacted; listed accounts neither contacted nor control are left out.
    """
    if "control" not in frame.columns or not frame["control"].any():
        return {
            "present": False,
            "note": "the list has no control group (score it with --control-share S)",
        }
    frame = frame[frame["churn"].notna()]
    held = frame["control"].astype(bool)
    if contacted is None:
        analysis, treated, kept = "intent to treat", ~held, pd.Series(True, index=frame.index)
        label = INTENT_TO_TREAT
    else:
        reached = frame["account_id"].isin(contacted)
        analysis, treated, kept = "as treated", reached, reached | held
        label = AS_TREATED
    rows = frame[kept].assign(treated=treated[kept])
    if "service_segment" in rows.columns:
        rows = rows.assign(stratum=rows["service_segment"].astype("object").fillna("(none)"))
    out: dict[str, Any] = {
        "present": True,
        "analysis": analysis,
        "treated_group": label,
        "overall": compare_groups(rows, treated=label),
        "model": judge(frame[held], value_complete),
    }
    if contacted is not None:
        out["contacted_control_accounts"] = int((held & frame["account_id"].isin(contacted)).sum())
        out["listed_not_contacted"] = int((~kept).sum())
    for column in ("service_segment", "recommended_action"):
        if column in rows.columns:
            keys = rows[column].astype("object").fillna("(none)").astype(str)
            groups = {
                str(k): compare_groups(part, treated=label)
                for k, part in rows.groupby(keys, sort=True)
            }
            out[f"by_{column}"] = adjust_verdicts(groups, treated=label)
    return out


def _check_dates(past: PastList, end: date | None, horizons) -> None:
    if end is None or end <= past.as_of:
        raise InputError(
            f"the data ends {end} and does not run past the list's as-of date {past.as_of}: "
            "nothing has happened yet to evaluate"
        )
    churn = horizons["churn"]
    if not churn.complete and churn.until <= end and churn.lagging:
        raise InputError(
            f"the {churn.table} table ends {churn.table_end}, before the end of the list's "
            f"{churn.days}-day churn window {churn.until} (as of {past.as_of}), though other "
            f"tables run through {end}: the churn outcome reads {churn.table}, so it is "
            f"complete only once {churn.table} runs through {churn.until}"
        )
    if not horizons["churn"].complete:
        raise InputError(
            f"the data ends {end}: the {horizons['churn'].days}-day churn window of the list "
            f"(as of {past.as_of}) is complete only with data through {horizons['churn'].until}"
        )


def evaluate(
    list_path: str | Path,
    data: Any,
    out_dir: str | Path,
    *,
    contacted: str | Path | None = None,
) -> EvaluationResult:
    """Judge the list at ``list_path`` by what happened in ``data`` (a ``DataSet``, validated
    by the caller) and write ``evaluation.json`` and ``evaluation.html`` into ``out_dir``.

    Raises ``InputError`` for a bad list or summary, data that does not run past the as-of
    date or does not yet cover the churn horizon, or a list with no account in the population.
    """
    past = read_list(list_path)
    reached = read_contacted(contacted) if contacted is not None else None
    end = data.end_date()
    definition, note = churn_definition(past.summary)
    notes = [note] if note else []
    tables = label_ends(data, definition, end) if end else None
    horizons = label_horizons(past.summary, past.as_of, end, tables) if end else None
    _check_dates(past, end, horizons)
    population = outcomes(data, past.as_of, horizons, definition, end)
    frame = past.frame.merge(population, on="account_id", how="left")
    evaluation = assemble(past, frame, horizons, definition, end, reached, notes)
    evaluation["challenger"] = challenger_section(
        past, population, horizons["value"].complete, judge
    )
    evaluation["fairness"] = fairness_section(frame, _people(data, past.as_of), past.as_of)
    evaluation["uplift"] = uplift_section(frame, horizons["value"].complete)
    evaluation["uplift.qini"] = evaluation["uplift"].get("qini")
    # the fingerprint covers whole files: data added after T makes it differ, as expected
    evaluation["same_files_as_scored"] = data.fingerprint(past.as_of) == past.summary.get(
        "data_fingerprint"
    )
    # The headline numbers also under their dotted names (``churn.roc_auc``), for readers
    # that look them up flat; the nested sections hold the same values.
    for section, key in (("churn", "roc_auc"), ("churn", "ece"), ("churn", "n")):
        evaluation[f"{section}.{key}"] = evaluation[section].get(key)
    evaluation["value.spearman"] = (evaluation.get("value") or {}).get("spearman")
    from valuemodel.serving.evaluation_report import write_evaluation

    json_path, html_path = write_evaluation(evaluation, Path(out_dir))
    return EvaluationResult(json_path, html_path, evaluation)


def _people(data: Any, as_of: date) -> pd.DataFrame | None:
    """``account_id``, ``birth_year``, ``gender`` as known at ``as_of`` (None without them)."""
    if not data.has("accounts"):
        return None
    from valuemodel import engine

    table = data.until(as_of).table("accounts")
    return engine.execute(table.select("account_id", "birth_year", "gender"))


def assemble(
    past: PastList,
    frame: pd.DataFrame,
    horizons,
    definition: str,
    end: date,
    contacted: set[str] | None,
    notes: list[str],
) -> dict[str, Any]:
    """The evaluation document (see the module docstring) from the list joined to outcomes."""
    matched = int(frame["churn"].notna().sum())
    if matched == 0:
        raise InputError(
            f"--list {past.path}: none of its {len(frame):,} accounts is in the population at "
            f"{past.as_of} in this data (is it the data the list was scored on?)"
        )
    value_complete = horizons["value"].complete
    value = horizons["value"]
    if not value_complete and value.until <= end and value.lagging:
        notes.append(
            f"the {value.table} table ends {value.table_end}, before the end of the "
            f"{value.days}-day value window {value.until}: the value outcome reads "
            f"{value.table}, so value metrics are left empty"
        )
    elif not value_complete:
        notes.append(
            f"the {value.days}-day value window is not complete yet (needs data "
            f"through {value.until}): value metrics are left empty"
        )
    if 2 * matched < len(frame):
        raise InputError(
            f"--list {past.path}: only {matched:,} of its {len(frame):,} accounts have an "
            f"outcome in this data (fewer than half; the others are not in the population at "
            f"{past.as_of} here): numbers on so few would not describe the list (is it the "
            "data the list was scored on?)"
        )
    if matched < len(frame):
        notes.append(f"{len(frame) - matched:,} listed accounts have no outcome in this data")
    judged = judge(frame, value_complete)
    return {
        "list": str(past.path),
        "as_of": past.as_of.isoformat(),
        "data_end": end.isoformat(),
        "churn_definition": definition,
        "models": past.summary.get("models", {}),
        "horizons": {name: h.to_dict() for name, h in horizons.items()},
        "accounts": {"listed": int(len(frame)), "with_outcome": matched},
        **judged,
        "by": by_group(frame[frame["churn"].notna()], value_complete),
        "estimate": estimate_section(past.summary, frame),
        "control": control_section(frame, contacted, value_complete),
        "challenger": None,
        "notes": notes,
    }


def monitoring_metrics(evaluation: dict[str, Any]) -> dict[str, float]:
    """The headline numbers as flat MLflow metric names (``churn.roc_auc``, ...)."""
    out = {}
    for section, keys in (
        ("churn", ("roc_auc", "pr_auc", "ece", "brier", "churn_rate", "n", "churners")),
        ("value", ("spearman", "normalized_gini", "aggregate_error")),
    ):
        for key in keys:
            value = evaluation.get(section, {}).get(key)
            if value is not None:
                out[f"{section}.{key}"] = float(value)
    overall = (evaluation.get("control") or {}).get("overall") or {}
    diff = (overall.get("churn_rate") or {}).get("difference")
    if diff is not None:
        out["control.churn_rate_difference"] = float(diff)
    return out


def log_evaluation(
    evaluation: dict[str, Any], html: str, tracking_uri: str | None = None
) -> tuple[str, str]:
    """Log a monitoring run (experiment ``valuemodel-monitoring``) tagged with the model
    versions; returns (tracking URI, run id). Only aggregates are logged, no account id."""
    from valuemodel.models.tracking import Tracker

    tracker = Tracker(tracking_uri)
    models = evaluation.get("models", {})
    tags = {
        "valuemodel.kind": "monitoring",
        "as_of": evaluation["as_of"],
        **{f"{k}_model_version": str(v.get("version", "")) for k, v in models.items()},
        **{f"{k}_model_alias": str(v.get("alias", "")) for k, v in models.items()},
    }
    run_id = tracker.start_run(MONITORING_EXPERIMENT, f"evaluate {evaluation['as_of']}", tags)
    try:
        params = {
            "as_of": evaluation["as_of"],
            "data_end": evaluation["data_end"],
            "churn_definition": evaluation["churn_definition"],
            **{f"horizon.{k}": v["days"] for k, v in evaluation["horizons"].items()},
        }
        document = {k: v for k, v in evaluation.items() if k != "list"}
        tracker.log(
            run_id,
            params=params,
            metrics=monitoring_metrics(evaluation),
            documents={"evaluation.json": document},
            texts={"evaluation.html": html},
        )
    except Exception:
        tracker.finish(run_id, "FAILED")
        raise
    tracker.finish(run_id)
    return tracker.uri, run_id


def format_evaluation(result: EvaluationResult) -> str:
    """Text for the CLI: the headline numbers, horizons, control verdict and where it went."""
    e = result.evaluation
    c, v = e["churn"], e["value"]

    def f(x: Any) -> str:
        return "-" if x is None else f"{x:.3f}"

    lines = [
        f"Evaluated the list as of {e['as_of']} on data through {e['data_end']} "
        f"({e['accounts']['with_outcome']:,} of {e['accounts']['listed']:,} accounts with an "
        "outcome).",
        f"  churn: ROC-AUC {f(c['roc_auc'])}, PR-AUC {f(c['pr_auc'])}, ECE {f(c['ece'])}, "
        f"{c['churners']:,} churners of {c['n']:,}",
        f"  value: Spearman {f(v['spearman'])}",
    ]
    for name, h in e["horizons"].items():
        state = "complete" if h["complete"] else f"not complete until {h['until']}"
        lines.append(f"  {name} horizon {h['days']} days: {state}")
    if e["estimate"]:
        est = e["estimate"]
        lines.append(
            f"  expected from the scored probabilities: ROC-AUC {f(est['roc_auc']['expected'])}, "
            f"{f(est['churners']['expected'])} churners ({est['on']})"
        )
    control = e["control"]
    if control.get("present"):
        lines.append(f"  control ({control['analysis']}): {control['overall']['verdict']}")
    else:
        lines.append(f"  control: {control['note']}")
    ch = e["challenger"]
    if ch and ch["basis"]:
        lines.append(
            f"  champion ROC-AUC {f(ch['champion']['roc_auc'])} vs challenger "
            f"({ch['alias']}) {f(ch['challenger']['roc_auc'])} on {ch['n']:,} control "
            f"accounts: {ch['verdict']}"
        )
    elif ch:
        lines.append(f"  challenger ({ch['alias']}): no verdict: {ch['note']}")
    lines += uplift_lines(e.get("uplift"))
    lines += [f"  note: {n}" for n in e["notes"]]
    lines += [f"Wrote {result.json_path}", f"  and  {result.html_path}"]
    return "\n".join(lines)
