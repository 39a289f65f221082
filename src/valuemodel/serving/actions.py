"""What the account manager should do, from the tiers and the top churn driver.

The rules are described in docs/ranked-list.md, "Actions and suitability".

Rules from the tiers file's ``actions`` section are tried in order and the first that holds
gives the action: its ``when`` conditions (on features and tiers) hold, and, if it names
``top_reason`` patterns (``fnmatch`` style, e.g. ``outflow_*``), the account's strongest
driver (``driver_1``) matches one of them, and the action's ``premise`` in the catalogue holds
(what its words take for granted: "positions at a loss" needs ``unrealized_pnl_ratio < 0``;
a driver says only that a feature pushed the risk up, not in which direction). No rule: the
``default`` action.

Suitability: an action that offers a product carries the product's risk grade (R1..R5). It is
only recommended when the customer's risk tolerance (C1..C5) is at least that grade (Rn needs
Cn or above); when it is lower or unknown, the action's non-product ``fallback`` is
recommended instead. So no customer is ever offered a product above their level.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

import numpy as np
import pandas as pd

from valuemodel.serving.config import ActionRule, TierConfig
from valuemodel.serving.rules import rule_mask

ACTION_COLUMNS = ("recommended_action", "action_id", "action_product_risk")


def suitable(product_risk: str | None, risk_level: object) -> bool:
    """Whether a product of grade ``R1..R5`` may be offered to a customer of level ``C1..C5``.

    A non-product action (``product_risk`` None) is always suitable; an unknown or malformed
    customer level never is for a product.
    """
    if product_risk is None:
        return True
    if not isinstance(risk_level, str) or len(risk_level) != 2 or risk_level[0] != "C":
        return False
    if not risk_level[1].isdigit() or not 1 <= int(risk_level[1]) <= 5:
        return False
    return int(risk_level[1]) >= int(product_risk[1])


def _reason_match(drivers: pd.Series, patterns: tuple[str, ...] | None) -> np.ndarray:
    if patterns is None:
        return np.ones(len(drivers), dtype=bool)
    hits = {
        name: any(fnmatchcase(name, p) for p in patterns)
        for name in drivers.dropna().unique()
        if isinstance(name, str)
    }
    return np.array(
        [hits.get(d, False) if isinstance(d, str) else False for d in drivers], dtype=bool
    )


def _rule_hits(
    frame: pd.DataFrame, rule: ActionRule, drivers: pd.Series, premise: list
) -> np.ndarray:
    hits = rule_mask(frame, rule.when) & _reason_match(drivers, rule.top_reason)
    return hits & rule_mask(frame, premise) if premise else hits


def choose_actions(frame: pd.DataFrame, config: TierConfig | None = None) -> pd.Series:
    """The action id per account before suitability (first matching rule, else the default).

    ``frame`` holds the features, the tiers and ``driver_1`` (absent: no reason matches).
    """
    actions = (config if config is not None else TierConfig()).actions
    drivers = frame["driver_1"] if "driver_1" in frame.columns else pd.Series(None, frame.index)
    drivers = drivers.astype("object")
    out = np.full(len(frame), actions.default, dtype=object)
    undecided = np.ones(len(frame), dtype=bool)
    for rule in actions.rules:
        premise = actions.catalogue[rule.action].premise
        hit = undecided & _rule_hits(frame, rule, drivers, premise)
        out[hit] = rule.action
        undecided &= ~hit
    return pd.Series(out, index=frame.index, name="action_id", dtype="object")


def recommend(
    frame: pd.DataFrame, config: TierConfig | None = None, lang: str = "en"
) -> pd.DataFrame:
    """``recommended_action`` (words), ``action_id`` and ``action_product_risk`` per account.

    Product offers above the customer's ``risk_level`` (or with it unknown) become their
    fallback, so ``action_product_risk`` is null or at most the customer's level.
    """
    catalogue = (config if config is not None else TierConfig()).actions.catalogue
    chosen = choose_actions(frame, config)
    levels = (
        frame["risk_level"].astype("object")
        if "risk_level" in frame.columns
        else pd.Series(None, index=frame.index, dtype="object")
    )
    ids, risks, words = [], [], []
    for action_id, level in zip(chosen, levels, strict=True):
        action = catalogue[action_id]
        if not suitable(action.product_risk, level):
            action_id = action.fallback
            action = catalogue[action_id]
        ids.append(action_id)
        risks.append(action.product_risk)
        words.append(action.zh if lang == "zh" else action.en)
    return pd.DataFrame(
        {"recommended_action": words, "action_id": ids, "action_product_risk": risks},
        index=frame.index,
        dtype="object",
    )
