"""The challenger in the shadow: how a second pair of models would have ranked the same accounts.

``score --compare ALIAS`` scores the population with the models behind ``ALIAS`` as well, ranks
it with the same tiers and capacity rules, and writes beside the list:

- ``<stem>.compare.csv``: one row per account of the population, in champion order:
  ``account_id``, ``rank`` / ``challenger_rank`` (place in each model's full ranking),
  ``churn_probability``, ``clv``, ``priority_score`` and their ``challenger_`` twins,
  ``in_top`` / ``challenger_in_top`` (in each model's top K list), ``movement`` (``enters`` when
  only the challenger lists the account in its top K, ``leaves`` when only the champion does)
  and, for moving accounts, ``reason_1..3`` and ``challenger_reason_1..3``; with a control
  group (``--control-share``), ``control``: the accounts held out of contact, drawn over the
  whole population, on which ``evaluate`` judges the two models;
- ``<stem>.compare.json``: the alias and versions, K, the Spearman correlation of the two
  priority scores (and of the two churn probabilities), the overlap of the top K lists at
  several K, and the counts of accounts entering and leaving.

``evaluate`` reads the compare file to judge both models on the same outcomes: those of the
control accounts, which neither model's list had contacted (``serving/challenger.py``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from valuemodel.models.metrics import spearman
from valuemodel.serving.config import TierConfig
from valuemodel.serving.estimation import top_sizes
from valuemodel.serving.ranking import rank_accounts
from valuemodel.serving.reasons import REASON_COLUMNS, explain, not_reasons

PREFIX = "challenger_"
_COMPARED = ("churn_probability", "clv", "value_at_risk", "priority_score")


def compare_paths(out: Path) -> tuple[Path, Path]:
    """``<stem>.compare.csv`` and ``<stem>.compare.json`` next to the list."""
    out = Path(out)
    return out.with_name(f"{out.stem}.compare.csv"), out.with_name(f"{out.stem}.compare.json")


def full_order(scored: pd.DataFrame) -> pd.Series:
    """Each account's place (1 = first) when every account is ranked: not excluded first, then
    ``priority_score`` descending, then ``account_id`` (the list's own order without capacity)."""
    ordered = scored.assign(_excluded=scored["exclusion"].notna()).sort_values(
        ["_excluded", "priority_score", "account_id"],
        ascending=[True, False, True],
        kind="mergesort",
    )
    return pd.Series(np.arange(1, len(ordered) + 1), index=ordered.index, name="rank")


def top_set(scored: pd.DataFrame, config: TierConfig | None, k: int) -> set[str]:
    """The account ids of the top ``k`` list, chosen exactly as ``score --top k`` chooses."""
    return set(rank_accounts(scored, config, k)["account_id"].astype(str))


def compare_models(
    champion: pd.DataFrame,
    challenger: pd.DataFrame,
    models: dict[str, Any],
    config: TierConfig | None = None,
    top: int | None = None,
    *,
    registry: Any = None,
    lang: str = "en",
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The compare table and summary (see the module docstring) for two scored populations.

    ``champion`` and ``challenger`` are :func:`~valuemodel.serving.score.score_features`
    outputs for the same feature rows (same index); ``models`` holds ``champion_churn`` and
    ``challenger_churn`` (for the reasons of moving accounts). K is ``top`` when given, else
    10 % of the population.
    """
    n = len(champion)
    k = min(top, n) if top else (top_sizes(n, (0.1,)) or [0])[0]
    table = pd.DataFrame({"account_id": champion["account_id"].astype(str)})
    table["rank"] = full_order(champion)
    table[f"{PREFIX}rank"] = full_order(challenger)
    for column in _COMPARED:
        table[column] = champion[column]
        table[f"{PREFIX}{column}"] = challenger[column]
    mine, theirs = top_set(champion, config, k), top_set(challenger, config, k)
    table["in_top"] = table["account_id"].isin(mine)
    table[f"{PREFIX}in_top"] = table["account_id"].isin(theirs)
    movement = np.where(
        table[f"{PREFIX}in_top"] & ~table["in_top"],
        "enters",
        np.where(table["in_top"] & ~table[f"{PREFIX}in_top"], "leaves", ""),
    )
    table["movement"] = pd.Series(movement, index=table.index).replace("", None)
    if "control" in champion.columns:
        table["control"] = champion["control"].astype(bool)
    movers = _mover_reasons(table, champion, models, registry, lang, config)
    table = pd.concat([table, movers], axis=1)
    table = table.sort_values("rank", kind="mergesort").reset_index(drop=True)
    return table, _summary(table, champion, challenger, config, k)


def _mover_reasons(
    table: pd.DataFrame,
    features: pd.DataFrame,
    models: dict[str, Any],
    registry,
    lang: str,
    config: TierConfig | None,
) -> pd.DataFrame:
    columns = [*REASON_COLUMNS, *(f"{PREFIX}{c}" for c in REASON_COLUMNS)]
    out = pd.DataFrame(None, index=table.index, columns=columns, dtype="object")
    movers = table.index[table["movement"].notna()]
    if not len(movers):
        return out
    rows = features.loc[movers]
    for prefix, model in (("", models["champion_churn"]), (PREFIX, models["challenger_churn"])):
        X = model.prepare(rows)
        reasons = explain(model.booster, X, rows, registry, lang, not_reasons(config))
        for column in REASON_COLUMNS:
            out.loc[movers, f"{prefix}{column}"] = reasons[column].to_numpy(dtype=object)
    return out


def _summary(
    table: pd.DataFrame,
    champion: pd.DataFrame,
    challenger: pd.DataFrame,
    config: TierConfig | None,
    k: int,
) -> dict[str, Any]:
    n = len(table)
    overlap = {}
    for size in sorted({*top_sizes(n), k} - {0}):
        mine, theirs = top_set(champion, config, size), top_set(challenger, config, size)
        overlap[str(size)] = round(len(mine & theirs) / size, 6)
    return {
        "k": int(k),
        "accounts": int(n),
        "rank_spearman": _rounded(_spearman(table["rank"], table[f"{PREFIX}rank"])),
        "churn_probability_spearman": _rounded(
            _spearman(table["churn_probability"], table[f"{PREFIX}churn_probability"])
        ),
        "clv_spearman": _rounded(_spearman(table["clv"], table[f"{PREFIX}clv"])),
        "top_overlap": overlap,
        "entering": int((table["movement"] == "enters").sum()),
        "leaving": int((table["movement"] == "leaves").sum()),
    }


def _spearman(a: pd.Series, b: pd.Series) -> float:
    if len(a) < 2:
        return math.nan
    return spearman(a.to_numpy(float), b.to_numpy(float))


def _rounded(value: float) -> float | None:
    return None if value is None or math.isnan(value) else round(float(value), 6)


def rounded_compare(table: pd.DataFrame, decimals: dict[str, int]) -> pd.DataFrame:
    """The compare table with the list's fixed decimals on both models' numbers."""
    both = decimals | {f"{PREFIX}{c}": d for c, d in decimals.items()}
    return table.round({c: d for c, d in both.items() if c in table.columns})


def read_compare(path: Path) -> pd.DataFrame:
    """A ``<stem>.compare.csv`` as written (``account_id`` as text)."""
    return pd.read_csv(path, dtype={"account_id": str}, keep_default_na=True)
