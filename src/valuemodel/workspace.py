"""The workspace the notebooks explain: a data directory, an MLflow store and a ranked list.

:func:`ensure_demo_workspace` finds the one ``valuemodel demo`` wrote, or builds a small one
with :func:`build_demo` (the same function ``valuemodel demo`` runs);
:func:`holdout_scores` scores a training's held-out validation rows again for the notebooks'
model plots. This module sits at the top of the package, beside the command line: it runs
training and scoring end to end.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

WORKDIR_ENV = "VALUEMODEL_NOTEBOOK_WORKDIR"
DEMO_DIR = "valuemodel-demo"
MARKER = "workspace.json"
DEMO_START = "2024-01-01"
DEMO_AS_OF = "2025-12-31"
_LIST_SUFFIXES = (".csv", ".parquet", ".xlsx")
_BUILT_ITEMS = ("data", "mlflow.db", "mlartifacts", "ranked_list.csv", MARKER)


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
    from valuemodel.models.tracking import load_model
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
        from valuemodel.models.tracking import load_model

        return {k: load_model(k, alias, self.tracking_uri) for k in ("churn", "clv")}

    def uplift_model(self, alias: str = "champion") -> Any | None:
        """The uplift model (``LoadedUplift``) behind ``alias``, or None when the training
        had too few campaigns for one."""
        from valuemodel.models.tracking import Tracker

        tracker = Tracker(self.tracking_uri, read_only=True)
        if tracker.alias_version("uplift", alias) is None:
            return None
        return tracker.load("uplift", alias)

    def features(self, as_of: str | None = None) -> pd.DataFrame:
        """The features at ``as_of`` (default: the list's date) exactly as scoring built them."""
        from valuemodel.features.stable import scoring_features

        return scoring_features(self.data(), as_of or self.as_of)

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
    from valuemodel.models.tracking import Tracker

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
    # Several kernels (notebooks opened side by side, the test workers) may ask for the same
    # folder at once: one builds while the others wait, then find the finished workspace.
    with _build_lock(root):
        found = _open_workspace(root, built=(root / MARKER).is_file())
        if found is not None:
            return found
        _clear_for_build(root)
        _build(root, accounts=accounts, trials=trials, seed=seed, progress=progress)
        built = _open_workspace(root, built=True)
    if built is None:  # pragma: no cover - the build above writes every part
        raise RuntimeError(f"{root}: the workspace build did not complete")
    return built


def _build_lock(root: Path) -> Any:
    """A lock for ``root``'s check-and-build, held in the temp folder (not beside ``root``,
    which may be a user's project folder) under a name derived from ``root``'s full path."""
    from filelock import FileLock

    key = hashlib.sha1(str(root.resolve()).encode()).hexdigest()[:16]
    return FileLock(Path(tempfile.gettempdir()) / f"valuemodel-workspace-{key}.lock")


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


@dataclass(frozen=True)
class DemoRun:
    """What :func:`build_demo` wrote: the data, the tracking store, the training and lists."""

    root: Path
    data_dir: Path
    tracking_uri: str
    training: Any
    lists: dict[str, Path]
    scored: dict[str, Any]


@contextmanager
def _quiet(stage: str) -> Iterator[Callable[[int, int], None]]:
    yield lambda done, total: None


def build_demo(
    root: str | Path,
    *,
    accounts: int = 3000,
    trials: int = 5,
    seed: int = 7,
    config: Any = None,
    workbook: bool = True,
    stage: Callable[[str], Any] = _quiet,
) -> DemoRun:
    """A synthetic brokerage trained and scored end to end under ``root`` (what ``valuemodel
    demo`` runs, and what the notebooks build when they find no workspace).

    Writes ``data/`` (``accounts`` accounts over 2024-2025, seed ``seed``), ``mlflow.db`` and
    ``mlartifacts/`` (both models trained as of 2025-12-31 with ``trials`` Optuna trials, or
    the training ``config``), ``ranked_list.csv`` (every account) and, with ``workbook``,
    ``ranked_list_top200.xlsx``. ``stage(name)`` is a context manager entered around each of
    the stages ``generate``, ``validate``, ``train`` and ``score``; it yields a callback
    ``(done, total)`` for the stage's progress. Raises ``InputError`` if the generated data
    fails validation (a bug of ours).
    """
    from valuemodel.data import open_data, validate
    from valuemodel.data.generate import generate_brokerage, write_brokerage
    from valuemodel.serving import SCORE_STEPS, score
    from valuemodel.training import train

    root = Path(root).resolve()
    data_dir, uri = root / "data", f"sqlite:///{root / 'mlflow.db'}"
    with stage("generate"):
        write_brokerage(generate_brokerage(accounts, DEMO_START, DEMO_AS_OF, seed=seed), data_dir)
    with stage("validate"):
        data = open_data(data_dir)
        validate(data).raise_for_errors()
    with stage("train") as progress:
        training = train(
            data, DEMO_AS_OF, trials=trials, config=config, tracking_uri=uri, progress=progress
        )
    lists = {"csv": root / "ranked_list.csv"}
    if workbook:
        lists["xlsx"] = root / "ranked_list_top200.xlsx"
    scored = {}
    with stage("score") as progress:
        for i, (fmt, path) in enumerate(lists.items()):
            scored[fmt] = score(
                data,
                DEMO_AS_OF,
                path,
                top=200 if fmt == "xlsx" else None,
                tracking_uri=uri,
                progress=lambda step, done, i=i: progress(
                    i * len(SCORE_STEPS) + done, len(lists) * len(SCORE_STEPS)
                ),
            )
    return DemoRun(root, data_dir, uri, training, lists, scored)


def _build(root: Path, *, accounts: int, trials: int, seed: int, progress) -> None:
    from valuemodel.training import parse_config

    report = progress or (lambda stage: None)

    @contextmanager
    def stage(name: str) -> Iterator[Callable[[int, int], None]]:
        report(name)
        yield lambda done, total: None

    root.mkdir(parents=True, exist_ok=True)
    lightgbm = {"max_rounds": 150, "early_stopping_rounds": 20}
    config = parse_config({"tuning": {"trials": trials}, "lightgbm": lightgbm})
    build_demo(root, accounts=accounts, seed=seed, config=config, workbook=False, stage=stage)
    meta = {"accounts": accounts, "trials": trials, "seed": seed, "as_of": DEMO_AS_OF}
    (root / MARKER).write_text(json.dumps(meta, indent=2) + "\n")


def executable(name: str) -> str:
    """How to call ``name`` from this shell: its bare name when it is on PATH, else the path
    of the one beside this Python (``.venv/bin/valuemodel`` when the venv is not active)."""
    beside = Path(sys.executable).parent / name
    found = shutil.which(name)
    if found is not None and Path(found).resolve() == beside.resolve():
        return name
    if not beside.exists():
        return name
    with suppress(ValueError):
        return str(beside.relative_to(Path.cwd()))
    return str(beside)


def demo_paths(run: DemoRun, as_of: str, reports: list[str]) -> str:
    """The demo's closing text: where everything went (``reports``: the training reports'
    lines), and the next commands, runnable from this shell (:func:`executable`)."""
    scored, tracking, lists = run.scored["csv"], run.tracking_uri, run.lists
    rows = [
        ("data directory", run.data_dir),
        ("ranked list (all accounts)", lists["csv"]),
        ("workbook for account managers (top 200)", lists["xlsx"]),
        ("scoring summary", scored.summary_path),
        ("drift report", scored.drift_path),
        ("MLflow tracking store", tracking),
        ("MLflow artifacts", run.root / "mlartifacts"),
    ]
    lines = [f"  {label:<42} {where}" for label, where in rows] + [f"  {r}" for r in reports]
    me, mlflow = executable("valuemodel"), executable("mlflow")
    lines += [
        "",
        f"Browse the runs: {mlflow} ui --backend-store-uri {tracking}",
        f"Score again:     {me} score --data {run.data_dir} --as-of {as_of} "
        f"--out list.csv --tracking-uri {tracking}",
        f"Evaluate later:  once the data runs 90 days past {as_of}, {me} evaluate "
        f"--list {lists['csv']} --data DIR --out {run.root / 'evaluation'} "
        f"--tracking-uri {tracking}",
    ]
    return "\n".join(lines)
