"""Labelled snapshot frames: features at each as-of date joined to the labels after it.

A frame has one row per account x snapshot date in the population, columns ``account_id``,
``as_of``, the features, then ``churn`` and ``value`` (NaN where the label window is not
covered by ``end``). Features are built from ``data`` as given: the caller passes a view cut
at the training as-of date (``data.until(as_of)``), so nothing later is read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from valuemodel import engine
from valuemodel.data.reader import DataSet
from valuemodel.data.schema import CAMPAIGN_TABLES, TABLES
from valuemodel.errors import InputError
from valuemodel.features.sample import AccountSample, sample_for

LABELS = ("churn", "value")
KEYS = ["account_id", "as_of"]


def data_start(data: DataSet) -> date:
    """The earliest date in any dated table (``accounts`` open dates do not count)."""
    starts = []
    for name in data.files:
        column = TABLES[name].date_column
        if name == "accounts" or name in CAMPAIGN_TABLES or column is None:
            continue
        value = engine.execute(data.table(name)[column].min())
        if value is not None and not pd.isna(value):
            starts.append(pd.Timestamp(value).date())
    if not starts:
        raise InputError(f"{data.path}: no dated rows on or before the training as-of date")
    return min(starts)


def label_ends(
    data: DataSet, churn_definition: str, end: date
) -> tuple[dict[str, date], list[str]]:
    """Per label, the date its snapshots' windows must end by: ``end``, or the last date of
    the table the label reads when that table stops earlier; with a note naming the table."""
    from valuemodel.features.labels import label_ends as table_ends

    out, notes = {}, []
    for label, (table, last, by) in table_ends(data, churn_definition, end).items():
        if by is None:
            raise InputError(f"{data.path}: the {table} table has no rows on or before {end}")
        out[label] = by
        if by < end:
            notes.append(
                f"{label}: the {table} table ends {last}, before the training end {end}; "
                f"{label} labels read {table}, so snapshots whose window ends after {last} "
                "are left unlabelled (missing, not guessed)"
            )
    return out, notes


def _normalise(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["as_of"] = pd.to_datetime(frame["as_of"]).astype("datetime64[ns]")
    frame["account_id"] = frame["account_id"].astype(str)
    return frame


def labelled_frame(
    data: DataSet,
    dates: Sequence[date],
    *,
    churn_horizon: int,
    value_horizon: int,
    churn_definition: str,
    end: date,
    feature_config: Any = None,
    features: pd.DataFrame | None = None,
    sample: AccountSample | None = None,
) -> pd.DataFrame:
    """Features and labels at ``dates``, sorted by as-of date and account.

    ``features``: the features at (at least) ``dates``, already built (:func:`features_at`);
    built here when not given. ``sample``: the accounts kept (:func:`account_sample`).
    """
    from valuemodel.features import build_features, build_labels

    if features is None:
        features = _normalise(build_features(data, list(dates), feature_config, sample))
    else:
        features = features[features["as_of"].isin(pd.to_datetime(list(dates)))]
    labels = build_labels(
        data,
        list(dates),
        churn_horizon=churn_horizon,
        value_horizon=value_horizon,
        churn_definition=churn_definition,
        end=end,
        sample=sample,
    )
    labels = _normalise(labels[[*KEYS, *LABELS]])
    frame = features.merge(labels, on=KEYS, how="inner", validate="one_to_one")
    return frame.sort_values(KEYS, kind="stable").reset_index(drop=True)


def features_at(
    data: DataSet,
    at: date | Sequence[date],
    feature_config: Any = None,
    sample: AccountSample | None = None,
):
    """The features of the population at ``at`` (a date or dates), as in a frame: at the
    training as-of date, what the drift profile describes and what scoring at that date sees.
    Many dates are built in one pass (the same values as one at a time). ``sample``: the
    accounts kept (:func:`account_sample`)."""
    from valuemodel.features import build_features

    dates = [at] if isinstance(at, date) else sorted(set(at))
    return _normalise(build_features(data, dates, feature_config, sample))


def account_sample(
    data: DataSet, dates: Sequence[date], cap: int, seed: int, feature_config: Any = None
) -> tuple[AccountSample | None, list[str]]:
    """The accounts whose features at ``dates`` training reads, and a note: all of them
    (None) while the population's rows at ``dates`` are at most ``cap``
    (``snapshots.max_feature_rows``), else a seeded share drawn by the engine
    (:mod:`valuemodel.features.sample`). Counting runs on the engine: the accounts table,
    and the population at ``dates`` only when the accounts alone could exceed ``cap``."""
    from valuemodel.features import load_feature_config
    from valuemodel.features.population import population

    dates = sorted(set(dates))
    if int(engine.execute(data.table("accounts").count())) * len(dates) <= cap:
        return None, []
    min_assets = (feature_config or load_feature_config()).min_assets
    rows = int(engine.execute(population(data, dates, min_assets).count()))
    sample = sample_for(rows, cap, seed)
    if sample is None:
        return None, []
    return sample, [
        f"training: {rows:,} rows (accounts x {len(dates)} dates) are more than "
        f"snapshots.max_feature_rows ({cap:,}): a seeded {sample.share:.2%} of the accounts, "
        f"about {round(rows * sample.share):,} rows, was drawn by the engine before reading "
        "(each kept account's features are those of the whole population: ranks and "
        "quintiles among all accounts)"
    ]


def at_dates(features: pd.DataFrame, dates: Sequence[date]) -> pd.DataFrame:
    """The rows of ``features`` at ``dates``, as a build at these dates alone gives them
    (:func:`seen_at`)."""
    return seen_at(features[features["as_of"].isin(pd.to_datetime(list(dates)))], dates)


def seen_at(features: pd.DataFrame, dates: Sequence[date]) -> pd.DataFrame:
    """``features`` (every row kept, no copy of the other columns) with each category list
    read off the data (``channel``, ``branch``) cut to the values seen at ``dates``, as a
    build at these dates alone gives it: the trees encode a category by its place in the
    list, so a value seen only at another date of the same pass would otherwise change
    them. Rows at other dates with such a value become missing: for slicing off."""
    from valuemodel.features.catalog import categorical_columns

    at = features["as_of"].isin(pd.to_datetime(list(dates))).to_numpy()
    cut = {}
    for c in (c for c, cats in categorical_columns().items() if cats is None and c in features):
        col = features[c].cat
        seen = np.unique(col.codes.to_numpy()[at])
        seen = seen[seen >= 0]  # in the list's (sorted) order
        if len(seen) < len(col.categories):
            cut[c] = col.set_categories(col.categories[seen])
    return features.assign(**cut) if cut else features


@dataclass
class Part:
    """One side of the out-of-time split for one label."""

    features: pd.DataFrame
    y: np.ndarray
    dates: tuple[date, ...]

    def counts(self) -> dict[str, int]:
        return {
            "rows": len(self.features),
            "accounts": int(self.features["account_id"].nunique()),
            "snapshots": int(self.features["as_of"].nunique()),
        }


def select(frame: pd.DataFrame, dates: Sequence[date], label: str) -> Part:
    """Rows at ``dates`` whose ``label`` is known; the features keep the ID columns."""
    wanted = frame["as_of"].isin(pd.to_datetime(list(dates)))
    rows = frame.loc[wanted & frame[label].notna()]
    features = rows.drop(columns=list(LABELS)).reset_index(drop=True)
    y = rows[label].to_numpy(dtype=float)
    if label == "value":
        # revenue may be signed (corrections); a net loss over the horizon is fitted as no
        # revenue: the value model predicts revenue >= 0 (see ``negative_values``)
        y = np.maximum(_cents(y), 0.0)
    return Part(features, y, tuple(dates))


def _cents(value: np.ndarray) -> np.ndarray:
    """A value label in cents: engine float sums differ in the last bit between runs."""
    return np.round(value, 2)


def negative_values(frame: pd.DataFrame, dates: Sequence[date], horizon_days: int) -> list[str]:
    """A note when some value labels at ``dates`` are a net loss (corrections larger than the
    revenue of the horizon): ``select`` fits and judges them as 0."""
    at = frame["as_of"].isin(pd.to_datetime(list(dates)))
    n = int((_cents(frame.loc[at, "value"].to_numpy(dtype=float)) < 0).sum())
    if n == 0:
        return []
    return [
        f"value: {n:,} snapshots have net-negative revenue over the {horizon_days}-day horizon "
        "(corrections larger than revenue); the value model is fitted and validated with "
        "them as 0"
    ]


def held_out(account_ids: pd.Series) -> np.ndarray:
    """True for the rows whose account is in the held-out half (see ``hold_out``)."""
    hashes = pd.util.hash_pandas_object(account_ids.astype(str), index=False)
    return hashes.to_numpy() % 2 == 1


def hold_out(part: Part) -> tuple[Part, Part]:
    """Split a part by account into (kept, held out), about half each.

    The held-out accounts judge the promotion: neither the new model (tuned, stopped early and
    calibrated on the kept half) nor the champion has seen their labels. Deterministic: a
    hash of the pseudonymous account ID (pandas' fixed-key SipHash), so the same data gives
    the same halves on every run, and an account's snapshots all fall on one side.
    """
    held = held_out(part.features["account_id"])

    def take(rows: np.ndarray) -> Part:
        return Part(part.features.loc[rows].reset_index(drop=True), part.y[rows], part.dates)

    return take(~held), take(held)


def without_held_out_overlap(train: Part, horizon_days: int, first_valid: date) -> Part:
    """``train`` without the held-out accounts' rows whose label window ``(T, T + H]`` reaches
    past the first validation date: under the relaxed gap such a label overlaps the account's
    own validation window, so a model fitted on it would have seen part of the outcome it is
    judged on. Other accounts' overlapping rows stay (their outcomes judge nothing)."""
    ends = pd.to_datetime(train.features["as_of"]) + pd.Timedelta(days=horizon_days)
    overlap = held_out(train.features["account_id"]) & (ends > pd.Timestamp(first_valid))
    keep = ~np.asarray(overlap)
    if keep.all():
        return train
    return Part(train.features.loc[keep].reset_index(drop=True), train.y[keep], train.dates)


def check_labels(label: str, train: Part, valid: Part) -> None:
    """Reject a split that cannot train or validate (no rows, or a single churn class)."""
    for name, part in (("training", train), ("validation", valid)):
        if len(part.y) == 0:
            raise InputError(
                f"{label}: the {name} snapshots {_span(part.dates)} have no labelled accounts "
                "in the population"
            )
        if label == "churn" and len(np.unique(part.y)) < 2:
            kind = "churned" if part.y[0] == 1 else "stayed"
            raise InputError(
                f"churn: every account in the {name} snapshots {_span(part.dates)} {kind}; a "
                "churn model needs both outcomes (try another --churn-horizon or "
                "--churn-definition)"
            )
        if label == "value" and not (part.y > 0).any():
            raise InputError(
                f"value: no account has revenue in the label windows of the {name} snapshots "
                f"{_span(part.dates)}; a value model needs some revenue"
            )


def _span(dates: Sequence[date]) -> str:
    return f"{dates[0]}..{dates[-1]}" if dates else "(none)"
