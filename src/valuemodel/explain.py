"""Explaining the scores: per-account SHAP frames, their aggregates, ``shap.Explanation``
objects for SHAP's own plots, and the small workspace the notebooks explain.

SHAP values are LightGBM's exact TreeSHAP contributions (``booster.predict(X,
pred_contrib=True)``, what ``shap.TreeExplainer`` returns for a LightGBM booster without
background data) in the booster's raw score: log-odds of churn for the churn model; log of
expected revenue for a Tweedie value model; for a two-part value model, ``log1p`` revenue of
the amount part (default) or the log-odds of any revenue (``part="occurrence"``). They are
the numbers behind ``reason_1..3`` of the ranked list (``valuemodel.serving.reasons``).

A SHAP frame has the input's index and one column per model feature plus ``bias`` (the
expected raw score); a row sums to the raw score of that account.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

BIAS = "bias"
WORKDIR_ENV = "VALUEMODEL_NOTEBOOK_WORKDIR"
DEMO_DIR = "valuemodel-demo"
MARKER = "workspace.json"
DEMO_AS_OF = "2025-12-31"
_LIST_SUFFIXES = (".csv", ".parquet", ".xlsx")
_BUILT_ITEMS = ("data", "mlflow.db", "mlartifacts", "ranked_list.csv", MARKER)

__all__ = [
    "BIAS",
    "WORKDIR_ENV",
    "Workspace",
    "drivers_by_segment",
    "ensure_demo_workspace",
    "explanation",
    "global_importance",
    "holdout_scores",
    "reason_check",
    "shap_frame",
    "shap_units",
    "top_positive_drivers",
]


# --- SHAP frames ---------------------------------------------------------------------------


def _booster(model: Any, part: str | None) -> Any:
    if part is None:
        return model.booster
    boosters = getattr(model, "boosters", None) or {"main": model.booster}
    if part not in boosters:
        raise ValueError(f"part must be one of {sorted(boosters)} for this model, got {part!r}")
    return boosters[part]


def shap_frame(model: Any, features: pd.DataFrame, part: str | None = None) -> pd.DataFrame:
    """Per-account SHAP contributions of ``model`` on ``features``.

    ``model``: a ``LoadedModel`` (``load_model``); ``features``: ``build_features`` output (ID
    columns and extra columns are ignored). Returns one row per input row (same index),
    columns = the model's features in training order, then ``bias``. Raises ``ModelError``
    when a model feature is missing, ``ValueError`` for an unknown ``part``.
    """
    X = model.prepare(features)
    if BIAS in X.columns:
        raise ValueError(f"a model feature is named {BIAS!r}, which the SHAP frame reserves")
    raw = np.asarray(_booster(model, part).predict(X, pred_contrib=True), dtype=float)
    if raw.ndim != 2 or raw.shape[1] != X.shape[1] + 1:
        raise ValueError(
            f"expected {X.shape[1] + 1} contribution columns (one output), got {raw.shape}"
        )
    return pd.DataFrame(raw, index=X.index, columns=[*X.columns, BIAS])


def shap_units(model: Any, part: str | None = None) -> str:
    """What a SHAP value of ``model`` is measured in, for axis labels."""
    if model.kind == "churn":
        return "log-odds of churn"
    boosters = getattr(model, "boosters", {}) or {}
    if "main" in boosters:
        return "log expected revenue"
    if part == "occurrence":
        return "log-odds of any revenue"
    return "log1p revenue, when positive"


def _contributions(shap: pd.DataFrame) -> pd.DataFrame:
    if shap.shape[0] == 0:
        raise ValueError("the SHAP frame has no rows")
    return shap.drop(columns=BIAS, errors="ignore")


def global_importance(shap: pd.DataFrame) -> pd.Series:
    """Mean absolute SHAP value per feature (``bias`` left out), largest first.

    Ties keep the model's feature order. Raises ``ValueError`` for an empty frame.
    """
    mean_abs = _contributions(shap).abs().mean()
    order = np.argsort(-mean_abs.to_numpy(), kind="stable")
    return mean_abs.iloc[order].rename("mean_abs_shap")


def drivers_by_segment(
    shap: pd.DataFrame, segments: pd.Series | Sequence[Any], missing: str = "unassigned"
) -> pd.DataFrame:
    """Mean SHAP value per feature within each segment (e.g. the ``service_segment``).

    ``segments``: a Series on the SHAP frame's index (or a sequence in its row order); null
    segments count as ``missing``. Returns rows = segments (sorted), columns = features ordered
    by :func:`global_importance`; a positive mean pushes that segment's scores up.
    """
    contrib = _contributions(shap)
    if isinstance(segments, pd.Series):
        if not segments.index.equals(contrib.index):
            raise ValueError("segments must have the SHAP frame's index (one per account)")
        labels = segments
    else:
        labels = pd.Series(list(segments), index=contrib.index)
    if len(labels) != len(contrib):
        raise ValueError(f"got {len(labels)} segments for {len(contrib)} SHAP rows")
    labels = labels.astype("object").where(labels.notna(), missing).astype(str)
    means = contrib.groupby(labels.to_numpy(), sort=True).mean()
    means.index.name = "segment"
    return means[list(global_importance(shap).index)]


def top_positive_drivers(shap: Any, k: int = 3) -> pd.DataFrame:
    """The ``k`` largest positive contributions per row: ``driver_1..k`` (null if fewer).

    ``shap``: a SHAP frame, or a ``shap.Explanation`` of one row or many (as drawn by a
    waterfall or beeswarm). The same rule the ranked list's ``reason_1..3`` follow (ties:
    model feature order).
    """
    from valuemodel.serving.reasons import top_drivers

    if not isinstance(shap, pd.DataFrame):
        values = np.atleast_2d(np.asarray(shap.values, dtype=float))
        shap = pd.DataFrame(values, columns=list(shap.feature_names))
    return top_drivers(_contributions(shap), k)


def _numeric_data(X: pd.DataFrame) -> np.ndarray:
    """The prepared features as floats: categories as their codes, missing as NaN."""
    columns = []
    for name in X.columns:
        col = X[name]
        if isinstance(col.dtype, pd.CategoricalDtype):
            codes = col.cat.codes.to_numpy(dtype=float)
            columns.append(np.where(codes < 0, np.nan, codes))
        else:
            columns.append(col.to_numpy(dtype=float, na_value=np.nan))
    return np.column_stack(columns) if columns else np.empty((len(X), 0))


def explanation(
    model: Any,
    features: pd.DataFrame,
    shap: pd.DataFrame | None = None,
    part: str | None = None,
):
    """A ``shap.Explanation`` for SHAP's plots (beeswarm, scatter, waterfall, bar).

    ``values`` and ``base_values`` come from ``shap`` (default: :func:`shap_frame`); ``data``
    holds the prepared features as numbers (a category as its code), ``display_data`` the
    values as shown to people (a category as its label). Rows follow ``features``.
    """
    import shap as shap_lib

    X = model.prepare(features)
    frame = shap if shap is not None else shap_frame(model, features, part)
    frame = frame.loc[X.index]
    display = X.astype("object").where(X.notna(), np.nan)
    return shap_lib.Explanation(
        values=frame[list(X.columns)].to_numpy(dtype=float),
        base_values=frame[BIAS].to_numpy(dtype=float),
        data=_numeric_data(X),
        display_data=display.to_numpy(dtype=object),
        feature_names=list(X.columns),
    )


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
) -> pd.DataFrame:
    """Whether each listed account's reasons are its strongest SHAP drivers of churn.

    ``ranked``: rows of the ranked list (``rank``, ``account_id``, ``reason_1..3``, and
    ``driver_1..3`` when written); ``shap``: :func:`shap_frame` of the churn model on
    ``features``; ``features``: the features the list was scored from (``account_id`` plus
    features, same index as ``shap``); ``registry``: reason templates (default: the
    scorer's, ``load_registry()``). Returns per listed row: ``rank``, ``shap_drivers`` and
    ``listed_drivers`` (tuples), ``shap_reasons`` and ``listed_reasons`` (tuples of text),
    and ``drivers_match`` / ``reasons_match``. Raises ``KeyError`` for an account that is
    not in ``features``.
    """
    from valuemodel.serving.reasons import DRIVER_COLUMNS, REASON_COLUMNS, phrase

    registry = registry if registry is not None else _default_registry()
    where = pd.Series(features.index, index=features["account_id"].astype(str).to_numpy())
    drivers = top_positive_drivers(shap.loc[features.index])
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


def _default_registry() -> Any:
    try:
        from valuemodel.features import load_registry

        return load_registry()
    except Exception:  # noqa: BLE001 - without a registry, reasons name the features
        return None


# --- the out-of-time validation rows of a training -----------------------------------------


def holdout_scores(data_dir: str | Path, result: Any, kind: str) -> pd.DataFrame:
    """The held-out validation rows of a training (``train``'s ``TrainResult``), scored again.

    Rebuilds the out-of-time validation snapshots of ``kind`` (``"churn"`` or ``"clv"``) from
    ``data_dir`` as known at the training date, keeps the held-out accounts (the half that
    judged the promotion, ``frames.hold_out``; all validation rows when the training could
    not hold any out), loads the model version the training registered (by its alias) and
    returns: ``as_of``, ``actual`` (churned 1/0, or revenue over the horizon), ``model``
    (calibrated probability or expected revenue) and the baseline's score (``recency rule``:
    days since the last trade; ``last-period revenue``). The model was tuned, stopped early
    and calibrated on the other half, so what these rows show is out of sample.
    """
    from valuemodel.data import open_data
    from valuemodel.features import build_features, build_labels
    from valuemodel.models import baselines
    from valuemodel.training import load_model
    from valuemodel.training.frames import held_out

    if kind not in ("churn", "clv"):
        raise ValueError(f"kind must be 'churn' or 'clv', got {kind!r}")
    fitted = result.churn if kind == "churn" else result.clv
    known = open_data(data_dir).until(result.as_of)
    end = min(result.as_of, known.end_date())
    dates = list(fitted.valid_dates)
    keys = ["account_id", "as_of"]
    labels = build_labels(
        known,
        dates,
        churn_horizon=result.churn.horizon_days,
        value_horizon=result.clv.horizon_days,
        churn_definition=result.churn_definition,
        end=end,
    )
    label = "churn" if kind == "churn" else "value"
    frame = build_features(known, dates).merge(labels[[*keys, label]], on=keys)
    frame = frame[frame[label].notna()].reset_index(drop=True)
    if "holdout_rows" in fitted.counts:
        frame = frame[held_out(frame["account_id"])].reset_index(drop=True)
    model = load_model(kind, fitted.alias, result.tracking_uri)
    out = pd.DataFrame(
        {"as_of": frame["as_of"], "actual": frame[label], "model": model.predict(frame)}
    )
    if kind == "churn":
        out["recency rule"] = baselines.recency_score(frame)
    else:
        out["last-period revenue"] = baselines.last_period_revenue(frame, fitted.horizon_days)
    return out


# --- the workspace the notebooks read ------------------------------------------------------


@dataclass(frozen=True)
class Workspace:
    """Where the demo's data, models and latest ranked list are.

    ``built`` is True when :func:`ensure_demo_workspace` built this workspace itself (a small
    synthetic brokerage) rather than finding one written by ``valuemodel demo``.
    """

    root: Path
    data_dir: Path
    tracking_uri: str
    ranked_list: Path
    as_of: str
    built: bool = False

    def data(self) -> Any:
        from valuemodel.data import open_data

        return open_data(self.data_dir)

    def models(self, alias: str = "champion") -> dict[str, Any]:
        """``{"churn": LoadedModel, "clv": LoadedModel}`` behind ``alias``."""
        from valuemodel.training import load_model

        return {k: load_model(k, alias, self.tracking_uri) for k in ("churn", "clv")}

    def features(self, as_of: str | None = None) -> pd.DataFrame:
        """The features at ``as_of`` (default: the list's date) exactly as scoring built them."""
        from valuemodel.features import build_features
        from valuemodel.serving.score import stable_features

        frame = build_features(self.data(), as_of or self.as_of)
        return stable_features(frame.sort_values("account_id", kind="mergesort"))

    def read_ranked_list(self) -> pd.DataFrame:
        """The ranked list (CSV, Parquet or Excel: every sheet but the Summary), IDs as text."""
        return _read_list(self.ranked_list)

    def segments(self, features: pd.DataFrame) -> pd.Series:
        """The service segment of each row of ``features`` by the scorer's default tiers."""
        from valuemodel.serving import assign_tiers, load_tiers

        return assign_tiers(features, load_tiers())["service_segment"].rename("service_segment")


def _read_list(path: Path) -> pd.DataFrame:
    text = {"account_id": str, "as_of": str}
    if path.suffix == ".parquet":
        return pd.read_parquet(path).astype(text)
    if path.suffix == ".xlsx":  # a Summary sheet, then the list split by manager or branch
        sheets = pd.read_excel(path, sheet_name=None, dtype=text)
        rows = [frame for name, frame in sheets.items() if name != "Summary"]
        return pd.concat(rows, ignore_index=True).sort_values("rank", ignore_index=True)
    return pd.read_csv(path, dtype=text)


def _find_list(root: Path) -> Path | None:
    """The list beside a ``<stem>.summary.json`` that ``score`` wrote under ``root``: CSV or
    Parquet before Excel (the demo's Excel list holds the top 200 only), then the newest."""
    found = []
    for summary in [*root.glob("*.summary.json"), *root.glob("*/*.summary.json")]:
        stem = summary.name[: -len(".summary.json")]
        for suffix in _LIST_SUFFIXES:
            path = summary.with_name(stem + suffix)
            if path.is_file():
                found.append((suffix != ".xlsx", path.stat().st_mtime, str(path), path))
    return max(found)[-1] if found else None


def _open_workspace(root: Path, built: bool) -> Workspace | None:
    """The workspace at ``root`` when it has data, both champion models and a list."""
    data_dir, db = root / "data", root / "mlflow.db"
    if not (data_dir.is_dir() and db.is_file()):
        return None
    ranked = _find_list(root)
    if ranked is None:
        return None
    from valuemodel.training.tracking import Tracker

    uri = f"sqlite:///{db.resolve()}"
    tracker = Tracker(uri)
    if any(tracker.alias_version(k, "champion") is None for k in ("churn", "clv")):
        return None
    dates = _read_list(ranked)["as_of"].dropna()
    as_of = str(dates.iloc[0]) if len(dates) else DEMO_AS_OF
    return Workspace(root.resolve(), data_dir.resolve(), uri, ranked.resolve(), as_of, built)


def _demo_root(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        if (folder / DEMO_DIR).is_dir():
            return folder / DEMO_DIR
    return None


def ensure_demo_workspace(
    path: str | Path | None = None,
    *,
    accounts: int = 400,
    trials: int = 2,
    seed: int = 7,
    progress: Callable[[str], None] | None = None,
) -> Workspace:
    """The workspace the notebooks read: data, MLflow store and the latest ranked list.

    Where: ``path``, else ``$VALUEMODEL_NOTEBOOK_WORKDIR``, else the ``valuemodel-demo``
    folder of ``valuemodel demo`` (looked for in the current directory and its parents), else
    ``<temp>/valuemodel-notebooks``. A complete workspace there (``data/``, ``mlflow.db``
    with both champion models, a ranked list beside its ``.summary.json``) is used as it is;
    an empty or missing folder gets a small one built (``accounts`` synthetic accounts over
    2024-2025, trained as of 2025-12-31 with ``trials`` Optuna trials, then scored); about
    half a minute for 400 accounts. ``progress(stage)`` is told each stage of a build.
    Raises ``InputError`` for a folder that holds something else.
    """
    root = _workspace_root(path)
    found = _open_workspace(root, built=(root / MARKER).is_file())
    if found is not None:
        return found
    _clear_for_build(root)
    _build(root, accounts=accounts, trials=trials, seed=seed, progress=progress)
    built = _open_workspace(root, built=True)
    if built is None:  # pragma: no cover - the build above writes every part
        raise RuntimeError(f"{root}: the workspace build did not complete")
    return built


def _workspace_root(path: str | Path | None) -> Path:
    if path is not None:
        return Path(path)
    if os.environ.get(WORKDIR_ENV):
        return Path(os.environ[WORKDIR_ENV])
    demo = _demo_root(Path.cwd())
    if demo is not None and _open_workspace(demo, built=False) is not None:
        return demo
    return Path(tempfile.gettempdir()) / "valuemodel-notebooks"


def _clear_for_build(root: Path) -> None:
    """Make ``root`` ready for a build, removing only what an interrupted build left."""
    from valuemodel.errors import InputError

    if not root.exists():
        return
    others = [p.name for p in root.iterdir() if p.name not in _BUILT_ITEMS]
    others = [n for n in others if not n.startswith("ranked_list.")]
    if others:
        raise InputError(
            f"{root}: not a valuemodel workspace (no data/, mlflow.db with champion models and "
            f"ranked list) and not empty ({', '.join(sorted(others)[:5])}); pass an empty folder"
        )
    for item in root.iterdir():
        shutil.rmtree(item) if item.is_dir() else item.unlink()


def _build(root: Path, *, accounts: int, trials: int, seed: int, progress) -> None:
    from valuemodel.data.generate import generate_brokerage, write_brokerage
    from valuemodel.serving import score
    from valuemodel.training import parse_config, train

    report = progress or (lambda stage: None)
    root.mkdir(parents=True, exist_ok=True)
    uri = f"sqlite:///{(root / 'mlflow.db').resolve()}"
    report("generate")
    tables = generate_brokerage(accounts, "2024-01-01", DEMO_AS_OF, seed=seed)
    write_brokerage(tables, root / "data")
    report("train")
    lightgbm = {"max_rounds": 150, "early_stopping_rounds": 20}
    config = parse_config({"tuning": {"trials": trials}, "lightgbm": lightgbm})
    train(root / "data", DEMO_AS_OF, config=config, tracking_uri=uri)
    report("score")
    score(root / "data", DEMO_AS_OF, root / "ranked_list.csv", tracking_uri=uri)
    meta = {"accounts": accounts, "trials": trials, "seed": seed, "as_of": DEMO_AS_OF}
    (root / MARKER).write_text(json.dumps(meta, indent=2) + "\n")
