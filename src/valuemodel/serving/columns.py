"""The ranked list's columns: which, in what order, with what types and decimals."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

CONTRACT_COLUMNS = (
    "rank",
    "account_id",
    "as_of",
    "churn_probability",
    "clv",
    "value_at_risk",
    "priority_score",
    "asset_tier",
    "value_quadrant",
    "service_segment",
    "reason_1",
    "reason_2",
    "reason_3",
    "recommended_action",
)
EXTRA_COLUMNS = (
    "clv_rule",
    "growth_quadrant",
    "value_grade",
    "risk_class",
    "grade_risk_category",
    "lifecycle_stage",
    "rfm_score",
    "loyalty_stage",
    "risk_level",
    "exclusion",
    "driver_1",
    "driver_2",
    "driver_3",
    "action_id",
    "action_product_risk",
    "manager_id",
    "branch",
    "uplift_reasons",
)
UPLIFT_COLUMNS = ("uplift", "saved_value")
DECIMALS = {"churn_probability": 6, "clv": 2, "priority_score": 6, "clv_rule": 2, "uplift": 6}


def output_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """The contract's columns in order, then the extra columns present; fixed decimals.

    Text columns are object dtype with nulls as ``None``; ``as_of`` is an ISO date string.
    The rows keep their order, with a new index 0..n-1.
    """
    control = ["control"] if "control" in frame.columns else []
    control += [c for c in UPLIFT_COLUMNS if c in frame.columns]
    columns = [*CONTRACT_COLUMNS, *control, *(c for c in EXTRA_COLUMNS if c in frame.columns)]
    out = {}
    for column in columns:
        values = frame[column] if column in frame.columns else pd.Series(None, index=frame.index)
        if column == "rank":
            out[column] = values.to_numpy(dtype=np.int64)
        elif column in ("value_at_risk", "saved_value"):
            out[column] = pd.to_numeric(values, errors="coerce").to_numpy(float, na_value=np.nan)
        elif column == "control":
            out[column] = values.fillna(False).to_numpy(dtype=bool)
        elif column in DECIMALS or column == "rfm_score":
            numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            out[column] = np.round(numbers, DECIMALS.get(column, 6))
        elif column == "as_of":  # a few distinct dates: each formatted once
            codes, dates = pd.factorize(values)
            text = pd.to_datetime(pd.Index(dates).astype("object")).strftime("%Y-%m-%d")
            out[column] = np.append(text.to_numpy(dtype=object), None)[codes]  # -1: missing
        elif pd.api.types.is_numeric_dtype(values.dtype):
            text = values.astype("object").where(values.notna(), None).map(_text)
            out[column] = text.to_numpy(dtype=object, na_value=None)
        else:
            out[column] = values.to_numpy(dtype=object, na_value=None)
    # text as object Series: a plain array of strings would be read as pandas' str dtype
    # first, and converting it back costs seconds for a million rows
    text = set(_text_columns(columns))
    return pd.DataFrame(
        {c: pd.Series(v, dtype="object") if c in text else v for c, v in out.items()},
        columns=columns,
    )


def _text(value: Any) -> Any:
    return None if value is None else str(value)


def _text_columns(columns: list[str]) -> list[str]:
    numeric = {"rank", "rfm_score", "value_at_risk", "saved_value", "control", *DECIMALS}
    return [c for c in columns if c not in numeric]
