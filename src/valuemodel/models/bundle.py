"""A trained model as a folder of plain files, and the loaded model that scoring uses.

Folder layout (text and JSON only; loading parses them and never executes stored code):

- ``booster.txt`` (churn, Tweedie value) or ``booster_occurrence.txt`` and
  ``booster_amount.txt`` (two-part value), or ``booster_<part>.txt`` per part of an uplift
  meta-learner: LightGBM native model text;
- ``calibration.json`` (churn): the calibration map;
- ``value.json`` (value): structure and smearing factor;
- ``schema.json``: feature names, dtypes, category lists and the training profile;
- ``metadata.json``: kind, horizon, dates, metrics; ``config.yaml``: the training config;
- ``checksums.json``: SHA-256 of every other file, verified before anything is parsed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
import yaml

from valuemodel.errors import ModelError
from valuemodel.models.boosting import load_booster
from valuemodel.models.calibration import ProbabilityCalibrator
from valuemodel.models.schema import FeatureSchema
from valuemodel.models.uplift import LoadedUplift, UpliftLearner
from valuemodel.models.value import predict_value

CHECKSUMS = "checksums.json"
KINDS = ("churn", "clv", "uplift")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True, allow_nan=True) + "\n")


def save_bundle(
    directory: Path,
    *,
    kind: str,
    schema: FeatureSchema,
    boosters: dict[str, lgb.Booster],
    metadata: dict[str, Any],
    config: dict[str, Any],
    calibration: dict[str, Any] | None = None,
    value: dict[str, Any] | None = None,
) -> Path:
    """Write a model folder (see the module docstring) and its checksums; returns the folder."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    names = {"main": "booster.txt"} | {p: f"booster_{p}.txt" for p in ("occurrence", "amount")}
    for part, booster in boosters.items():
        (directory / names.get(part, f"booster_{part}.txt")).write_text(booster.model_to_string())
    _write_json(directory / "schema.json", schema.to_dict())
    _write_json(directory / "metadata.json", {**metadata, "kind": kind})
    (directory / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=True))
    if calibration is not None:
        _write_json(directory / "calibration.json", calibration)
    if value is not None:
        _write_json(directory / "value.json", value)
    sums = {p.name: _sha256(p) for p in sorted(directory.iterdir()) if p.name != CHECKSUMS}
    _write_json(directory / CHECKSUMS, sums)
    return directory


def verify_checksums(directory: Path) -> dict[str, str]:
    """Check every file listed in ``checksums.json``; raise ``ModelError`` on any mismatch."""
    directory = Path(directory)
    try:
        sums = json.loads((directory / CHECKSUMS).read_text())
    except (OSError, ValueError) as exc:
        raise ModelError(f"{directory}: {CHECKSUMS} is missing or unreadable ({exc})") from exc
    bad = []
    for name, expected in sorted(sums.items()):
        path = directory / name
        if "/" in name or not path.is_file():
            bad.append(f"{name} (missing)")
        elif _sha256(path) != expected:
            bad.append(f"{name} (SHA-256 differs)")
    if bad:
        raise ModelError(f"{directory}: model files fail their checksums: {', '.join(bad)}")
    return sums


def _read_json(directory: Path, name: str, sums: dict[str, str]) -> Any:
    if name not in sums:
        raise ModelError(f"{directory}: {name} is not covered by {CHECKSUMS}")
    try:
        return json.loads((directory / name).read_text())
    except ValueError as exc:
        raise ModelError(f"{directory}: {name} is not valid JSON ({exc})") from exc


@dataclass
class LoadedModel:
    """A registered model ready to score: ``prepare`` then ``predict``.

    ``predict`` gives the calibrated churn probability within ``horizon_days`` (churn) or the
    expected revenue over ``horizon_days`` (clv). ``booster`` is the churn booster, the Tweedie
    booster, or for a two-part value model the amount booster (``boosters`` has both parts).
    """

    kind: str
    version: str
    run_id: str
    schema: dict[str, Any]
    metadata: dict[str, Any]
    boosters: dict[str, lgb.Booster]
    calibrator: ProbabilityCalibrator | None = None
    smearing: float = 1.0
    _schema: FeatureSchema = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._schema = FeatureSchema.from_dict(self.schema)

    @property
    def feature_names(self) -> list[str]:
        return list(self._schema.feature_names)

    @property
    def booster(self) -> lgb.Booster:
        return self.boosters["main"] if "main" in self.boosters else self.boosters["amount"]

    @property
    def horizon_days(self) -> int:
        return int(self.metadata["horizon_days"])

    @property
    def feature_profile(self) -> dict[str, Any]:
        return self._schema.profile

    @property
    def profile_date(self) -> str | None:
        """The as-of date the drift profile describes (None in older bundles)."""
        return self._schema.profile_date

    @property
    def structure(self) -> str:
        return str(self.metadata.get("structure", "lightgbm"))

    def prepare(self, features: pd.DataFrame) -> pd.DataFrame:
        """The model's columns in training order with training encodings (``ModelError``)."""
        return self._schema.prepare(features)

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        """Churn probability or expected revenue for each row of a feature frame."""
        X = self.prepare(features)
        if self.kind == "churn":
            raw = self.boosters["main"].predict(X, raw_score=True)
            if not self.calibrator.uses_margin:
                raw = 1 / (1 + np.exp(-raw))
            return self.calibrator.transform(raw)
        return predict_value(self.boosters, self.smearing, X)


def load_bundle(directory: Path, *, version: str = "", run_id: str = "") -> Any:
    """Load a model folder written by :func:`save_bundle`, checksums verified first: a
    ``LoadedModel`` (churn, clv) or a ``LoadedUplift`` (uplift)."""
    directory = Path(directory)
    sums = verify_checksums(directory)
    metadata = _read_json(directory, "metadata.json", sums)
    kind = metadata.get("kind")
    if kind not in KINDS:
        raise ModelError(f"{directory}: metadata.json names an unknown model kind {kind!r}")
    if kind == "uplift":
        uplift = _load_uplift(directory, sums, metadata, version, run_id)
        uplift.bundle_files = _files(directory, sums)
        return uplift
    boosters = {}
    for part, name in (
        ("main", "booster.txt"),
        ("occurrence", "booster_occurrence.txt"),
        ("amount", "booster_amount.txt"),
    ):
        if name in sums:
            try:
                boosters[part] = load_booster((directory / name).read_text())
            except lgb.basic.LightGBMError as exc:
                raise ModelError(f"{directory}: {name} is not a LightGBM model ({exc})") from exc
    if not ("main" in boosters or {"occurrence", "amount"} <= boosters.keys()):
        raise ModelError(f"{directory}: no complete set of booster files")
    loaded = LoadedModel(
        kind=kind,
        version=str(version),
        run_id=str(run_id),
        schema=_read_json(directory, "schema.json", sums),
        metadata=metadata,
        boosters=boosters,
    )
    try:
        if kind == "churn":
            cal = _read_json(directory, "calibration.json", sums)
            loaded.calibrator = ProbabilityCalibrator.from_dict(cal)
        else:
            loaded.smearing = float(_read_json(directory, "value.json", sums)["smearing"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"{directory}: calibration/value file is malformed ({exc!r})") from exc
    loaded.bundle_files = _files(directory, sums)
    return loaded


def _files(directory: Path, sums: dict[str, str]) -> dict[str, bytes]:
    """The verified folder's files (kept so that Spark executors can load the same bundle)."""
    return {name: (directory / name).read_bytes() for name in [*sums, CHECKSUMS]}


def load_bundle_files(files: dict[str, bytes], *, version: str = "", run_id: str = "") -> Any:
    """:func:`load_bundle` of a folder given as its files (``bundle_files`` of a loaded
    model): written to a temporary folder, checksums verified again, loaded."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="valuemodel-bundle-") as tmp:
        for name, content in files.items():
            if Path(name).name != name:
                raise ModelError(f"a bundle file name must not hold a folder: {name!r}")
            (Path(tmp) / name).write_bytes(content)
        return load_bundle(Path(tmp), version=version, run_id=run_id)


def _load_uplift(
    directory: Path, sums: dict[str, str], metadata: dict[str, Any], version: str, run_id: str
) -> LoadedUplift:
    texts = {
        name[len("booster_") : -len(".txt")]: (directory / name).read_text()
        for name in sums
        if name.startswith("booster_") and name.endswith(".txt")
    }
    try:
        learner = UpliftLearner.from_texts(metadata["method"], texts, metadata["treated_share"])
    except (KeyError, ValueError, lgb.basic.LightGBMError) as exc:
        raise ModelError(f"{directory}: not a complete uplift model ({exc})") from exc
    return LoadedUplift(
        version=str(version),
        run_id=str(run_id),
        schema=_read_json(directory, "schema.json", sums),
        metadata=metadata,
        learner=learner,
    )
