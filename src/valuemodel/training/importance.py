"""Which feature families carry the churn model: grouped permutation importance.

On the out-of-time validation rows, every column of one family (``features/registry.yaml``)
is shuffled with one shared permutation, so that the family's columns keep their joint
distribution but lose their link to the label, and the drop in ROC-AUC is recorded. The mean
over ``repeats`` seeded permutations is the family's importance: near 0 means the model gets
nothing from the family that the other families do not also give it. Columns that no
registry entry names (none in a normal build) form the family ``other``.

``without_families`` drops whole families from the churn model's inputs
(``churn.exclude_families``, default none; tiers, suitability and actions still read their
columns from the feature table).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pandas as pd

from valuemodel.models import metrics
from valuemodel.training.frames import Part

ID_COLUMNS = ("account_id", "as_of")


def feature_families(columns: list[str]) -> dict[str, list[str]]:
    """Family -> the columns of ``columns`` in it (registry order of families)."""
    from valuemodel.features import load_registry

    registry = load_registry()
    out: dict[str, list[str]] = {}
    for column in columns:
        spec = registry.find(column)
        out.setdefault(spec.family if spec is not None else "other", []).append(column)
    return out


def without_families(part: Part, families: tuple[str, ...]) -> Part:
    """``part`` without the feature columns of ``families`` (ID columns kept)."""
    if not families:
        return part
    grouped = feature_families([c for c in part.features.columns if c not in ID_COLUMNS])
    drop = [c for f in families for c in grouped.get(f, [])]
    return replace(part, features=part.features.drop(columns=drop))


def family_importance(
    predict: Callable[[pd.DataFrame], np.ndarray],
    X: pd.DataFrame,
    y: np.ndarray,
    repeats: int = 3,
    seed: int = 7,
) -> dict[str, dict[str, float]]:
    """Per family of ``X``'s columns: ``roc_auc_drop`` (mean over ``repeats``), its ``std``
    and the number of ``features``; sorted by drop, largest first. ``predict`` maps prepared
    features to churn scores; ``X`` holds only feature columns."""
    base = metrics.roc_auc(y, predict(X))
    rng = np.random.default_rng(seed)
    out: dict[str, dict[str, float]] = {}
    for family, columns in feature_families(list(X.columns)).items():
        drops = []
        for _ in range(repeats):
            order = rng.permutation(len(X))
            shuffled = X.copy()
            for c in columns:
                shuffled[c] = X[c].iloc[order].set_axis(X.index)  # keeps categories
            drops.append(base - metrics.roc_auc(y, predict(shuffled)))
        out[family] = {
            "roc_auc_drop": float(np.mean(drops)),
            "std": float(np.std(drops)),
            "features": float(len(columns)),
        }
    return dict(sorted(out.items(), key=lambda kv: -kv[1]["roc_auc_drop"]))
