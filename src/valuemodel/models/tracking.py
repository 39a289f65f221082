"""The one module that talks to MLflow: runs, the model registry, aliases and loading.

Tracking store: ``tracking_uri`` if given, else ``MLFLOW_TRACKING_URI``, else an embedded
SQLite store ``sqlite:///<workdir>/mlflow.db`` with artifacts under ``<workdir>/mlartifacts``
(``mlflow ui --backend-store-uri sqlite:///mlflow.db`` shows the runs). With any SQLite store,
a new experiment keeps its artifacts in ``mlartifacts`` beside the database file.

Registered models ``valuemodel-churn``, ``valuemodel-clv`` and ``valuemodel-uplift``; each
version is created from its run's ``model`` artifact folder (plain files, see
:mod:`valuemodel.models.bundle`) and carries the alias ``champion`` or ``challenger``.
Loading downloads that folder and verifies its checksums; no MLflow model flavour (and so no
stored code) is ever loaded.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from valuemodel.errors import ModelError
from valuemodel.models.bundle import load_bundle

log = logging.getLogger(__name__)

REGISTERED_MODELS = {
    "churn": "valuemodel-churn",
    "clv": "valuemodel-clv",
    "uplift": "valuemodel-uplift",
}
MODEL_ARTIFACT_PATH = "model"
CHAMPION, CHALLENGER = "champion", "challenger"


def resolve_tracking_uri(
    tracking_uri: str | None = None, workdir: str | Path | None = None
) -> str:
    """The tracking URI to use: argument, else ``MLFLOW_TRACKING_URI``, else embedded SQLite."""
    if tracking_uri:
        return tracking_uri
    if os.environ.get("MLFLOW_TRACKING_URI"):
        return os.environ["MLFLOW_TRACKING_URI"]
    db = Path(workdir or Path.cwd()).resolve() / "mlflow.db"
    return f"sqlite:///{db}"


def _artifact_location(uri: str) -> str | None:
    parsed = urlparse(uri)
    if parsed.scheme != "sqlite":
        return None
    db = Path(uri[len("sqlite:///") :])
    return (db.parent / "mlartifacts").resolve().as_uri()


@contextmanager
def _quiet_downloads() -> Iterator[None]:
    key = "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"
    old = os.environ.get(key)
    os.environ[key] = "false"
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = old


def _registered_name(kind: str) -> str:
    if kind not in REGISTERED_MODELS:
        raise ValueError(f"kind must be one of {sorted(REGISTERED_MODELS)}, got {kind!r}")
    return REGISTERED_MODELS[kind]


_WHERE_HINT = (
    "pass --tracking-uri (or set MLFLOW_TRACKING_URI) to the store the models were trained "
    "into: without it, the store is ./mlflow.db of the folder the command runs in"
)


def _sqlite_path(uri: str) -> Path | None:
    return Path(uri[len("sqlite:///") :]) if uri.startswith("sqlite:///") else None


class Tracker:
    """An MLflow client bound to one tracking URI (tracking and registry in the same store).

    ``read_only``: only read models; a local SQLite store that does not exist is then a
    ``ModelError`` (MLflow would create an empty one: nothing is written by a failed score).
    """

    def __init__(self, tracking_uri: str | None = None, read_only: bool = False):
        self.uri = resolve_tracking_uri(tracking_uri)
        db = _sqlite_path(self.uri)
        if read_only and db is not None and not db.is_file():
            raise ModelError(
                f"no trained models: there is no tracking store {db}. Train first "
                f"(valuemodel train), or {_WHERE_HINT}"
            )
        self.client = MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)

    def experiment_id(self, name: str) -> str:
        exp = self.client.get_experiment_by_name(name)
        if exp is not None:
            return exp.experiment_id
        return self.client.create_experiment(name, artifact_location=_artifact_location(self.uri))

    def start_run(self, experiment: str, run_name: str, tags: Mapping[str, str]) -> str:
        run = self.client.create_run(self.experiment_id(experiment), run_name=run_name, tags=tags)
        return run.info.run_id

    def log(
        self,
        run_id: str,
        *,
        params: Mapping[str, Any],
        metrics: Mapping[str, float],
        figures: Mapping[str, Any] = (),
        documents: Mapping[str, Any] = (),
        texts: Mapping[str, str] = (),
        bundle_dir: Path | None = None,
    ) -> None:
        """Params, finite metrics, PNG figures, JSON documents, text files (the HTML
        ``report.html``) and the model folder."""
        for key, value in params.items():
            self.client.log_param(run_id, key, value)
        for key, value in metrics.items():
            if value is not None and value == value:
                self.client.log_metric(run_id, key, float(value))
        for name, fig in dict(figures).items():
            self.client.log_figure(run_id, fig, f"figures/{name}.png")
        for name, data in dict(documents).items():
            self.client.log_dict(run_id, data, name)
        for name, text in dict(texts).items():
            self.client.log_text(run_id, text, name)
        if bundle_dir is not None:
            self.client.log_artifacts(run_id, str(bundle_dir), MODEL_ARTIFACT_PATH)

    def finish(self, run_id: str, status: str = "FINISHED") -> None:
        self.client.set_terminated(run_id, status=status)

    def register(self, kind: str, run_id: str) -> str:
        """A new version of ``valuemodel-<kind>`` from the run's model folder; its number."""
        name = _registered_name(kind)
        try:
            self.client.get_registered_model(name)
        except MlflowException:
            self.client.create_registered_model(
                name, description=f"valuemodel {kind} model (LightGBM model text + JSON files)"
            )
        source = f"runs:/{run_id}/{MODEL_ARTIFACT_PATH}"
        version = self.client.create_model_version(name, source=source, run_id=run_id)
        return str(version.version)

    def set_alias(self, kind: str, alias: str, version: str) -> None:
        self.client.set_registered_model_alias(_registered_name(kind), alias, version)

    def clear_alias(self, kind: str, alias: str) -> str | None:
        """Remove ``alias`` if it exists; return the version it pointed to (None if none)."""
        current = self.alias_version(kind, alias)
        if current is None:
            return None
        self.client.delete_registered_model_alias(_registered_name(kind), alias)
        return str(current.version)

    def publish(self, kind: str, run_id: str, alias: str, promoted: bool, record: dict) -> str:
        """Register the run's model, give it ``alias`` and record the promotion decision
        ``record``; returns the new version. A promoted model also clears an older
        ``challenger``: it lost to a champion that is now superseded, and scoring with it by
        alias would silently use a stale model."""
        version = self.register(kind, run_id)
        self.set_alias(kind, alias, version)
        if promoted:
            stale = self.clear_alias(kind, "challenger")
            if stale is not None:
                log.info("%s: alias challenger removed from v%s", kind, stale)
        self.record_promotion(kind, version, run_id, record)
        return version

    def record_promotion(self, kind: str, version: str, run_id: str, record: dict) -> None:
        """The decision as a version tag ``promotion``, a run tag and ``promotion.json``."""
        text = json.dumps(record, sort_keys=True)
        self.client.set_model_version_tag(_registered_name(kind), version, "promotion", text)
        self.client.set_tag(run_id, "promotion", record["alias"])
        self.client.log_dict(run_id, record, "promotion.json")

    def alias_version(self, kind: str, alias: str) -> Any | None:
        """The model version behind ``alias``, or None when the model or alias does not exist."""
        try:
            return self.client.get_model_version_by_alias(_registered_name(kind), alias)
        except MlflowException:
            return None

    def artifact_path(self, run_id: str, name: str) -> str:
        """Where a run's artifact ``name`` is: a local path for a local store, else a URI."""
        root = self.client.get_run(run_id).info.artifact_uri.rstrip("/")
        parsed = urlparse(root)
        if parsed.scheme in ("", "file"):
            return str(Path(parsed.path) / name)
        return f"{root}/{name}"

    def aliases(self, kind: str) -> dict[str, str]:
        """The aliases of ``valuemodel-<kind>`` and their versions (empty: no such model)."""
        try:
            model = self.client.get_registered_model(_registered_name(kind))
        except MlflowException:
            return {}
        return {a: str(v) for a, v in sorted(dict(model.aliases or {}).items())}

    def missing_alias(self, kind: str, alias: str) -> ModelError:
        """The error for ``alias`` not found: the aliases that exist, or where to look."""
        name = _registered_name(kind)
        known = self.aliases(kind)
        if not known:
            return ModelError(
                f"no model {name!r} in {self.uri}: train one first (valuemodel train), "
                f"or {_WHERE_HINT}"
            )
        listed = ", ".join(f"{a} (version {v})" for a, v in known.items())
        return ModelError(
            f"no model {name!r} with alias {alias!r} in {self.uri}; its aliases: {listed}"
        )

    def load(self, kind: str, alias: str = CHAMPION, version: str | None = None) -> Any:
        """Download, verify and load the version behind ``alias`` (``ModelError`` if none),
        or the numbered ``version`` when given."""
        if version is not None:
            version = self.client.get_model_version(_registered_name(kind), str(version))
        else:
            version = self.alias_version(kind, alias)
        if version is None:
            raise self.missing_alias(kind, alias)
        with tempfile.TemporaryDirectory(prefix="valuemodel-model-") as tmp, _quiet_downloads():
            try:
                path = self.client.download_artifacts(version.run_id, MODEL_ARTIFACT_PATH, tmp)
            except (MlflowException, OSError) as exc:
                raise ModelError(
                    f"cannot download {_registered_name(kind)} version {version.version}: {exc}"
                ) from exc
            return load_bundle(Path(path), version=str(version.version), run_id=version.run_id)


def load_model(
    kind: Literal["churn", "clv", "uplift"], alias: str = CHAMPION, tracking_uri: str | None = None
) -> Any:
    """The registered ``kind`` model behind ``alias``, checksums verified, ready to score."""
    return Tracker(tracking_uri, read_only=True).load(kind, alias)


def scoring_aliases(
    alias: str = CHAMPION, compare: str | None = None, tracking_uri: str | None = None
) -> dict[str, str]:
    """Check, without loading anything, that both models have ``alias``; with ``compare``,
    the alias each model is compared under: ``compare`` where that model has it, else
    ``alias`` (a retrain often makes only one of the two a challenger). ``ModelError`` when
    a model lacks ``alias`` or neither has ``compare``, listing the aliases that exist.
    """
    tracker = Tracker(tracking_uri, read_only=True)
    # The uplift model is optional: scoring goes on without it (serving.uplift.load_uplift).
    found = {kind: tracker.aliases(kind) for kind in ("churn", "clv")}
    for kind in found:
        if alias not in found[kind]:
            raise tracker.missing_alias(kind, alias)
    if compare is None:
        return {}
    if not any(compare in known for known in found.values()):
        listed = "; ".join(
            f"{_registered_name(k)}: {', '.join(known) or 'none'}" for k, known in found.items()
        )
        raise ModelError(
            f"--compare {compare!r}: neither model has that alias in {tracker.uri} "
            f"(aliases: {listed})"
        )
    return {kind: compare if compare in known else alias for kind, known in found.items()}
