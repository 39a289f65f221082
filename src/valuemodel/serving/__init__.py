"""Rule-based tiers, ranking, reasons, actions, drift and batch scoring (the ranked list), and
judging a past list by its outcomes (evaluation, control groups, the challenger in the shadow)."""

from valuemodel.serving.actions import recommend, suitable
from valuemodel.serving.config import ScoringConfig, TierConfig, load_scoring_config, load_tiers
from valuemodel.serving.control import compare_groups, draw_control
from valuemodel.serving.drift import drift_report, feature_psi, psi
from valuemodel.serving.estimation import expected_performance, expected_roc_auc
from valuemodel.serving.evaluation import EvaluationResult, evaluate
from valuemodel.serving.ranking import (
    allocate,
    exclusion,
    priority_score,
    rank_accounts,
    value_at_risk,
)
from valuemodel.serving.reasons import contributions, explain, phrase, top_drivers
from valuemodel.serving.report import format_score_summary
from valuemodel.serving.score import (
    CONTRACT_COLUMNS,
    SCORE_STEPS,
    ScoreResult,
    finish_list,
    score,
    score_features,
)
from valuemodel.serving.segments import assign_tiers, lifecycle_stage, service_segment
from valuemodel.serving.tiers import (
    asset_tier,
    contribution,
    grade_risk_category,
    growth_quadrant,
    risk_class,
    value_grade,
    value_quadrant,
)

__all__ = [
    "CONTRACT_COLUMNS",
    "EvaluationResult",
    "SCORE_STEPS",
    "ScoreResult",
    "ScoringConfig",
    "TierConfig",
    "allocate",
    "asset_tier",
    "assign_tiers",
    "compare_groups",
    "contribution",
    "contributions",
    "draw_control",
    "drift_report",
    "evaluate",
    "exclusion",
    "expected_performance",
    "expected_roc_auc",
    "explain",
    "feature_psi",
    "finish_list",
    "format_score_summary",
    "grade_risk_category",
    "growth_quadrant",
    "lifecycle_stage",
    "load_scoring_config",
    "load_tiers",
    "phrase",
    "priority_score",
    "psi",
    "rank_accounts",
    "recommend",
    "risk_class",
    "score",
    "score_features",
    "service_segment",
    "suitable",
    "top_drivers",
    "value_at_risk",
    "value_grade",
    "value_quadrant",
]
