"""valuemodel: churn risk and customer value for securities brokerages.

The public API (imported lazily, so that ``import valuemodel`` and the CLI start fast)::

    from valuemodel import open_data, validate, generate_brokerage, write_brokerage
    from valuemodel import build_features, build_labels, train, load_model, score, evaluate
    from valuemodel import UpliftLearner, simulate_brokerage
"""

from __future__ import annotations

import importlib
import os
from typing import Any

# LightGBM's OpenMP threads (GNU libgomp) spin at every barrier while they wait for each other.
# When another process holds a core, the spinning thread burns the time slice its partner
# needs: on 2 cores with one busy neighbour, 2 threads trained 10x slower than 1. Waiting
# passively removes that (BENCHMARKS.md, "Training threads"). libgomp reads this once, when it
# is loaded, so it is set here, before anything of ours imports LightGBM; an explicit setting
# wins, and a process that loaded LightGBM before valuemodel keeps its own.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"

_API = {
    "open_data": "valuemodel.data",
    "validate": "valuemodel.data",
    "generate_brokerage": "valuemodel.data.generate",
    "write_brokerage": "valuemodel.data.generate",
    "simulate_brokerage": "valuemodel.data.generate",
    "UpliftLearner": "valuemodel.models.uplift",
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
