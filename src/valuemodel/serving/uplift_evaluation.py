"""Judging a past list's uplift: did contact work where the list said it would?

For a list with ``uplift`` and a control group, on the listed accounts with an outcome
(intent to treat: treated = listed and not control):

- ``deciles``: realised uplift (control churn rate - treated churn rate, with a 90 % interval)
  per decile of the list's ``uplift``, beside the mean predicted uplift;
- ``qini`` (also ``uplift.qini`` in ``evaluation.json``): the Qini coefficient of the list's
  ``uplift`` (:mod:`valuemodel.models.uplift_metrics`), and ``qini_value_at_risk``: that of
  ranking by value at risk, on the same accounts; ``curve``: the Qini curve at 21 points;
- ``saved_top``: the value saved in the top ``TOP_SHARE`` had the list been ranked by
  ``saved_value`` and by ``value_at_risk``: churned value that the control rate predicts
  among the top's treated accounts, minus what churned, per treated account; each account
  weighed by its realised value over the value horizon when that is complete, else by the
  list's ``clv``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from valuemodel.models.uplift_metrics import qini_coefficient, qini_curve, uplift_by_decile

TOP_SHARE = 0.1
CURVE_POINTS = 21


def _num(value: Any) -> float | None:
    return None if value is None or value != value else round(float(value), 6)


def uplift_section(frame: pd.DataFrame, value_complete: bool) -> dict[str, Any]:
    """The ``uplift`` section of ``evaluation.json`` (``present`` False with a note if none)."""
    if "uplift" not in frame.columns:
        return {"present": False, "note": "the list has no uplift column (no uplift model)"}
    if "control" not in frame.columns or not frame["control"].astype(bool).any():
        return {
            "present": False,
            "note": "the list has no control group: realised uplift cannot be measured "
            "(score it with --control-share S)",
        }
    rows = frame[frame["churn"].notna()]
    t = (~rows["control"].astype(bool)).to_numpy(dtype=int)
    y = rows["churn"].to_numpy(dtype=float)
    uplift = pd.to_numeric(rows["uplift"], errors="coerce").fillna(0.0).to_numpy()
    clv = pd.to_numeric(rows["clv"], errors="coerce").fillna(0.0).clip(lower=0).to_numpy()
    var = pd.to_numeric(rows["value_at_risk"], errors="coerce").fillna(0.0).to_numpy()
    weight = rows["value"].to_numpy(dtype=float) if value_complete else clv
    weight = np.clip(np.nan_to_num(weight), 0.0, None)
    curve = qini_curve(uplift, t, y)
    at = np.unique(np.linspace(0, len(curve) - 1, CURVE_POINTS).round().astype(int))
    deciles = uplift_by_decile(uplift, t, y)
    return {
        "present": True,
        "n": int(len(rows)),
        "treated": int(t.sum()),
        "control": int((t == 0).sum()),
        "qini": _num(qini_coefficient(uplift, t, y)),
        "qini_value_at_risk": _num(qini_coefficient(var, t, y)),
        "curve": [
            {"share": _num(curve.share.iloc[i]), "qini": _num(curve.qini.iloc[i])} for i in at
        ],
        "deciles": [
            {k: (_num(v) if isinstance(v, float) else int(v)) for k, v in r.items()}
            for r in deciles.to_dict(orient="records")
        ],
        "saved_top": {
            "share": TOP_SHARE,
            "weighed_by": "realised value" if value_complete else "predicted clv",
            "saved_value": _num(_saved_at(uplift * clv, t, y, weight)),
            "value_at_risk": _num(_saved_at(var, t, y, weight)),
        },
    }


def _saved_at(score, t, y, weight) -> float:
    curve = qini_curve(score, t, y, weight)
    if curve.empty:
        return float("nan")
    return float(curve.qini.iloc[max(int(round(TOP_SHARE * len(curve))), 1) - 1])


def uplift_lines(section: dict[str, Any] | None) -> list[str]:
    """The uplift part of ``evaluate``'s text summary."""
    if not section:
        return []
    if not section["present"]:
        return [f"  uplift: {section['note']}"]
    top = section["saved_top"]
    return [
        f"  uplift: Qini {section['qini']} (ranking by value at risk "
        f"{section['qini_value_at_risk']}); saved value in the top {top['share']:.0%} per "
        f"treated account: by saved_value {top['saved_value']}, by value_at_risk "
        f"{top['value_at_risk']} ({top['weighed_by']})"
    ]
