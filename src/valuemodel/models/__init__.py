"""Churn and value estimators, calibration, baselines, metrics and the model file bundle."""

from valuemodel.models.bundle import LoadedModel, load_bundle, save_bundle, verify_checksums
from valuemodel.models.calibration import ProbabilityCalibrator
from valuemodel.models.churn import ChurnClassifier
from valuemodel.models.schema import FeatureSchema
from valuemodel.models.value import ValueRegressor

__all__ = [
    "ChurnClassifier",
    "FeatureSchema",
    "LoadedModel",
    "ProbabilityCalibrator",
    "ValueRegressor",
    "load_bundle",
    "save_bundle",
    "verify_checksums",
]
