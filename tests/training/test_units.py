"""Tuning, figures, frames checks, summaries and tracking errors, without a full training."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from valuemodel.errors import InputError, ModelError
from valuemodel.models import figures, tracking
from valuemodel.models.schema import FeatureSchema
from valuemodel.training import frames
from valuemodel.training.config import parse_config
from valuemodel.training.tuning import tune


def _frame(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    y = (rng.random(n) < 1 / (1 + np.exp(-(2 * x[:, 0] - 1)))).astype(float)
    return pd.DataFrame(x, columns=["a", "b", "c"]), y


@pytest.fixture(scope="module")
def churn_data():
    (X, y), (Xv, yv) = _frame(2000, 1), _frame(800, 2)
    schema = FeatureSchema.from_frame(X)
    return schema.prepare(X), y, schema.prepare(Xv), yv


def test_tuning_is_seeded_reports_progress_and_prunes(churn_data):
    cfg = parse_config(
        {
            "tuning": {"trials": 8, "pruning_warmup_steps": 5},
            "lightgbm": {"max_rounds": 80, "early_stopping_rounds": 10},
        }
    )
    ticks = []
    first = tune("churn", *churn_data, cfg, progress=lambda: ticks.append(1))
    again = tune("churn", *churn_data, cfg)
    assert first.params == again.params and first.scores == again.scores
    assert len(ticks) == 8 and first.trials == 8
    assert first.best_score > 0.8 and first.params["num_leaves"] >= 8


def test_zero_trials_gives_the_default_parameters_with_fixed_overrides(churn_data):
    cfg = parse_config({"tuning": {"trials": 0}, "lightgbm": {"fixed_params": {"max_depth": 3}}})
    result = tune("churn", *churn_data, cfg)
    assert result.params["max_depth"] == 3 and result.trials == 0


def test_the_value_comparison_takes_the_tuned_tweedie_booster_it_would_train_anew():
    from valuemodel.models import metrics
    from valuemodel.training import fitting
    from valuemodel.training.tuning import stopping_rows, subsample

    def revenue(n, seed):
        X, y = _frame(n, seed)
        amount = np.exp(3 + X["b"].to_numpy() + np.random.default_rng(seed).normal(size=n))
        return X, np.where(y > 0, amount, 0.0)

    (X, y), (Xv, yv) = revenue(2000, 3), revenue(1500, 4)
    cfg = parse_config(
        {
            "tuning": {"trials": 4, "max_tuning_rows": 1000},
            "lightgbm": {"max_rounds": 80, "early_stopping_rounds": 10},
        }
    )
    tuning = tune("value", X, y, Xv, yv, cfg)
    assert tuning.booster is not None
    _, _, gini = fitting._fit_value_structures(X, y, Xv, yv, tuning, cfg)
    rows, stop = subsample(2000, 1000, cfg.tuning.seed), stopping_rows(1500, cfg)
    assert len(stop) == 1000
    anew = fitting._value_model("tweedie", tuning, cfg, len(rows))
    anew.fit(X.iloc[rows], y[rows], eval_set=(Xv.iloc[stop], yv[stop]))
    assert anew.boosters_["main"].model_to_string() == tuning.booster.model_to_string()
    assert gini["tweedie"] == metrics.normalized_gini(yv, anew.predict(Xv))


def test_figures_contain_the_model_and_its_baselines():
    rng = np.random.default_rng(0)
    y = (rng.random(500) < 0.2).astype(float)
    score = y + rng.normal(0, 0.5, 500)
    fig = figures.gains_figure(y, {"model": score, "recency rule": rng.random(500)})
    gains_ax, lift_ax = fig.axes
    assert [t.get_text() for t in gains_ax.get_legend().get_texts()] == [
        "random",
        "model",
        "recency rule",
    ]
    assert [t.get_text() for t in lift_ax.get_xticklabels()] == ["model", "recency rule"]
    assert lift_ax.patches[0].get_height() > lift_ax.patches[1].get_height()
    cal = figures.calibration_figure(y, {"model": np.clip(score, 0, 1)})
    assert cal.axes[0].get_xlabel() == "predicted churn probability"


def test_importance_figure_shows_the_top_features(churn_data):
    import lightgbm as lgb

    X, y, _, _ = churn_data
    booster = lgb.train({"objective": "binary", "verbosity": -1}, lgb.Dataset(X, y), 5)
    ax = figures.importance_figure(booster, top=2).axes[0]
    assert len(ax.patches) == 2 and ax.get_yticklabels()[-1].get_text() == "a"


def test_a_single_churn_class_is_an_input_error():
    feats = pd.DataFrame({"account_id": ["x", "y"], "as_of": pd.Timestamp("2025-01-31")})
    part = frames.Part(feats, np.zeros(2), (date(2025, 1, 31),))
    with pytest.raises(InputError, match="every account in the training snapshots .* stayed"):
        frames.check_labels("churn", part, part)
    with pytest.raises(InputError, match="no account has revenue"):
        frames.check_labels("value", part, part)


def test_held_out_accounts_are_about_half_disjoint_and_stable():
    ids = [f"A{i:05d}" for i in range(400)]
    features = pd.DataFrame({"account_id": ids * 2, "x": np.arange(800.0)})
    part = frames.Part(features, np.arange(800.0), (date(2025, 1, 31), date(2025, 2, 28)))
    kept, held = frames.hold_out(part)
    kept_ids, held_ids = set(kept.features.account_id), set(held.features.account_id)
    assert not kept_ids & held_ids  # an account's snapshots all fall on one side
    assert kept_ids | held_ids == set(ids)
    assert 160 <= len(held_ids) <= 240  # about half
    assert len(kept.y) + len(held.y) == 800
    # labels stay with their rows
    assert (held.y == held.features.x.to_numpy()).all()
    again = frames.hold_out(part)[1]
    assert again.features.account_id.tolist() == held.features.account_id.tolist()


def test_tracking_uri_resolution(monkeypatch, tmp_path):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert tracking.resolve_tracking_uri(None, tmp_path) == f"sqlite:///{tmp_path}/mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:////x/y.db")
    assert tracking.resolve_tracking_uri() == "sqlite:////x/y.db"
    assert tracking.resolve_tracking_uri("file:///z") == "file:///z"
    assert tracking._artifact_location("sqlite:////x/y.db") == "file:///x/mlartifacts"


def test_loading_a_missing_alias_is_a_model_error(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    with pytest.raises(ModelError, match="no trained models: there is no tracking store"):
        tracking.load_model("churn", "nope", tracking_uri=uri)
    assert not (tmp_path / "mlflow.db").exists()
    tracking.Tracker(uri).experiment_id("valuemodel")  # a store with no registered model
    with pytest.raises(ModelError, match="no model 'valuemodel-churn' in .*train one first"):
        tracking.load_model("churn", "nope", tracking_uri=uri)


def test_cross_fitted_calibration_never_scores_the_rows_it_was_fitted_on():
    from valuemodel.models.calibration import ProbabilityCalibrator
    from valuemodel.training.fitting import _cross_fitted

    rng = np.random.default_rng(0)
    raw = rng.normal(0, 1, 40)
    y = np.zeros(40)
    y[[3, 17]] = 1.0  # two churners: the folds are stratified, one churner in each
    honest = _cross_fitted(raw, y, "platt", seed=5)
    assert honest is not None
    for k in (0, 1):
        # rebuild the folds as documented: per class, a seeded permutation mod 2
        gen = np.random.default_rng(5)
        folds = np.empty(40, dtype=int)
        for value in (0.0, 1.0):
            rows = np.flatnonzero(y == value)
            folds[rows] = gen.permutation(len(rows)) % 2
        assert y[folds == k].sum() == 1
        other = ProbabilityCalibrator("platt").fit(raw[folds != k], y[folds != k])
        assert honest[folds == k] == pytest.approx(other.transform(raw[folds == k]))
    y_one = np.zeros(40)
    y_one[3] = 1.0  # one churner: no half can be calibrated without it: no number at all
    assert _cross_fitted(raw, y_one, "platt", seed=5) is None


def test_category_lists_read_off_the_data_are_cut_to_the_dates_kept():
    jan, feb = date(2024, 1, 31), date(2024, 2, 29)
    toy = pd.DataFrame(
        {
            "account_id": list("abcde"),
            "as_of": pd.to_datetime([jan] * 3 + [feb] * 2),
            "channel": pd.Categorical(["x", "y", "x", "z", "y"], categories=["x", "y", "z"]),
            "gender": pd.Categorical(["M"] * 5, categories=["M", "F"]),  # a declared list
        }
    )
    sliced = frames.at_dates(toy, [jan])
    assert list(sliced["channel"].cat.categories) == ["x", "y"] and len(sliced) == 3
    assert list(sliced["gender"].cat.categories) == ["M", "F"]
    kept = frames.seen_at(toy, [jan])
    assert len(kept) == 5 and kept["channel"].isna().tolist() == [False] * 3 + [True, False]
    assert frames.seen_at(toy, [jan, feb]) is toy
