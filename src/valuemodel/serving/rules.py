"""Evaluating the tiers file's condition language on a frame of accounts.

A condition set maps a column to a :class:`~valuemodel.serving.config.Condition`; a rule is a
list of condition sets (any of them, each all of its conditions). A column absent from the frame
reads as all-null, so a rule on a feature the data cannot provide (``total_assets`` without
``balances``) matches only through ``missing: true``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from valuemodel.serving.config import Condition, ConditionSet, RuleSetConfig


def condition_mask(frame: pd.DataFrame, column: str, condition: Condition) -> np.ndarray:
    """Boolean array: which rows of ``frame`` satisfy ``condition`` on ``column``."""
    n = len(frame)
    if column not in frame.columns:
        return np.full(n, condition.missing)
    series = frame[column]
    missing = series.isna().to_numpy(dtype=bool)
    ok = np.ones(n, dtype=bool)
    bounds = (condition.min, condition.max, condition.above, condition.below)
    if any(b is not None for b in bounds):
        values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            if condition.min is not None:
                ok &= values >= condition.min
            if condition.max is not None:
                ok &= values <= condition.max
            if condition.above is not None:
                ok &= values > condition.above
            if condition.below is not None:
                ok &= values < condition.below
    if condition.in_ is not None:
        ok &= series.astype("object").isin(condition.in_).to_numpy(dtype=bool)
    return np.where(missing, condition.missing, ok)


def rule_mask(frame: pd.DataFrame, rule: Sequence[ConditionSet]) -> np.ndarray:
    """Rows satisfying any condition set of ``rule`` (an empty rule holds everywhere)."""
    if not rule:
        return np.ones(len(frame), dtype=bool)
    out = np.zeros(len(frame), dtype=bool)
    for conditions in rule:
        part = np.ones(len(frame), dtype=bool)
        for column, condition in conditions.items():
            part &= condition_mask(frame, column, condition)
        out |= part
    return out


def assign(frame: pd.DataFrame, rules: RuleSetConfig, name: str) -> pd.Series:
    """The first matching rule's name per row, else the default.

    A row that matches no rule and has every ``requires`` column null gets null instead of the
    default: the data cannot tell (e.g. no asset growth nor trading trend for the lifecycle).
    """
    labels = np.full(len(frame), rules.default, dtype=object)
    undecided = np.ones(len(frame), dtype=bool)
    for label, rule in rules.rules.items():
        hit = undecided & rule_mask(frame, rule)
        labels[hit] = label
        undecided &= ~hit
    if rules.requires:
        known = np.zeros(len(frame), dtype=bool)
        for column in rules.requires:
            if column in frame.columns:
                known |= frame[column].notna().to_numpy(dtype=bool)
        labels[~known & undecided] = None
    return pd.Series(labels, index=frame.index, name=name, dtype="object")


def referenced_columns(rule: Sequence[ConditionSet]) -> set[str]:
    """The columns a rule reads."""
    return {column for conditions in rule for column in conditions}
