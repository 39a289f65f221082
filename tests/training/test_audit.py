"""The P / R rule, the fairness table and exclude_protected in a real training run."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from valuemodel.data.reader import open_data
from valuemodel.features import build_features
from valuemodel.features.stable import stable_features
from valuemodel.models.baselines import ClvRule
from valuemodel.serving.score import output_columns, score_features
from valuemodel.training import audit, format_train_summary, load_model, train
from valuemodel.training.config import parse_config
from valuemodel.training.frames import Part
from valuemodel.training.result import ModelResult, _fairness_lines

AS_OF = "2025-12-31"


def test_nothing_is_left_out_unless_asked():
    columns = ["age", "gender", "branch", "total_assets"]
    assert audit.excluded_features(parse_config({}), columns) == ([], [])
    cfg = parse_config({"exclude_protected": True, "protected_proxies": ["branch", "zip"]})
    excluded, notes = audit.excluded_features(cfg, columns)
    assert excluded == ["age", "gender", "branch"]
    assert notes == ["protected_proxies: no feature named 'zip'; nothing to leave out"]


def test_without_drops_the_columns_and_keeps_a_missing_part():
    part = Part(pd.DataFrame({"age": [30.0], "x": [1.0]}), np.array([1.0]), ())
    kept, missing = audit.without((part, None), ["age"])
    assert list(kept.features.columns) == ["x"] and missing is None


@pytest.fixture(scope="module")
def tracking(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow-audit') / 'mlflow.db'}"


@pytest.fixture(scope="module")
def excluded(brokerage_dir, tracking, fast_config):
    changes = {"exclude_protected": True, "protected_proxies": ["branch"]}
    cfg = parse_config({**fast_config.to_dict(), **changes})
    return train(brokerage_dir, AS_OF, config=cfg, tracking_uri=tracking)


def test_exclude_protected_trains_models_without_age_gender_and_proxies(excluded, tracking):
    for kind in ("churn", "clv"):
        names = load_model(kind, tracking_uri=tracking).feature_names
        assert not {"age", "gender", "branch"} & set(names)
        assert "total_assets" in names


def test_the_report_and_summary_show_the_cost_of_leaving_them_out(excluded, tracking):
    churn, clv = excluded.churn, excluded.clv
    assert churn.protected["excluded"] == ["age", "gender", "branch"]
    for side in ("with", "without"):
        assert set(churn.protected[side]) == {"roc_auc", "churner_capture", "value_capture"}
        assert set(clv.protected[side]) == {"normalized_gini", "value_capture"}
    cost = churn.protected["cost"]["roc_auc"]
    assert cost == pytest.approx(
        churn.protected["with"]["roc_auc"] - churn.protected["without"]["roc_auc"]
    )
    # both sides are fitted alike and measured on the held-out accounts, which judge the
    # promotion; the registered (refitted) model is not one of the sides
    assert "held-out" in churn.protected["on"]
    text = format_train_summary(excluded)
    assert "without age, gender, branch: roc_auc" in text
    client = MlflowClient(tracking_uri=tracking, registry_uri=tracking)
    report = Path(client.download_artifacts(churn.run_id, "report.html")).read_text()
    assert "<h2>Without age, gender, branch</h2>" in report
    assert "<h2>Fairness: age bands and gender</h2>" in report
    logged = client.get_run(churn.run_id).data.metrics
    assert logged["protected.without.roc_auc"] == pytest.approx(
        churn.protected["without"]["roc_auc"]
    )


def test_the_fairness_table_is_logged_and_summarised(excluded, tracking):
    churn = excluded.churn
    groups = [(r["dimension"], r["group"]) for r in churn.fairness]
    assert ("gender", "F") in groups and ("gender", "M") in groups
    assert {g for d, g in groups if d == "age_band"} <= {
        "under 30",
        "30-44",
        "45-59",
        "60+",
        "unknown",
    }
    client = MlflowClient(tracking_uri=tracking, registry_uri=tracking)
    path = client.download_artifacts(churn.run_id, "fairness.json")
    logged = json.loads(Path(path).read_text())
    assert [(r["dimension"], r["group"]) for r in logged["rows"]] == groups
    table = pd.read_csv(client.download_artifacts(churn.run_id, "fairness.csv"))
    assert list(zip(table["dimension"], table["group"], strict=True)) == groups
    assert "fairness (predicted vs observed churn" in format_train_summary(excluded)
    assert excluded.clv.fairness == ()  # the table judges the churn model


def test_the_p_over_r_rule_is_a_value_baseline_and_a_list_column(
    excluded, tracking, brokerage_dir
):
    clv = excluded.clv
    assert set(clv.baseline_metrics["clv_rule"]) == {
        "normalized_gini",
        "spearman",
        "decile_mape",
        "aggregate_error",
    }
    client = MlflowClient(tracking_uri=tracking, registry_uri=tracking)
    assert "baseline.clv_rule.spearman" in client.get_run(clv.run_id).data.metrics
    models = {k: load_model(k, tracking_uri=tracking) for k in ("churn", "clv")}
    stored = models["clv"].metadata["clv_rule"]
    assert (stored["period_days"], stored["horizon_days"]) == (90, 365)
    features = stable_features(build_features(open_data(brokerage_dir), AS_OF))
    scored = score_features(features, models)
    expected = ClvRule.from_dict(stored).predict(features)
    assert scored["clv_rule"].to_numpy() == pytest.approx(np.round(expected, 2))
    written = output_columns(scored.assign(rank=1))
    assert "clv_rule" in written.columns


class _Planted:
    """A stand-in churn model whose probabilities are a column of the features."""

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        return features["planted_probability"].to_numpy()


def _review_and_summary(planted: bool) -> tuple[audit.Review, str]:
    """The review of 3,000 rows and its summary lines; ``planted``: the true churn rate of
    people aged 60+ is 1.8 times the predicted one (everyone else: calibrated)."""
    rng = np.random.default_rng(5)
    n = 3000
    age = rng.choice([25.0, 40.0, 52.0, 70.0], n)
    p = rng.uniform(0.02, 0.3, n)
    truth = np.where(age >= 60, 1.8 * p, p) if planted else p
    features = pd.DataFrame(
        {"age": age, "gender": rng.choice(["M", "F"], n), "planted_probability": p}
    )
    judge = Part(features, (rng.random(n) < truth).astype(float), ())
    fitted = SimpleNamespace(kind="churn")
    review = audit.review(fitted, _Planted(), (), judge, "the test rows", parse_config({}), [])
    return review, "\n".join(_fairness_lines(_result(review)))


def _result(review: audit.Review) -> ModelResult:
    return ModelResult(
        kind="churn",
        registered_model="valuemodel-churn",
        run_id="r",
        version="1",
        alias="champion",
        promoted=True,
        reason="first",
        metrics={},
        baseline_metrics={},
        counts={},
        horizon_days=90,
        structure="lightgbm+platt",
        train_dates=(),
        valid_dates=(),
        gap_rule="strict",
        fairness=tuple(review.fairness.to_dict(orient="records")),
        warnings=tuple(review.warnings),
        notes=tuple(review.notes),
    )


def test_a_planted_miscalibration_warns_in_the_training_summary():
    review, summary = _review_and_summary(planted=True)
    assert len(review.warnings) == 1
    assert "WARNING: churn model underestimates churn for age_band 60+" in summary
    assert review.metrics()["fairness.max_abs_calibration_gap"] > 0.1
    assert [r["group"] for r in review.documents()["fairness.json"]["rows"]][:4] == [
        "under 30",
        "30-44",
        "45-59",
        "60+",
    ]


def test_a_calibrated_model_gives_no_warning_in_the_training_summary():
    review, summary = _review_and_summary(planted=False)
    assert review.warnings == [] and "WARNING" not in summary
    assert "age 60+" in summary and "gender F" in summary
