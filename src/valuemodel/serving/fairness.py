"""The fairness section of an evaluation: the list's quality per age band and gender.

The same table the training report shows (:func:`valuemodel.models.fairness.group_table`),
measured on what happened to the listed accounts: calibration (mean predicted vs observed
churn, ECE), ROC-AUC, and each group's share of the churners and lost value in the top of the
list against its share of the population. Groups below the minimum size are named, not scored.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from valuemodel.models.fairness import calibration_warnings, group_table, unscored_groups

MAX_CALIBRATION_GAP = 0.05
"""A group whose mean predicted churn is further than this from its observed churn is named
in a warning (the training config's ``fairness.max_calibration_gap`` has the same default)."""


def fairness_section(
    frame: pd.DataFrame,
    accounts: pd.DataFrame | None,
    as_of: Any,
    *,
    min_group_size: int = 100,
    max_gap: float = MAX_CALIBRATION_GAP,
) -> dict[str, Any] | None:
    """The per-group table of a judged list, or None when the data cannot tell age or gender.

    ``frame``: the list joined to its outcomes (``account_id``, ``churn_probability``,
    ``clv``, ``churn``; ``priority_score`` orders the top when present, else churn
    probability x value); ``accounts``: ``account_id``, ``birth_year``,
    ``gender`` (the accounts table as known at ``as_of``). Returns ``{"table": [rows],
    "warnings": [...], "not_scored": [...], "top_share": 0.1}``.
    """
    if accounts is None or accounts[["birth_year", "gender"]].isna().all().all():
        return None
    known = frame[frame["churn"].notna()]
    people = accounts.drop_duplicates("account_id")[["account_id", "birth_year", "gender"]]
    rows = known.merge(people, on="account_id", how="left").assign(
        as_of=pd.Timestamp(as_of),
        churned=lambda f: f["churn"].astype(float),
        value=lambda f: pd.to_numeric(f["clv"], errors="coerce").fillna(0.0),
    )
    if "priority_score" in rows.columns:
        rows["priority"] = pd.to_numeric(rows["priority_score"], errors="coerce").fillna(0.0)
    try:
        table = group_table(rows, min_group_size=min_group_size)
    except ValueError:  # no group can be told
        return None
    return {
        "top_share": 0.1,
        "table": table.astype(object).where(table.notna(), None).to_dict("records"),
        "warnings": calibration_warnings(table, max_gap),
        "not_scored": unscored_groups(table),
    }
