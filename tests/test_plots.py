"""Figures are tested by what they contain: titles, axis labels, series, bars and tick labels."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from valuemodel import explain, plots

from .test_explain import make_model

pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")


@pytest.fixture(scope="module")
def churn(tmp_path_factory):
    model, features = make_model(tmp_path_factory.mktemp("plots"), "churn")
    shap = explain.shap_frame(model, features)
    return model, features, shap, explain.explanation(model, features, shap)


def _ticks(ax, axis: str = "x") -> list[str]:
    labels = ax.get_xticklabels() if axis == "x" else ax.get_yticklabels()
    return [t.get_text() for t in labels]


def _legend(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_calibration_curve_draws_the_diagonal_and_each_model():
    y = np.array([0, 0, 1, 1, 0, 1, 0, 0, 1, 0])
    p = np.linspace(0.05, 0.95, 10)
    fig = plots.calibration_curve(y, {"model": p, "logistic": p[::-1]})
    ax = fig.axes[0]
    assert _legend(ax) == ["perfectly calibrated", "model", "logistic"]
    assert ax.get_xlabel() == "predicted churn probability"
    assert ax.get_ylabel() == "observed churn rate"


def test_calibration_curve_labels_a_single_array_as_the_model():
    fig = plots.calibration_curve([0, 1, 0, 1], np.array([0.1, 0.8, 0.3, 0.6]))
    assert _legend(fig.axes[0]) == ["perfectly calibrated", "model"]


def test_gains_lift_has_one_curve_and_one_bar_per_score():
    rng = np.random.default_rng(0)
    y = (rng.random(200) < 0.2).astype(float)
    scores = {"model": y + rng.random(200), "recency rule": rng.random(200)}
    gains, lift = plots.gains_lift(y, scores).axes
    assert len(gains.get_lines()) == 3  # random + two scores
    assert len(lift.patches) == 2
    assert _ticks(lift) == ["model", "recency rule"]
    assert gains.get_ylabel() == "share of churners captured"


def test_feature_importance_of_shap_values_lists_the_largest_first():
    importance = pd.Series({"a": 0.1, "b": 0.5, "c": 0.3, "d": 0.05})
    ax = plots.feature_importance(importance, top=3, units="log-odds of churn").axes[0]
    assert _ticks(ax, "y") == ["a", "c", "b"]  # barh draws bottom-up: largest on top
    assert [p.get_width() for p in ax.patches] == pytest.approx([0.1, 0.3, 0.5])
    assert ax.get_xlabel() == "mean |SHAP value| (log-odds of churn)"
    assert ax.get_title() == "Feature importance by mean |SHAP| (top 3)"


def test_feature_importance_of_a_booster_is_the_training_figure(churn):
    model = churn[0]
    ax = plots.feature_importance(model.booster, top=4).axes[0]
    assert ax.get_title() == "Feature importance (top 4)"
    assert ax.get_xlabel() == "total gain"
    assert len(ax.patches) == 4


def test_value_deciles_compares_mean_predicted_and_realized_per_decile():
    predicted = np.arange(1.0, 21.0)
    actual = 2 * predicted
    ax = plots.value_deciles(actual, predicted).axes[0]
    heights = [p.get_height() for p in ax.patches]
    assert len(heights) == 20
    assert heights[:10] == pytest.approx([19.5 - 2 * i for i in range(10)])  # predicted
    assert heights[10:] == pytest.approx([39.0 - 4 * i for i in range(10)])  # realized
    assert _ticks(ax) == [str(i) for i in range(1, 11)]
    assert _legend(ax) == ["predicted", "realized"]
    assert ax.get_yscale() == "linear"


def test_value_deciles_switches_to_a_log_axis_for_a_dominant_top_decile():
    predicted = np.r_[np.full(10, 1e6), np.full(90, 10.0)]
    ax = plots.value_deciles(predicted, predicted).axes[0]
    assert ax.get_yscale() == "log"


def test_value_deciles_rejects_unequal_lengths():
    with pytest.raises(ValueError, match="as many actual as predicted values"):
        plots.value_deciles(np.ones(12), np.ones(11))


def test_shap_summary_lists_the_strongest_features(churn):
    model, _, shap, exp = churn
    top = explain.global_importance(shap).index[0]
    fig = plots.shap_summary(exp, max_display=3, title="churn", units="log-odds of churn")
    ax = fig.axes[0]
    labels = _ticks(ax, "y")
    assert labels[-1] == top  # beeswarm draws the strongest feature at the top
    assert len(labels) == 3 and labels[0].startswith("Sum of")
    assert ax.get_title() == "churn"
    assert ax.get_xlabel() == "SHAP value (log-odds of churn)"


def test_shap_summary_draws_the_same_dots_every_time_and_leaves_numpy_alone(churn):
    *_, exp = churn

    def dots() -> list[np.ndarray]:
        fig = plots.shap_summary(exp, max_display=3)
        return [c.get_offsets().copy() for c in fig.axes[0].collections if len(c.get_offsets())]

    np.random.seed(123)  # noqa: NPY002 - the global generator is what is tested
    first = dots()
    after = np.random.random()  # noqa: NPY002
    np.random.seed(999)  # noqa: NPY002 - the global generator is what is tested
    second = dots()
    assert first and all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))
    np.random.seed(123)  # noqa: NPY002 - the global generator is what is tested
    assert np.random.random() == after  # noqa: NPY002 - it went on as if never used


def test_shap_summary_draws_a_feature_missing_for_every_account_quietly(churn, recwarn):
    model, features, _, _ = churn
    empty = features.assign(total_assets=np.nan)
    plots.shap_summary(explain.explanation(model, empty))
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_shap_dependence_plots_the_feature_against_its_shap_value(churn):
    exp = churn[3]
    ax = plots.shap_dependence(exp, "days_since_last_trade", color=None).axes[0]
    assert ax.get_xlabel() == "days_since_last_trade"
    assert ax.get_title() == "How days_since_last_trade moves the score"


def test_shap_waterfall_names_the_account_features(churn):
    model, _, shap, exp = churn
    fig = plots.shap_waterfall(exp[0], max_display=4, title="rank 1")
    ax = fig.axes[0]
    assert ax.get_title() == "rank 1"
    named = " ".join(_ticks(ax, "y"))
    strongest = shap.iloc[0, :-1].abs().idxmax()
    assert strongest in named


def test_shap_figures_are_not_left_open_in_pyplot(churn):
    exp = churn[3]
    before = plt.get_fignums()
    figures = [
        plots.shap_summary(exp),
        plots.shap_dependence(exp, "total_assets"),
        plots.shap_waterfall(exp[1]),
    ]
    assert plt.get_fignums() == before
    assert all(isinstance(f, Figure) for f in figures)


def test_drivers_heatmap_shows_the_strongest_features_per_segment():
    table = pd.DataFrame(
        {"a": [0.1, -0.2], "b": [0.9, 0.0], "c": [0.01, 0.02]}, index=["core", "dormant"]
    )
    fig = plots.drivers_heatmap(table, top=2, counts={"core": 10, "dormant": 3}, units="u")
    ax = fig.axes[0]
    assert _ticks(ax, "y") == ["b", "a"]
    assert _ticks(ax) == ["core\n(n=10)", "dormant\n(n=3)"]
    assert sorted(t.get_text() for t in ax.texts) == sorted(["+0.90", "+0.00", "+0.10", "-0.20"])
    assert fig.axes[1].get_ylabel() == "mean SHAP value (u)"


def test_distributions_by_segment_draws_one_panel_per_feature():
    features = pd.DataFrame(
        {
            "total_assets": [1e2, 5e5, 2e6, 3e3, 1e7, 8e4],
            "active_trading_days_90d": [0, 10, 30, 2, 45, 5],
        }
    )
    segments = ["dormant", "maintaining", "core", "dormant", "core", None]
    fig = plots.distributions_by_segment(features, segments, list(features.columns), ncols=3)
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in shown] == list(features.columns)
    assert _ticks(shown[0]) == ["core", "dormant", "maintaining", "unassigned"]
    assert shown[0].get_yscale() == "symlog" and shown[1].get_yscale() == "linear"


def test_feature_timeline_marks_the_checked_date():
    frame = pd.DataFrame(
        {
            "as_of": pd.date_range("2025-01-31", periods=4, freq="ME"),
            "days_since_last_trade": [1.0, 30.0, 61.0, 2.0],
            "total_assets": [1e5, 1.1e5, np.nan, 9e4],
        }
    )
    fig = plots.feature_timeline(
        frame, ["days_since_last_trade", "total_assets"], marks={"T": "2025-03-01"}
    )
    assert [ax.get_ylabel() for ax in fig.axes] == ["days_since_last_trade", "total_assets"]
    assert _legend(fig.axes[0]) == ["T"]
    assert len(fig.axes[1].get_lines()) == 2  # the step line and the mark
