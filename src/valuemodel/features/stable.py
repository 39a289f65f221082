"""Feature frames made the same on every run (see :func:`stable_features`)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from valuemodel.cores import usable_cores

SIGNIFICANT_DIGITS = 12
FLOAT_NOISE = 1e-12
"""Smaller magnitudes are float noise (no feature is meaningfully this close to 0): made 0."""
ROUNDING_BLOCK = 16
"""Float columns ``stable_features`` rounds together, one block per thread at a time."""


def stable_features(features: pd.DataFrame, digits: int = SIGNIFICANT_DIGITS) -> pd.DataFrame:
    """Float features rounded to ``digits`` significant digits, index reset.

    Parallel sums in the engine may differ in the last bits from run to run (903.4999999999
    or 903.5000000001); rounding far below any meaningful precision makes the scores, tiers
    and reason texts (``{value:.0f}``) identical on every run. The columns are rounded a
    block at a time on every core (numpy's ufuncs release the GIL): each value's rounding is
    its own, so the blocks change nothing in the result (6.6-8.4 s to 2.7-3.0 s for a million
    accounts' 151 float features, on two cores). Values within ``FLOAT_NOISE`` of 0 are 0:
    relative rounding would keep a sum's +-1e-16 noise.
    """
    floats = [c for c in features.columns if pd.api.types.is_float_dtype(features[c].dtype)]
    blocks = [floats[i : i + ROUNDING_BLOCK] for i in range(0, len(floats), ROUNDING_BLOCK)]

    def rounded(names: list[str]) -> np.ndarray:
        x = features[names].to_numpy(dtype=float, na_value=np.nan)
        x = np.where(np.abs(x) < FLOAT_NOISE, 0.0, x)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            exponent = np.floor(np.log10(np.abs(x)))
            scale = 10.0 ** (digits - 1 - np.where(np.isfinite(exponent), exponent, 0.0))
            out = np.round(x * scale) / scale
        return np.where(np.isfinite(out), out, x)

    columns: dict[str, Any] = {}
    with ThreadPoolExecutor(max(1, min(len(blocks), usable_cores()))) as pool:
        for names, values in zip(blocks, pool.map(rounded, blocks), strict=True):
            columns.update((name, values[:, j]) for j, name in enumerate(names))
    return pd.DataFrame(
        {c: columns[c] if c in columns else features[c].array for c in features.columns}
    )


def scoring_features(data: Any, as_of: Any) -> pd.DataFrame:
    """The features of ``data`` at ``as_of`` as scoring reads them: one row per account in
    ``account_id`` order, floats made stable (:func:`stable_features`), index 0..n-1."""
    from valuemodel.features.build import build_features

    features = build_features(data, as_of)
    return stable_features(features.sort_values("account_id", kind="mergesort"))
