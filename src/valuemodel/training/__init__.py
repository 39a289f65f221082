"""Snapshot assembly, out-of-time split, Optuna tuning, MLflow logging and the registry.

``train`` is the entry point of the CLI and of ``training/retrain.py``; ``load_model`` gives the
scorer a registered model. MLflow is only imported when tracking is used.
"""

from __future__ import annotations

from typing import Any

from valuemodel.training.config import TrainingConfig, load_config, parse_config
from valuemodel.training.pipeline import train
from valuemodel.training.result import ModelResult, TrainResult, format_train_summary

__all__ = [
    "ModelResult",
    "TrainResult",
    "TrainingConfig",
    "format_train_summary",
    "load_config",
    "load_model",
    "parse_config",
    "train",
]


def __getattr__(name: str) -> Any:
    if name == "load_model":
        from valuemodel.models.tracking import load_model

        return load_model
    raise AttributeError(f"module 'valuemodel.training' has no attribute {name!r}")
