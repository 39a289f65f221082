"""Feature drift at scoring time: each model feature against its training profile, judged by
how much that feature normally moves.

The training profile (``LoadedModel.feature_profile``, see ``valuemodel.models.schema``)
describes the population at the training as-of date (``profile_date``): per feature, its bins
and the share of accounts per bin, and its **normal movement**: a high quantile of the PSIs
between training snapshots the same number of months apart (``valuemodel.models.stability``).
The scored population is counted in the same bins and

    PSI = sum over bins of (actual - expected) * ln(actual / expected)

(shares floored at 1e-4). ``status`` is the usual reading of the PSI alone: < 0.1 stable,
0.1-0.25 moderate, > 0.25 major. A feature is **beyond normal** when its PSI exceeds
``limit = max(FLOOR, FACTOR x normal movement)`` at the scoring date's distance in months
from the profile's date, or its mean bin moved more than
``max(LOCATION_FLOOR, FACTOR x normal move of the mean bin)``.

On the profile's own date (``days`` 0) the normal movement is 0: the scored population is
the profiled one, and the data the model was trained on give a PSI of 0 for every feature.
``FLOOR`` and ``LOCATION_FLOOR`` alone set the limits there, and a feature beyond them means
that the data up to that date changed since training. (A third of the accounts trading half
as often from three months before moves a dozen trade features by 0.1 to 0.3 bins on that
date: beyond 0.1, though well within a month's normal movement, the only yardstick a later
date has.)

A warning is printed only for a feature that is beyond normal and carries the model (at
least ``CARRYING_SHARE`` of its total gain, or an average feature's share where that is
lower, when the features beyond normal together carry ``CARRYING_SHARE``). A feature
declared to follow the market index (returns, P&L, asset growth: ``market`` in its
declaration) whose whole distribution moved together (once shifted back by the change of its
median, its PSI ``psi_after_shift`` is within the limit) counts as a move of the market:
such features are summed up in one line, "the market moved", rather than one warning each;
prices moved for everyone, the data are not wrong, and retraining would not undo it. A third
of the accounts losing half their assets is no market move: the median barely shifts, and
the PSI stays. On the profile's own date nothing is the market's: the prices are the ones
training read.

A bundle written before the normal movement was kept (no ``profile_date``) is judged by the
old rule: PSI > 0.25 on one of the model's ``TOP_IMPORTANT`` features by gain.

The drift file keeps every number: ``DRIFT_COLUMNS``.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from valuemodel.models.stability import (
    bin_location,
    expected_shares,
    months_apart,
    normal_movement,
    observed_shares,
    psi,
)

MAJOR = 0.25
MODERATE = 0.1
FACTOR = 2.0
"""A feature is beyond normal when its PSI is more than this times its normal movement..."""
FLOOR = 0.05
"""... and more than this (below it, a PSI is sampling noise in any reading)."""
LOCATION_FLOOR = 0.1
"""A move of the mean bin beyond normal is also at least this many bins."""
CARRYING_SHARE = 0.02
"""A feature carries the model when it has at least this share of the model's total gain, or
at least an average feature's share (1 / number of features) where that is lower: with 150
features, a feature of 0.9 % (total assets, once a retrain spreads the gain) still carries.
Below this share, it warns only when the features beyond normal together carry this share:
one minor feature moving alone changes little of any score (at a month end after training, a
buy/sell balance with 0.67 % of the gain moved 2.7 times its normal month), a third of the
accounts losing half their assets moves five such features at once (4.7 % together)."""
TOP_IMPORTANT = 10
"""The old rule (bundles without normal movement): warn on the top features by gain."""
MAX_PRINTED = 5
DRIFT_COLUMNS = (
    "model",
    "feature",
    "psi",
    "status",
    "normal_psi",
    "bins_moved",
    "normal_bins",
    "months",
    "days",
    "limit",
    "beyond_normal",
    "importance_share",
    "important",
    "market",
    "psi_after_shift",
    "warn",
)

__all__ = [
    "DRIFT_COLUMNS",
    "drift_report",
    "drift_warnings",
    "feature_psi",
    "market_features",
    "psi",
]


def feature_psi(values: pd.Series, profile: dict[str, Any]) -> float:
    """PSI of one feature's scored values against its training ``profile`` (NaN if empty)."""
    expected = expected_shares(profile)
    if expected is None or len(values) == 0:
        return float("nan")
    return psi(expected, observed_shares(values, profile))


def market_features(registry: Any) -> set[str]:
    """The feature columns of a feature registry that follow the market index (none
    without a registry)."""
    specs = getattr(registry, "specs", None)
    return {s.name for s in specs() if getattr(s, "market", False)} if callable(specs) else set()


def _importance(model: Any) -> pd.Series:
    booster = model.booster
    gain = pd.Series(
        booster.feature_importance(importance_type="gain"), index=booster.feature_name()
    ).astype(float)
    total = gain.sum()
    return gain / total if total > 0 else gain * 0.0


def _profile_date(model: Any) -> date | None:
    when = getattr(model, "profile_date", None)
    return None if when is None else pd.Timestamp(when).date()


def drift_report(
    features: pd.DataFrame,
    models: dict[str, Any],
    as_of: date | str | None = None,
    market: Collection[str] = (),
) -> pd.DataFrame:
    """One row per (model, feature): ``DRIFT_COLUMNS``, warnings first, then by PSI.

    ``models`` maps a name (``churn``, ``clv``) to a loaded model with ``feature_profile``,
    ``feature_names``, ``booster`` and ``profile_date``; ``as_of`` is the
    scoring date (None: the profile's own date); ``market`` names the features that follow
    the market index.
    """
    rows = []
    for name, model in models.items():
        share = _importance(model)
        important = set(share[share > 0].nlargest(TOP_IMPORTANT).index)
        carrying = min(CARRYING_SHARE, 1.0 / max(len(model.feature_names), 1))
        profile, when = model.feature_profile, _profile_date(model)
        months = days = None
        if when is not None:
            scored_on = pd.Timestamp(as_of).date() if as_of else when
            months, days = months_apart(when, scored_on), abs((scored_on - when).days)
        for feature in model.feature_names:
            found = feature in profile and feature in features.columns
            value, moved = _moved(features[feature], profile[feature]) if found else (np.nan,) * 2
            steps = profile.get(feature, {}).get("movement") if months is not None else None
            normal = (
                normal_movement(steps, months, same_date=days == 0)
                if steps is not None
                else (np.nan,) * 2
            )
            row = {
                "model": name,
                "feature": feature,
                "psi": value,
                "status": _status(value),
                "normal_psi": normal[0],
                "bins_moved": moved,
                "normal_bins": normal[1],
                "months": months,
                "days": days,
                "importance_share": float(share.get(feature, 0.0)),
                "important": feature in important,
            }
            row |= _judged(row, steps is not None, carrying)
            shifted = float("nan")
            if feature in market and found and row["beyond_normal"] and days != 0:
                shifted = _psi_after_shift(features[feature], profile[feature])
            row["psi_after_shift"] = shifted
            row["market"] = bool(shifted <= row["limit"])
            rows.append(row)
        _together(rows, name)
    report = pd.DataFrame(rows, columns=list(DRIFT_COLUMNS))
    report[["months", "days"]] = report[["months", "days"]].astype("Int64")
    return report.sort_values(
        ["model", "warn", "psi", "feature"],
        ascending=[True, False, False, True],
        kind="mergesort",
        na_position="last",
    ).reset_index(drop=True)


def _moved(values: pd.Series, profile: dict[str, Any]) -> tuple[float, float]:
    """(PSI, move of the mean bin) of the scored values against the profile."""
    expected = expected_shares(profile)
    if expected is None or len(values) == 0:
        return float("nan"), float("nan")
    actual = observed_shares(values, profile)
    if profile.get("kind") == "categorical":
        return psi(expected, actual), float("nan")
    return psi(expected, actual), bin_location(actual) - bin_location(expected)


def _psi_after_shift(values: pd.Series, profile: dict[str, Any]) -> float:
    """The PSI once the scored values are moved by the change of the median: small when the
    whole distribution moved together, as it does when the market moves (NaN: no median)."""
    if "median" not in profile:
        return float("nan")
    x = pd.to_numeric(values, errors="coerce").astype(float)
    if not x.notna().any():
        return float("nan")
    return _moved(x - (x.median() - float(profile["median"])), profile)[0]


def _judged(row: dict[str, Any], measured: bool, carrying: float) -> dict[str, Any]:
    """``limit``, ``beyond_normal`` and ``warn`` of one row (the old rule when not measured)."""
    value = row["psi"]
    if not measured:
        beyond = bool(value > MAJOR)
        return {"limit": MAJOR, "beyond_normal": beyond, "warn": beyond and row["important"]}
    normal, bins = row["normal_psi"], row["normal_bins"]
    limit = max(FLOOR, FACTOR * normal) if np.isfinite(normal) else MAJOR
    far = np.isfinite(bins) and abs(row["bins_moved"]) > max(LOCATION_FLOOR, FACTOR * bins)
    beyond = bool(value > limit or far)
    return {
        "limit": limit,
        "beyond_normal": beyond,
        "warn": beyond and row["importance_share"] >= carrying,
    }


def _together(rows: list[dict[str, Any]], model: str) -> None:
    """A feature under ``CARRYING_SHARE`` warns only when the model's features beyond
    normal (with their normal movement measured) together carry ``CARRYING_SHARE``."""
    mine = [r for r in rows if r["model"] == model and np.isfinite(r["normal_psi"])]
    moved = sum(r["importance_share"] for r in mine if r["beyond_normal"])
    if moved < CARRYING_SHARE:
        for r in mine:
            r["warn"] = bool(r["warn"] and r["importance_share"] >= CARRYING_SHARE)


def _status(value: float) -> str:
    if np.isnan(value):
        return "unknown"
    if value > MAJOR:
        return "major"
    return "moderate" if value > MODERATE else "stable"


def drift_warnings(report: pd.DataFrame, where: str = "the drift file") -> list[str]:
    """A few actionable messages: one per drifted feature that carries a model (at most
    ``MAX_PRINTED``, the rest counted), and one line for the features following the market."""
    hits = report[report["warn"].astype(bool)]
    market = hits[hits["market"].astype(bool)]
    own = hits[~hits["market"].astype(bool)].sort_values("psi", ascending=False)
    out = [_message(r) for r in own.head(MAX_PRINTED).itertuples(index=False)]
    if len(own) > MAX_PRINTED:
        out.append(f"{len(own) - MAX_PRINTED} more drifted feature(s) are listed in {where}")
    if len(market):
        names = list(dict.fromkeys(market["feature"]))
        shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
        out.append(
            f"the market moved: {len(names)} feature(s) follow the index ({shown}) and moved "
            "more than between any training months; the data are not wrong, and the scores "
            "take the new market level into account; compare the list's churn rate with the "
            "next months' before retraining"
        )
    return out


def _message(r: Any) -> str:
    if pd.isna(r.normal_psi):  # the old rule: no normal movement in the model
        return (
            f"{r.model} model: feature '{r.feature}' drifted (PSI {r.psi:.2f} > {MAJOR}); "
            "its scores may be unreliable until the model is retrained"
        )
    carries = _share(r.importance_share)
    if r.days == 0:
        return (
            f"{r.model} model: feature '{r.feature}' differs from the training population on "
            f"the training date itself (PSI {r.psi:.2f}{_bins(r.bins_moved)}; the data the "
            f"model was trained on give 0); it carries {carries} of the model: the data up to "
            "that date changed since training; check this feature's source data, and retrain "
            "if the change is real"
        )
    apart = f"{r.months} month{'s' if r.months != 1 else ''}"
    normal = f"at most {r.normal_psi:.2f}"
    if np.isfinite(r.normal_bins) and np.isfinite(r.bins_moved):
        normal += f" and {r.normal_bins:.2f} bins"
    return (
        f"{r.model} model: feature '{r.feature}' moved beyond its normal range (PSI "
        f"{r.psi:.2f}{_bins(r.bins_moved)}; between training snapshots {apart} apart "
        f"{normal}); it carries {carries} of the model: check this feature's source data, "
        "and retrain if the change is real"
    )


def _bins(moved: float) -> str:
    """The move of the mean bin, where there is one (a categorical feature has none)."""
    return f", mean {moved:+.2f} bins" if np.isfinite(moved) else ""


def _share(share: float) -> str:
    """A share of the model's gain: "0.7%" below 1% (a carrying feature may hold that
    little of a model with 150 features), "12%" above."""
    return f"{share:.1%}" if share < 0.01 else f"{share:.0%}"
