"""Figures for notebooks and the training report: the notebooks' import of
:mod:`valuemodel.models.plots`, where each function is defined and documented."""

from __future__ import annotations

from valuemodel.models.plots import (
    calibration_curve,
    distributions_by_segment,
    drivers_heatmap,
    feature_importance,
    feature_timeline,
    gains_lift,
    shap_dependence,
    shap_summary,
    shap_waterfall,
    value_deciles,
)

__all__ = [
    "calibration_curve",
    "distributions_by_segment",
    "drivers_heatmap",
    "feature_importance",
    "feature_timeline",
    "gains_lift",
    "shap_dependence",
    "shap_summary",
    "shap_waterfall",
    "value_deciles",
]
