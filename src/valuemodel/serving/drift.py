"""Feature drift at scoring time: PSI of each model feature against its training profile.

The training profile (``LoadedModel.feature_profile``, see ``valuemodel.models.schema``) holds,
per feature, decile bin edges and the share of training rows per bin (numbers) or the share per
category, plus the share of missing values. For a refitted churn model those rows are the
latest labelled snapshot, which its probabilities are calibrated on (``training.refit``); for
the value model, its training snapshots. The same bins are filled with the scored
population, missing values forming their own bin and unseen categories an "other" bin, and

    PSI = sum over bins of (actual - expected) * ln(actual / expected)

with each share floored at 1e-4. Usual reading: < 0.1 stable, 0.1-0.25 moderate shift,
> 0.25 major shift. A major shift on an important feature (top ``TOP_IMPORTANT`` by gain) is a
warning that the model's scores may no longer be reliable.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

EPSILON = 1e-4
MAJOR = 0.25
MODERATE = 0.1
TOP_IMPORTANT = 10
DRIFT_COLUMNS = ("model", "feature", "psi", "status", "importance_share", "important")


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index between two share vectors over the same bins."""
    e = np.maximum(np.asarray(expected, dtype=float), EPSILON)
    a = np.maximum(np.asarray(actual, dtype=float), EPSILON)
    return float(np.sum((a - e) * np.log(a / e)))


def _numeric_shares(values: pd.Series, edges: list[float]) -> np.ndarray:
    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    finite = x[np.isfinite(x)]
    n = max(len(x), 1)
    counts = np.bincount(
        np.searchsorted(np.asarray(edges, dtype=float), finite, side="left"),
        minlength=len(edges) + 1,
    )
    return np.append(counts / n, (len(x) - len(finite)) / n)


def _categorical_shares(values: pd.Series, categories: list[str]) -> np.ndarray:
    n = max(len(values), 1)
    if isinstance(values.dtype, pd.CategoricalDtype):  # counted by code, not by text
        codes = values.cat.codes.to_numpy()
        per_code = np.bincount(codes[codes >= 0], minlength=len(values.cat.categories))
        labels = pd.Index(values.cat.categories).astype(str)
        counts = pd.Series(per_code, index=labels).groupby(level=0).sum()
        other = int(counts[~counts.index.isin(categories)].sum()) / n
        shares = [int(counts.get(c, 0)) / n for c in categories]
        return np.array([*shares, int((codes < 0).sum()) / n, other], dtype=float)
    known = values.dropna().astype(str)
    counts = known.value_counts()
    shares = [counts.get(c, 0) / n for c in categories]
    other = (~known.isin(categories)).sum() / n
    return np.array([*shares, values.isna().sum() / n, other], dtype=float)


def feature_psi(values: pd.Series, profile: dict[str, Any]) -> float:
    """PSI of one feature's scored values against its training ``profile`` (NaN if empty)."""
    missing = float(profile.get("missing_share", 0.0))
    if profile.get("kind") == "categorical":
        expected = np.array([*profile["shares"], missing, 0.0], dtype=float)
        actual = _categorical_shares(values, list(profile["categories"]))
    else:
        if not profile.get("shares"):
            return float("nan")
        expected = np.append(np.asarray(profile["shares"], dtype=float), missing)
        actual = _numeric_shares(values, list(profile["edges"]))
    if len(values) == 0:
        return float("nan")
    return psi(expected, actual)


def _importance(model: Any) -> pd.Series:
    booster = model.booster
    gain = pd.Series(
        booster.feature_importance(importance_type="gain"), index=booster.feature_name()
    ).astype(float)
    total = gain.sum()
    return gain / total if total > 0 else gain * 0.0


def drift_report(features: pd.DataFrame, models: dict[str, Any]) -> pd.DataFrame:
    """One row per (model, feature): ``DRIFT_COLUMNS``, sorted by model then PSI descending.

    ``models`` maps a name (``churn``, ``clv``) to a loaded model with ``feature_profile``,
    ``feature_names`` and ``booster``.
    """
    rows = []
    for name, model in models.items():
        share = _importance(model)
        important = set(share[share > 0].nlargest(TOP_IMPORTANT).index)
        profile = model.feature_profile
        for feature in model.feature_names:
            value = (
                feature_psi(features[feature], profile[feature])
                if feature in profile and feature in features.columns
                else float("nan")
            )
            rows.append(
                (
                    name,
                    feature,
                    value,
                    _status(value),
                    float(share.get(feature, 0.0)),
                    feature in important,
                )
            )
    report = pd.DataFrame(rows, columns=list(DRIFT_COLUMNS))
    return report.sort_values(
        ["model", "psi", "feature"], ascending=[True, False, True], kind="mergesort"
    ).reset_index(drop=True)


def _status(value: float) -> str:
    if np.isnan(value):
        return "unknown"
    if value > MAJOR:
        return "major"
    return "moderate" if value > MODERATE else "stable"


def drift_warnings(report: pd.DataFrame) -> list[str]:
    """Messages for important features with a major shift (PSI > 0.25)."""
    hits = report[report["important"] & (report["psi"] > MAJOR)]
    return [
        f"{r.model} model: feature '{r.feature}' drifted (PSI {r.psi:.2f} > {MAJOR}); "
        "its scores may be unreliable until the model is retrained"
        for r in hits.itertuples(index=False)
    ]
