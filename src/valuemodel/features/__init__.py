"""Point-in-time features and labels: account histories in, one row per account and as-of date
out (recency, frequency, turnover and contribution, assets and P&L, flows, holdings, profile),
plus the churn and value labels.

Every function takes its as-of date(s) explicitly; definitions are Ibis expressions
(``feature_expr``, ``label_expr``) that run on DuckDB or PySpark, executed by
``valuemodel.engine`` in ``build_features`` / ``build_labels``.
"""

from valuemodel.features.build import build_features, feature_expr
from valuemodel.features.config import FAMILIES, FeatureConfig, load_feature_config
from valuemodel.features.labels import build_labels, label_expr
from valuemodel.features.population import population
from valuemodel.features.registry import (
    FeatureRegistry,
    FeatureSpec,
    load_registry,
    render_feature_docs,
)

__all__ = [
    "FAMILIES",
    "FeatureConfig",
    "FeatureRegistry",
    "FeatureSpec",
    "build_features",
    "build_labels",
    "feature_expr",
    "label_expr",
    "load_feature_config",
    "load_registry",
    "population",
    "render_feature_docs",
]
