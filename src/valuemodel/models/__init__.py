"""Churn, value and uplift estimators, calibration, baselines, metrics, the model bundle."""

from valuemodel.models.bundle import LoadedModel, load_bundle, save_bundle, verify_checksums
from valuemodel.models.calibration import ProbabilityCalibrator
from valuemodel.models.churn import ChurnClassifier
from valuemodel.models.schema import FeatureSchema
from valuemodel.models.uplift import UpliftLearner
from valuemodel.models.value import ValueRegressor

__all__ = [
    "ChurnClassifier",
    "FeatureSchema",
    "LoadedModel",
    "ProbabilityCalibrator",
    "UpliftLearner",
    "ValueRegressor",
    "load_bundle",
    "save_bundle",
    "verify_checksums",
]
