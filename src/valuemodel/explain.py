"""Explaining the scores: the notebooks' one import.

SHAP frames, their aggregates and ``shap.Explanation`` objects (computed in
:mod:`valuemodel.models.shap_values`), the check of a ranked list's reasons against them
(:mod:`valuemodel.serving.reasons`), and the workspace the notebooks read
(:mod:`valuemodel.workspace`).
"""

from __future__ import annotations

from valuemodel.models.shap_values import (
    BIAS,
    drivers_by_segment,
    explanation,
    global_importance,
    shap_frame,
    shap_units,
    top_positive_drivers,
)
from valuemodel.models.uplift import uplift_shap_frame
from valuemodel.serving.reasons import not_reasons, reason_check
from valuemodel.workspace import WORKDIR_ENV, Workspace, ensure_demo_workspace, holdout_scores

__all__ = [
    "BIAS",
    "WORKDIR_ENV",
    "Workspace",
    "drivers_by_segment",
    "ensure_demo_workspace",
    "explanation",
    "global_importance",
    "holdout_scores",
    "not_reasons",
    "reason_check",
    "shap_frame",
    "shap_units",
    "top_positive_drivers",
    "uplift_shap_frame",
]
