"""SHAP frames, their aggregates and the ranked list's reasons, on small hand-made models."""

from __future__ import annotations

from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from valuemodel import explain
from valuemodel.errors import InputError, ModelError
from valuemodel.models import FeatureSchema, ProbabilityCalibrator, load_bundle, save_bundle

RISK_LEVELS = ["C1", "C2", "C3", "C4", "C5"]


def make_features(n: int = 240, seed: int = 3) -> pd.DataFrame:
    """``account_id``, ``as_of`` and five features, one categorical, some missing."""
    rng = np.random.default_rng(seed)
    days = rng.integers(0, 400, n).astype(float)
    days[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame(
        {
            "account_id": [f"ACCT{i:05d}" for i in range(n)],
            "as_of": pd.Timestamp("2025-06-30"),
            "days_since_last_trade": days,
            "total_assets": np.round(rng.lognormal(11, 1.5, n), 2),
            "outflow_share_90d": np.round(rng.beta(0.5, 4, n), 3),
            "revenue_365d": np.round(rng.gamma(1.0, 800.0, n), 2),
            "risk_level": pd.Categorical(rng.choice(RISK_LEVELS, n), categories=RISK_LEVELS),
        }
    )


def _labels(features: pd.DataFrame, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    logit = (
        -2.0
        + 0.006 * features["days_since_last_trade"].fillna(400)
        + 3.0 * features["outflow_share_90d"]
        + 0.8 * (features["risk_level"] == "C5")
    )
    churn = (rng.random(len(features)) < 1 / (1 + np.exp(-logit))).astype(float)
    value = features["revenue_365d"].to_numpy() * rng.gamma(2.0, 0.5, len(features))
    return churn, value


def _metadata(kind: str) -> dict:
    metrics = (
        {"roc_auc": 0.71, "pr_auc": 0.4, "brier": 0.15, "ece": 0.03, "lift_top_decile": 2.1}
        if kind == "churn"
        else {"normalized_gini": 0.8, "spearman": 0.7, "decile_mape": 0.3, "aggregate_error": -0.1}
    )
    baselines = (
        {"recency": {"roc_auc": 0.6, "pr_auc": 0.3, "lift_top_decile": 1.5}}
        if kind == "churn"
        else {"last_revenue": {"normalized_gini": 0.75, "spearman": 0.6}}
    )
    return {
        "horizon_days": 90 if kind == "churn" else 365,
        "structure": "lightgbm+platt" if kind == "churn" else "tweedie",
        "as_of": "2025-12-31",
        "train_dates": ["2024-04-30", "2025-01-31"],
        "valid_dates": ["2025-06-30"],
        "gap_rule": "strict",
        "history_days": 90,
        "counts": {"train_rows": 900, "train_accounts": 240, "train_snapshots": 10},
        "metrics": metrics,
        "baseline_metrics": baselines,
        "data_fingerprint": "f" * 64,
        "churn_definition": "assets",
    }


def make_model(directory: Path, kind: str = "churn", seed: int = 3):
    """A small LightGBM churn (Platt-calibrated) or Tweedie value model, saved and loaded."""
    features = make_features(seed=seed)
    churn, value = _labels(features, seed)
    schema = FeatureSchema.from_frame(features)
    X = schema.prepare(features)
    params = {"verbose": -1, "num_threads": 1, "seed": seed, "min_data_in_leaf": 10}
    extra = {}
    if kind == "churn":
        booster = lgb.train({**params, "objective": "binary"}, lgb.Dataset(X, churn), 25)
        raw = booster.predict(X, raw_score=True)
        extra["calibration"] = ProbabilityCalibrator("platt").fit(raw, churn).to_dict()
    else:
        booster = lgb.train({**params, "objective": "tweedie"}, lgb.Dataset(X, value), 25)
        extra["value"] = {"structure": "tweedie", "smearing": 1.0}
    bundle = save_bundle(
        directory / kind,
        kind=kind,
        schema=schema,
        boosters={"main": booster},
        metadata=_metadata(kind),
        config={},
        **extra,
    )
    return load_bundle(bundle), features


@pytest.fixture(scope="module")
def churn(tmp_path_factory):
    return make_model(tmp_path_factory.mktemp("explain"), "churn")


@pytest.fixture
def small_shap() -> pd.DataFrame:
    return pd.DataFrame(
        {"a": [1.0, -3.0, 2.0], "b": [0.5, 0.5, -0.5], "bias": [9.0, 9.0, 9.0]},
        index=[10, 11, 12],
    )


@pytest.mark.filterwarnings("ignore:LightGBM binary classifier:UserWarning")
@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
def test_shap_frame_equals_shap_tree_explainer_to_1e_6(churn):
    import shap

    model, features = churn
    frame = explain.shap_frame(model, features)
    explainer = shap.TreeExplainer(model.booster)
    expected = np.asarray(explainer.shap_values(model.prepare(features)))
    np.testing.assert_allclose(frame.drop(columns="bias").to_numpy(), expected, atol=1e-6)
    np.testing.assert_allclose(frame["bias"].to_numpy(), explainer.expected_value, atol=1e-6)


def test_shap_frame_rows_add_up_to_the_raw_score(churn):
    model, features = churn
    frame = explain.shap_frame(model, features)
    raw = model.booster.predict(model.prepare(features), raw_score=True)
    np.testing.assert_allclose(frame.sum(axis=1).to_numpy(), raw, atol=1e-9)


def test_shap_frame_has_model_features_then_bias_on_the_input_index(churn):
    model, features = churn
    shifted = features.iloc[5:25].set_index(pd.RangeIndex(100, 120))
    frame = explain.shap_frame(model, shifted)
    assert list(frame.columns) == [*model.feature_names, "bias"]
    assert frame.index.equals(shifted.index)


def test_shap_frame_rejects_features_missing_a_model_column(churn):
    model, features = churn
    with pytest.raises(ModelError, match="missing feature column.*outflow_share_90d"):
        explain.shap_frame(model, features.drop(columns="outflow_share_90d"))


def test_shap_frame_rejects_an_unknown_part(churn):
    model, features = churn
    with pytest.raises(ValueError, match="part must be one of \\['main'\\]"):
        explain.shap_frame(model, features, part="amount")


def test_global_importance_is_the_mean_absolute_shap_value(small_shap):
    importance = explain.global_importance(small_shap)
    assert list(importance.index) == ["a", "b"]  # bias is not a feature
    assert importance.to_dict() == pytest.approx({"a": 2.0, "b": 0.5})


def test_global_importance_rejects_an_empty_frame():
    with pytest.raises(ValueError, match="no rows"):
        explain.global_importance(pd.DataFrame(columns=["a", "bias"], dtype=float))


def test_drivers_by_segment_is_the_mean_shap_per_segment(small_shap):
    segments = pd.Series(["core", "dormant", "core"], index=small_shap.index)
    table = explain.drivers_by_segment(small_shap, segments)
    assert list(table.index) == ["core", "dormant"]
    assert list(table.columns) == ["a", "b"]
    assert table.loc["core"].to_dict() == pytest.approx({"a": 1.5, "b": 0.0})
    assert table.loc["dormant"].to_dict() == pytest.approx({"a": -3.0, "b": 0.5})


def test_drivers_by_segment_counts_a_missing_segment_as_unassigned(small_shap):
    table = explain.drivers_by_segment(small_shap, ["core", None, "core"])
    assert table.loc["unassigned", "a"] == pytest.approx(-3.0)


def test_drivers_by_segment_rejects_segments_on_another_index(small_shap):
    with pytest.raises(ValueError, match="SHAP frame's index"):
        explain.drivers_by_segment(small_shap, pd.Series(["core"] * 3))


def test_top_positive_drivers_leave_non_positive_contributions_out(small_shap):
    drivers = explain.top_positive_drivers(small_shap, k=2)
    assert drivers.loc[10].tolist() == ["a", "b"]
    assert drivers.loc[11].tolist() == ["b", None]
    assert drivers.loc[12].tolist() == ["a", None]


def test_top_positive_drivers_of_an_explanation_row_match_its_shap_frame_row(churn):
    model, features = churn
    frame = explain.shap_frame(model, features)
    exp = explain.explanation(model, features, frame)
    from_row = explain.top_positive_drivers(exp[7])
    assert from_row.iloc[0].tolist() == explain.top_positive_drivers(frame).iloc[7].tolist()


def test_explanation_carries_the_shap_frame_and_readable_categories(churn):
    model, features = churn
    frame = explain.shap_frame(model, features)
    exp = explain.explanation(model, features, frame)
    assert exp.feature_names == model.feature_names
    np.testing.assert_array_equal(exp.values, frame[model.feature_names].to_numpy())
    np.testing.assert_array_equal(exp.base_values, frame["bias"].to_numpy())
    risk = model.feature_names.index("risk_level")
    assert exp.display_data[0, risk] == features["risk_level"].iloc[0]
    assert exp.data[0, risk] == RISK_LEVELS.index(features["risk_level"].iloc[0])


def test_shap_units_name_the_raw_score_of_each_model(churn, tmp_path):
    value_model, _ = make_model(tmp_path, "clv")
    assert explain.shap_units(churn[0]) == "log-odds of churn"
    assert explain.shap_units(value_model) == "log expected revenue"


def _listed(model, features: pd.DataFrame) -> pd.DataFrame:
    """The first rows as the scorer writes them: rank, account_id, reasons and drivers."""
    from valuemodel.features import load_registry
    from valuemodel.serving.reasons import explain as reasons

    rows = features.iloc[:6]
    written = reasons(model.booster, model.prepare(rows), rows, load_registry())
    return pd.concat([rows[["account_id"]], written], axis=1).assign(rank=range(1, 7))


def test_reason_check_finds_the_scorers_reasons_in_the_shap_frame(churn):
    model, features = churn
    frame = explain.shap_frame(model, features)
    check = explain.reason_check(_listed(model, features), frame, features)
    assert check["drivers_match"].all() and check["reasons_match"].all()
    assert check["listed_drivers"].iloc[0] == check["shap_drivers"].iloc[0]


def test_reason_check_flags_a_reason_that_is_not_a_top_driver(churn):
    model, features = churn
    listed = _listed(model, features)
    listed.loc[listed.index[0], "driver_1"] = "total_assets_not_a_driver"
    listed.loc[listed.index[0], "reason_1"] = "made up"
    check = explain.reason_check(listed, explain.shap_frame(model, features), features)
    assert check["drivers_match"].tolist() == [False, True, True, True, True, True]
    assert not check["reasons_match"].iloc[0]


def test_ensure_demo_workspace_refuses_a_folder_holding_other_files(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="not a valuemodel workspace.*notes.txt"):
        explain.ensure_demo_workspace(tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_ensure_demo_workspace_builds_once_when_two_kernels_ask_at_once(tmp_path, monkeypatch):
    """Two callers on one empty folder: one builds, the other waits and opens its workspace
    (without the lock both see no workspace and both build, one clearing the other's files)."""
    import threading
    import time

    from valuemodel import workspace

    builds = []

    def build(root, **kwargs):
        builds.append(threading.get_ident())
        time.sleep(0.5)  # long enough for the other caller to look while this one builds
        (root / workspace.MARKER).parent.mkdir(parents=True, exist_ok=True)
        (root / workspace.MARKER).write_text("{}")

    def open_workspace(root, built):
        return root if (root / workspace.MARKER).is_file() else None

    monkeypatch.setattr(workspace, "_build", build)
    monkeypatch.setattr(workspace, "_open_workspace", open_workspace)
    found = []
    callers = [
        threading.Thread(target=lambda: found.append(workspace.ensure_demo_workspace(tmp_path)))
        for _ in range(2)
    ]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    assert len(builds) == 1
    assert found == [tmp_path, tmp_path]


def test_holdout_scores_rejects_an_unknown_kind():
    with pytest.raises(ValueError, match="kind must be 'churn' or 'clv'"):
        explain.holdout_scores("unused", object(), "value")
