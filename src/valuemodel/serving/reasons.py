"""The strongest drivers of each account's churn risk, in words (English or Chinese).

Drivers are LightGBM's exact TreeSHAP contributions (``booster.predict(X, pred_contrib=True)``,
the values ``shap.TreeExplainer`` returns for a LightGBM model) in the booster's raw log-odds:
the features that pushed this account's churn score up the most. Only positive contributions
are drivers; with fewer than three, the remaining reasons are left empty (null).

Words come from the feature registry's reason templates (``reason_en`` / ``reason_zh``), which
are ``str.format`` strings over ``{value}`` (the driver's own value) and other features of the
same account by name, e.g. ``"trading days fell from {active_trading_days_365d} ... to
{value}"``. A template that cannot be filled (a feature it names is absent) falls back to the
feature's description and value, so a reason is never lost.
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from valuemodel.features.registry import days_ago
from valuemodel.models.shap_values import contributions, top_drivers, top_positive_drivers
from valuemodel.serving.config import TierConfig

REASON_COLUMNS = ("reason_1", "reason_2", "reason_3")
DRIVER_COLUMNS = ("driver_1", "driver_2", "driver_3")
_MISSING = {"en": "unknown", "zh": "未知"}


class _Shown:
    """A value for a template: format specs apply as usual; without one, the unit decides
    (shares as percentages, CNY with thousands separators, counts as integers)."""

    def __init__(self, value: Any, lang: str, unit: str = ""):
        self.value, self.lang, self.unit = value, lang, unit or ""

    def __format__(self, spec: str) -> str:
        v = self.value
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return _MISSING.get(self.lang, "unknown")
        if spec == "ago":
            return days_ago(v, self.lang)
        if spec:
            return _signed(v, spec)
        if isinstance(v, bool | np.bool_) or not isinstance(v, int | float | np.number):
            return str(v)
        v = float(v)
        if self.unit.startswith("share"):
            return _signed(v, ".0%")
        if self.unit == "CNY":
            return f"{v:,.0f} CNY" if self.lang != "zh" else f"{v:,.0f}元"
        if v.is_integer():
            return f"{int(v):,}"
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"

    def __str__(self) -> str:
        return self.__format__("")


def _signed(value: Any, spec: str) -> str:
    """``format(value, spec)``, without a sign on a zero ("+0%" is neither up nor down): a
    percentage too small for its decimals gets one more ("-0.3%"), a true zero none."""
    text = format(value, spec)
    if not re.fullmatch(r"[+\-]?0(\.0*)?%?", text.replace(",", "")):
        return text
    digits = re.search(r"\.(\d+)%$", spec)
    if spec.endswith("%") and value != 0:
        finer = spec[: digits.start()] if digits else spec[:-1]
        finer_text = format(value, f"{finer}.{int(digits.group(1)) + 1 if digits else 1}%")
        if not re.fullmatch(r"[+\-]?0(\.0*)?%", finer_text):
            return finer_text
    return text.lstrip("+-")


def _spec(registry: Any, name: str) -> Any:
    if registry is None:
        return None
    try:
        return registry[name]
    except (KeyError, TypeError, IndexError):
        get = getattr(registry, "get", None)
        return get(name) if callable(get) else None


class _Cached:
    """Remembers registry look-ups (a windowed name is resolved by pattern matching)."""

    def __init__(self, registry: Any):
        self.registry = registry
        self.known: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self.known:
            self.known[name] = _spec(self.registry, name)
        if self.known[name] is None:
            raise KeyError(name)
        return self.known[name]


def _clean(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):  # a NumPy NaN is still NaN once a Python float
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def phrase(feature: str, row: Mapping[str, Any], registry: Any = None, lang: str = "en") -> str:
    """One reason in words: the feature's template filled with the account's real values.

    ``row`` maps feature names to this account's values. Without a usable template, or when
    the feature's own value is null, the reason is the feature's description and value.
    """
    spec = _spec(registry, feature)
    fields = _Fields(row, feature, lang, registry)
    template = getattr(spec, "reason_zh" if lang == "zh" else "reason_en", None)
    value = _clean(row.get(feature))
    if template and value is not None:
        try:
            return template.format_map(fields)
        except (KeyError, IndexError, ValueError, TypeError, AttributeError):
            pass
    label = getattr(spec, "description_zh" if lang == "zh" else "description", None) or feature
    label = label.strip().rstrip(".。")
    if lang != "zh":  # a reason is a phrase in lower case, as the templates write them
        label = label[:1].lower() + label[1:]
    if value is None:
        return f"{label}：无记录" if lang == "zh" else f"{label}: none on record"
    shown = _Shown(value, lang, getattr(spec, "unit", ""))
    return f"{label}：{shown}" if lang == "zh" else f"{label}: {shown}"


class _Fields(Mapping):
    """The template's fields: ``value`` and every feature of the row, wrapped on access."""

    def __init__(self, row: Mapping[str, Any], feature: str, lang: str, registry: Any):
        self.row, self.feature, self.lang, self.registry = row, feature, lang, registry

    def __getitem__(self, key: str) -> _Shown:
        name = self.feature if key == "value" else key
        if name not in self.row:
            raise KeyError(key)
        unit = getattr(_spec(self.registry, name), "unit", "")
        return _Shown(_clean(self.row[name]), self.lang, unit)

    def __iter__(self):
        return iter(("value", *self.row))

    def __len__(self) -> int:
        return len(self.row) + 1


def explain(
    booster: Any,
    X: pd.DataFrame,
    features: pd.DataFrame,
    registry: Any = None,
    lang: str = "en",
    exclude: Sequence[str] | None = None,
) -> pd.DataFrame:
    """``reason_1..3`` and ``driver_1..3`` for each row of ``X`` (index-aligned ``features``).

    ``X`` is the prepared model input; ``features`` holds the raw feature values (any extra
    columns are available to templates). Call it on the written rows only: it is the costly step.
    ``exclude``: feature-name patterns never given as a reason (default: the tiers file's
    ``reasons.exclude``, protected and administrative attributes); the next driver moves up.
    """
    exclude = not_reasons() if exclude is None else exclude
    drivers = top_drivers(contributions(booster, X), exclude=exclude)
    words = phrase_drivers(drivers, features, registry, lang)
    reasons = dict(zip(REASON_COLUMNS, words, strict=True))
    out = pd.DataFrame(reasons, index=X.index, dtype="object")
    return pd.concat([out, drivers], axis=1)


PHRASE_CHUNK_ROWS = 16_384
"""Rows phrased at once. Their values are read as Python objects (about 32 bytes each, over
the columns the reasons read): the whole list at once held 4 GB at a million accounts."""


def phrase_drivers(
    drivers: pd.DataFrame, features: pd.DataFrame, registry: Any = None, lang: str = "en"
) -> list[list[str | None]]:
    """Each driver of each row of ``drivers`` (``top_drivers``) in words, read from the
    index-aligned ``features`` (any extra columns are available to templates): one list per
    driver column, None where there is no driver. Phrased ``PHRASE_CHUNK_ROWS`` rows at a
    time; a driver's words are found once for the values its template reads."""
    registry = _Cached(registry) if registry is not None else None
    reads = _reads(drivers, registry, lang, features.columns)
    needed = [c for c in features.columns if any(c in r for r in reads.values())]
    out: dict[str, list] = {c: [] for c in drivers.columns}
    said: dict[tuple, str] = {}  # a reason is a function of the values its template reads
    for start in range(0, len(drivers), PHRASE_CHUNK_ROWS):
        chunk = drivers.iloc[start : start + PHRASE_CHUNK_ROWS]
        rows = features.loc[chunk.index, needed]
        _phrase_rows(chunk, rows, reads, said, out, registry=registry, lang=lang)
    return list(out.values())


def _phrase_rows(
    drivers: pd.DataFrame,
    rows: pd.DataFrame,
    reads: dict[str, tuple[str, ...]],
    said: dict[tuple, str],
    reasons: dict[str, list],
    *,
    registry: Any,
    lang: str,
) -> None:
    """Append the reasons of ``drivers``' rows (values in ``rows``) to ``reasons`` (one list
    per driver column, in order); ``said`` keeps the words already found for a driver and the
    values its template reads."""
    columns = {c: rows[c].tolist() for c in rows.columns}
    for i, names in enumerate(drivers.itertuples(index=False, name=None)):
        row = _Row(columns, i)
        for column, name in zip(reasons, names, strict=True):
            if not isinstance(name, str):  # no driver (None, or NaN in a string column)
                reasons[column].append(None)
                continue
            key = (name, *(columns[c][i] for c in reads[name]))
            try:
                text = said.get(key)
            except TypeError:  # a value that cannot be a key (a list in an extra column)
                text = key = None
            if text is None:
                text = phrase(name, row, registry, lang)
                if key is not None:
                    said[key] = text
            reasons[column].append(text)


class _Row(Mapping):
    """Row ``i`` of ``columns`` (name -> list of values) as a mapping, without copying it:
    the list's rows share one set of column lists (a dict per row cost 6 s per 100,000)."""

    __slots__ = ("columns", "i")

    def __init__(self, columns: dict[str, list], i: int):
        self.columns, self.i = columns, i

    def __getitem__(self, name: str) -> Any:
        return self.columns[name][self.i]

    def __contains__(self, name: object) -> bool:
        return name in self.columns

    def __iter__(self):
        return iter(self.columns)

    def __len__(self) -> int:
        return len(self.columns)


def _reads(
    drivers: pd.DataFrame, registry: Any, lang: str, columns: pd.Index
) -> dict[str, tuple[str, ...]]:
    """Per driver, the columns its reason can read: the driver and the features its template
    names (those present). Equal values there give the same words."""
    names = {d for d in pd.unique(drivers.to_numpy().ravel()) if isinstance(d, str)}
    reads = {}
    for name in names:
        needed = {name}
        template = getattr(_spec(registry, name), "reason_zh" if lang == "zh" else "reason_en", "")
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(template or "") if f]
        except ValueError:
            fields = []
        needed |= {re.split(r"[.\[]", f)[0] for f in fields}
        reads[name] = tuple(c for c in columns if c in needed)
    return reads


# --- the ranked list against its SHAP values -----------------------------------------------


def _present(value: Any) -> bool:
    if value is None or value is pd.NA:
        return False
    return not (isinstance(value, float) and math.isnan(value))


def reason_check(
    ranked: pd.DataFrame,
    shap: pd.DataFrame,
    features: pd.DataFrame,
    registry: Any = None,
    lang: str = "en",
    exclude: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Whether each listed account's reasons are its strongest SHAP drivers of churn.

    ``ranked``: rows of the ranked list (``rank``, ``account_id``, ``reason_1..3``, and
    ``driver_1..3`` when written); ``shap``: :func:`shap_frame` of the churn model on
    ``features``; ``features``: the features the list was scored from (``account_id`` plus
    features, same index as ``shap``); ``registry``: reason templates (default: the
    scorer's, ``load_registry()``). Returns per listed row: ``rank``, ``shap_drivers`` and
    ``listed_drivers`` (tuples), ``shap_reasons`` and ``listed_reasons`` (tuples of text),
    and ``drivers_match`` / ``reasons_match``. Raises ``KeyError`` for an account that is
    not in ``features``. ``exclude``: as the list was scored (default :func:`not_reasons`).
    """
    registry = registry if registry is not None else _default_registry()
    exclude = not_reasons() if exclude is None else exclude
    where = pd.Series(features.index, index=features["account_id"].astype(str).to_numpy())
    drivers = top_positive_drivers(shap.loc[features.index], exclude=exclude)
    records = []
    for _, listed in ranked.iterrows():
        idx = where[str(listed["account_id"])]
        found = tuple(d for d in drivers.loc[idx] if _present(d))
        row = features.loc[idx].to_dict()
        said = tuple(phrase(d, row, registry, lang) for d in found)
        text = tuple(listed[c] for c in REASON_COLUMNS if c in listed and _present(listed[c]))
        named = tuple(listed[c] for c in DRIVER_COLUMNS if c in listed and _present(listed[c]))
        has_drivers = any(c in ranked.columns for c in DRIVER_COLUMNS)
        records.append(
            {
                "rank": listed.get("rank"),
                "shap_drivers": found,
                "listed_drivers": named if has_drivers else None,
                "shap_reasons": said,
                "listed_reasons": text,
                "drivers_match": (named == found) if has_drivers else None,
                "reasons_match": text == said,
            }
        )
    return pd.DataFrame.from_records(records, index=ranked.index)


def not_reasons(config: TierConfig | None = None) -> tuple[str, ...]:
    """The feature-name patterns never given as a reason: the tiers file's ``reasons.exclude``
    (default: the packaged one, ``age``, ``gender``, ``branch``, ``manager*``, ``channel``)."""
    return (config if config is not None else TierConfig()).reasons.exclude


def _default_registry() -> Any:
    try:
        from valuemodel.features import load_registry

        return load_registry()
    except Exception:  # noqa: BLE001 - without a registry, reasons name the features
        return None
