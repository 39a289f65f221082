"""valuemodel: churn risk and customer value for securities brokerages.

The public API (imported lazily, so that ``import valuemodel`` and the CLI start fast)::

    from valuemodel import open_data, validate, generate_brokerage, write_brokerage
    from valuemodel import build_features, build_labels, train, load_model, score, evaluate
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_API = {
    "open_data": "valuemodel.data",
    "validate": "valuemodel.data",
    "generate_brokerage": "valuemodel.data.generate",
    "write_brokerage": "valuemodel.data.generate",
    "build_features": "valuemodel.features",
    "build_labels": "valuemodel.features",
    "load_registry": "valuemodel.features",
    "train": "valuemodel.training",
    "load_model": "valuemodel.training",
    "score": "valuemodel.serving",
    "evaluate": "valuemodel.serving",
    "InputError": "valuemodel.errors",
    "ModelError": "valuemodel.errors",
}

__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'valuemodel' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
