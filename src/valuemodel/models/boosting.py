"""Reproducible LightGBM training shared by the churn and value models.

Every booster is trained with ``deterministic=True``, ``force_row_wise=True``, a thread count
and one seed (LightGBM derives its bagging, feature-fraction and data seeds from it), so the
same data, parameters and thread count give byte-identical model text.

The thread count ``"auto"`` (:func:`threads_for`) takes one thread per ``ROWS_PER_THREAD``
rows, at most the cores this process may use: on small data a second OpenMP thread costs
more in synchronisation than it saves (BENCHMARKS.md, "Training threads"). Independent fits
that leave cores idle that way (the value model's structures and parts) run side by side
instead (:func:`side_by_side`): each keeps its own thread count, so its trees do not change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import lightgbm as lgb
import numpy as np
import pandas as pd

from valuemodel.cores import usable_cores

REPRODUCIBLE = {
    "deterministic": True,
    "force_row_wise": True,
    "feature_pre_filter": False,
    "verbosity": -1,
}


ROWS_PER_THREAD = 25_000
"""Rows of training data per LightGBM thread under ``num_threads: auto``."""


def threads_for(requested: int | str, rows: int) -> int:
    """LightGBM threads for a fit on ``rows`` rows: ``requested`` when it is a number, else
    (``"auto"``) one per ``ROWS_PER_THREAD`` rows, at least 1 and at most the usable cores."""
    if requested != "auto":
        return int(requested)
    return max(1, min(usable_cores(), rows // ROWS_PER_THREAD))


def fits_at_once(requested: int | str, rows: int) -> int:
    """How many independent fits on ``rows`` rows may run side by side: under ``"auto"``, as
    many as the usable cores hold at each fit's own thread count; with a pinned thread count,
    one (the setting then also bounds the cores training takes)."""
    if requested != "auto":
        return 1
    return max(1, usable_cores() // threads_for(requested, rows))


T = TypeVar("T")


def side_by_side(jobs: Sequence[Callable[[], T]], at_once: int) -> list[T]:
    """The results of ``jobs`` (independent fits), in their order, ``at_once`` running at a
    time in threads: LightGBM releases the GIL while it trains, and each fit keeps its own
    thread count and seed, so the trees are those of fitting one after the other."""
    workers = min(len(jobs), max(1, at_once))
    if workers == 1:
        return [job() for job in jobs]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="valuemodel-fit") as pool:
        return list(pool.map(lambda job: job(), jobs))


def booster_params(params: dict[str, Any], seed: int, num_threads: int) -> dict[str, Any]:
    """``params`` with the reproducibility settings, seed and thread count added."""
    return {**params, **REPRODUCIBLE, "seed": int(seed), "num_threads": int(num_threads)}


def categorical_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)]


def dataset(frame: pd.DataFrame, label, reference: lgb.Dataset | None = None) -> lgb.Dataset:
    """A LightGBM dataset kept in memory, so that one binning serves many trials."""
    return lgb.Dataset(
        frame,
        label=np.asarray(label, dtype=float),
        categorical_feature=categorical_columns(frame) or "auto",
        reference=reference,
        free_raw_data=False,
        params={"verbosity": -1, "feature_pre_filter": False},
    )


def train_booster(
    params: dict[str, Any],
    train_set: lgb.Dataset,
    valid_set: lgb.Dataset | None,
    *,
    max_rounds: int,
    early_stopping_rounds: int,
    feval: Callable | None = None,
    callbacks: Sequence[Callable] = (),
) -> lgb.Booster:
    """Train with early stopping on ``valid_set`` (when given); returns the best booster.

    The returned booster keeps only the trees up to the best iteration, so its model text
    is the model.
    """
    cbs = list(callbacks)
    valid_sets, names = [], []
    if valid_set is not None:
        valid_sets, names = [valid_set], ["valid"]
        cbs.append(
            lgb.early_stopping(early_stopping_rounds, first_metric_only=True, verbose=False)
        )
    booster = lgb.train(
        params,
        train_set,
        num_boost_round=max_rounds,
        valid_sets=valid_sets,
        valid_names=names,
        feval=feval,
        callbacks=cbs,
    )
    best = booster.best_iteration if booster.best_iteration > 0 else booster.current_iteration()
    return lgb.Booster(model_str=booster.model_to_string(num_iteration=best))


def load_booster(text: str) -> lgb.Booster:
    """A booster from its native model text (no code is executed)."""
    return lgb.Booster(model_str=text)
