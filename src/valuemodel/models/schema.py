"""The feature schema a model was trained on: names, dtypes, category lists and a profile.

Scoring must present features exactly as training did: the same columns in the same order,
numbers as float64 and categorical columns as pandas ``category`` with the *training* category
list (LightGBM encodes a category by its position in that list; an unseen value becomes
missing). The profile holds aggregate distributions for drift checks (PSI): bin edges
(deciles, or the values of a discrete number) and the share of rows per bin, or the share per
category, taken from the population at the training as-of date (``profiled_on``), with each
feature's normal movement between the training snapshots (``valuemodel.models.stability``).
No row-level data.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from valuemodel.cores import usable_cores
from valuemodel.errors import ModelError
from valuemodel.models.stability import movement, numeric_edges, stable_float

ID_COLUMNS = ("account_id", "as_of")
__all__ = ["ID_COLUMNS", "FeatureSchema", "is_categorical", "stable_float"]


def is_categorical(series: pd.Series) -> bool:
    """Whether a feature column is categorical (category, string or object dtype)."""
    dtype = series.dtype
    return (
        isinstance(dtype, pd.CategoricalDtype)
        or pd.api.types.is_string_dtype(dtype)
        or pd.api.types.is_object_dtype(dtype)
    )


def _as_text(series: pd.Series, known: list[str]) -> pd.Series:
    """Values as text; missing and unknown values (not in ``known``) as missing."""
    text = series.astype("string")
    return text.where(text.isin(known))


def _as_categories(series: pd.Series, known: list[str]) -> pd.Categorical:
    """``series`` as a categorical of the ``known`` labels, read as text (others missing).

    A categorical series is recoded through its categories (a few labels) instead of
    converting each of its values to text: the same result, 1.3 s to a few milliseconds
    for a million rows of six columns.
    """
    if isinstance(series.dtype, pd.CategoricalDtype) and len(set(known)) == len(known):
        where = {label: i for i, label in enumerate(known)}
        labels = pd.Index(series.cat.categories).astype("string")
        recode = np.array([where.get(label, -1) for label in labels] + [-1], dtype=np.int64)
        codes = recode[series.cat.codes.to_numpy()]  # code -1 (missing) takes the last, -1
        return pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(known))
    return pd.Categorical(_as_text(series, known), categories=known)


def _categories(series: pd.Series) -> list[str]:
    if isinstance(series.dtype, pd.CategoricalDtype):
        return [str(c) for c in series.dtype.categories]
    values = series.dropna().astype(str).unique()
    return sorted(str(v) for v in values)


def _numeric_profile(values: pd.Series) -> dict[str, Any]:
    x = values.to_numpy(dtype=float, na_value=np.nan)
    finite = x[np.isfinite(x)]
    missing = float(1 - len(finite) / len(x)) if len(x) else 0.0
    if len(finite) == 0:
        return {"kind": "numeric", "edges": [], "shares": [], "missing_share": missing}
    edges = numeric_edges(finite)
    counts = np.bincount(np.searchsorted(edges, finite, side="left"), minlength=len(edges) + 1)
    return {
        "kind": "numeric",
        "edges": edges.tolist(),
        "shares": (counts / len(x)).tolist(),
        "missing_share": missing,
        "median": float(np.median(finite)),
    }


def _categorical_profile(values: pd.Series, categories: list[str]) -> dict[str, Any]:
    counts = values.dropna().astype(str).value_counts()
    n = max(len(values), 1)
    return {
        "kind": "categorical",
        "categories": categories,
        "shares": [float(counts.get(c, 0) / n) for c in categories],
        "missing_share": float(values.isna().sum() / n),
    }


@dataclass(frozen=True)
class FeatureSchema:
    """Feature names in model order, dtype per feature, category lists and the profile.

    ``dtypes`` maps each name to ``"float64"`` or ``"category"``; the binning of the profile:
    bin ``i`` holds values ``edges[i-1] < x <= edges[i]`` (first and last bins open-ended).
    ``profile_date`` is the as-of date the profile describes (None in bundles written before
    it was kept: their profile pooled the training rows, and has no ``movement``).
    """

    feature_names: list[str]
    dtypes: dict[str, str]
    categories: dict[str, list[str]] = field(default_factory=dict)
    profile: dict[str, dict[str, Any]] = field(default_factory=dict)
    profile_date: str | None = None

    @classmethod
    def from_frame(cls, features: pd.DataFrame) -> FeatureSchema:
        """Infer the schema from a training feature frame (ID columns are not features)."""
        names = [c for c in features.columns if c not in ID_COLUMNS]
        dtypes, categories, profile = {}, {}, {}
        for name in names:
            col = features[name]
            if is_categorical(col):
                dtypes[name], categories[name] = "category", _categories(col)
                profile[name] = _categorical_profile(col, categories[name])
            else:
                dtypes[name] = "float64"
                profile[name] = _numeric_profile(pd.Series(stable_float(col)))
        return cls(names, dtypes, categories, profile)

    def profiled_on(self, features: pd.DataFrame) -> FeatureSchema:
        """The same schema with the drift profile of ``features`` (bins drawn anew from
        them; categories keep the training lists)."""
        profile = {}
        for name in self.feature_names:
            col = features[name]
            if self.dtypes[name] == "category":
                profile[name] = _categorical_profile(col, self.categories[name])
            else:
                profile[name] = _numeric_profile(pd.Series(stable_float(col)))
        return replace(self, profile=profile)

    def drift_baseline(
        self, now: pd.DataFrame, snapshots: pd.DataFrame, at: date
    ) -> FeatureSchema:
        """The schema with the profile of ``now`` (the population at the training as-of date
        ``at``) and each feature's normal movement over ``snapshots`` and ``now`` (both with
        an ``as_of`` column), see ``valuemodel.models.stability``."""
        profiled = self.profiled_on(now)
        columns = ["as_of", *self.feature_names]
        dates = pd.concat([snapshots[columns], now[columns]], ignore_index=True)
        moves = movement(dates, profiled.profile, self.feature_names)
        profile = {n: {**p, "movement": moves[n]} for n, p in profiled.profile.items()}
        return replace(profiled, profile=profile, profile_date=str(at))

    def prepare(self, features: pd.DataFrame) -> pd.DataFrame:
        """Columns in training order, float64 numbers, categories with the training lists.

        Raises ``ModelError`` naming every missing column and every dtype mismatch.
        """
        missing = [n for n in self.feature_names if n not in features.columns]
        wrong = [
            f"{n} (expected {self.dtypes[n]}, got {features[n].dtype})"
            for n in self.feature_names
            if n in features.columns and not self._dtype_fits(n, features[n])
        ]
        problems = []
        if missing:
            more = f" and {len(missing) - 8} more" if len(missing) > 8 else ""
            problems.append(
                f"missing feature column(s): {', '.join(missing[:8])}{more} (the data probably "
                "lacks a table the training data had: retrain on data like this)"
            )
        if wrong:
            problems.append(f"dtype mismatch: {', '.join(wrong)}")
        if problems:
            raise ModelError("features do not match the model's schema: " + "; ".join(problems))
        numbers = [n for n in self.feature_names if self.dtypes[n] != "category"]
        with ThreadPoolExecutor(usable_cores()) as pool:  # numpy releases the GIL
            found = pool.map(lambda n: stable_float(features[n]), numbers)
            stable = dict(zip(numbers, found, strict=True))
        out = {
            n: stable[n] if n in stable else _as_categories(features[n], self.categories[n])
            for n in self.feature_names
        }
        return pd.DataFrame(out, index=features.index)

    def _dtype_fits(self, name: str, col: pd.Series) -> bool:
        if self.dtypes[name] == "category":
            return is_categorical(col)
        return pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature_names": list(self.feature_names),
            "dtypes": dict(self.dtypes),
            "categories": {k: list(v) for k, v in self.categories.items()},
            "profile": self.profile,
            "profile_date": self.profile_date,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureSchema:
        try:
            names = [str(n) for n in data["feature_names"]]
            dtypes = {str(k): str(v) for k, v in data["dtypes"].items()}
            categories = {str(k): [str(c) for c in v] for k, v in data["categories"].items()}
        except (KeyError, AttributeError, TypeError) as exc:
            raise ModelError(f"feature schema is malformed: {exc!r}") from exc
        bad = [n for n in names if dtypes.get(n) not in ("float64", "category")]
        bad += [n for n in names if dtypes.get(n) == "category" and n not in categories]
        if bad:
            raise ModelError(f"feature schema is malformed for column(s): {', '.join(bad)}")
        when = data.get("profile_date")
        profile = dict(data.get("profile", {}))
        return cls(names, dtypes, categories, profile, None if when is None else str(when))
