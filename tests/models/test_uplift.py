"""The uplift learner and the uplift metrics: hand-computed answers and a recovered effect."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from valuemodel.models.uplift import UpliftLearner, effect_contributions
from valuemodel.models.uplift_metrics import (
    auuc,
    qini_coefficient,
    qini_curve,
    qini_difference,
    top_share_of_best,
    uplift_by_decile,
)


def _experiment(n: int = 4000, seed: int = 0):
    """Churn 30 % without contact; contact lowers it by 20 points where x > 0 (persuadable)
    and raises it by 10 points where x <= 0 (reminded to leave). z is noise."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"x": rng.normal(size=n), "z": rng.normal(size=n)})
    t = (rng.random(n) < 0.5).astype(int)
    effect = np.where(X.x > 0, 0.2, -0.1)
    p = 0.3 - t * effect
    y = (rng.random(n) < p).astype(int)
    return X, t, y, effect


@pytest.fixture(scope="module")
def experiment():
    return _experiment()


@pytest.mark.parametrize("method", ["t", "x", "dr"])
def test_each_learner_recovers_who_responds_and_who_is_harmed(experiment, method):
    X, t, y, effect = experiment
    learner = UpliftLearner(method=method, rounds=40, seed=1).fit(X, t, y)
    predicted = learner.predict(X)
    assert predicted[effect > 0].mean() > 0.12
    assert predicted[effect < 0].mean() < -0.03
    assert learner.average_effect_ == pytest.approx(y[t == 0].mean() - y[t == 1].mean())
    assert qini_coefficient(predicted, t, y) > 0.02


def test_a_learner_saved_as_text_predicts_the_same(experiment):
    X, t, y, _ = experiment
    learner = UpliftLearner(method="x", rounds=20).fit(X, t, y)
    again = UpliftLearner.from_texts("x", learner.to_texts(), learner.treated_share_)
    np.testing.assert_allclose(again.predict(X), learner.predict(X))


def test_effect_contributions_add_up_to_the_x_learners_effect(experiment):
    X, t, y, _ = experiment
    learner = UpliftLearner(method="x", rounds=20).fit(X, t, y)
    contrib = effect_contributions(learner, X.head(50))
    e = learner.treated_share_
    bias = e * learner.boosters_["effect_control"].predict(X.head(50), pred_contrib=True)[:, -1]
    bias += (1 - e) * learner.boosters_["effect_treated"].predict(X.head(50), pred_contrib=True)[
        :, -1
    ]
    np.testing.assert_allclose(contrib.sum(axis=1) + bias, learner.predict(X.head(50)), atol=1e-9)


@pytest.mark.parametrize(
    ("t", "y", "message"),
    [
        ([1, 1, 1, 1], [0, 1, 0, 1], "both treated and control"),
        ([1, 0, 2, 0], [0, 1, 0, 1], "treatment must be 0 or 1"),
        ([1, 0, 1, 0], [0, np.nan, 0, 1], "outcome must be 0 or 1"),
    ],
)
def test_fit_rejects_bad_treatment_or_outcome(t, y, message):
    X = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(ValueError, match=message):
        UpliftLearner().fit(X, t, y)


def test_qini_curve_by_hand():
    # ranked: a (treated, churned), b (control, churned), c (treated, stayed), d (control, stayed)
    score, t, y = [4, 3, 2, 1], [1, 0, 1, 0], [1, 1, 0, 0]
    curve = qini_curve(score, t, y)
    # k=1: no control yet -> 0 - 1 = -1; k=2: 1*1/1 - 1 = 0; k=3: 1*2/1 - 1 = 1;
    # k=4: 1*2/2 - 1 = 0; each divided by the 2 treated accounts
    np.testing.assert_allclose(curve.qini, [-0.5, 0.0, 0.5, 0.0])
    np.testing.assert_allclose(curve.share, [0.25, 0.5, 0.75, 1.0])
    # random line is 0 (Q(N) = 0): the coefficient is the mean of the curve
    assert qini_coefficient(score, t, y) == pytest.approx(0.0)


def test_qini_rewards_putting_the_saved_first():
    # control churns, treated stays: contact works for the first pair, not the second
    t, y = [1, 0, 1, 0], [0, 1, 1, 1]
    good = qini_coefficient([4, 3, 2, 1], t, y)
    bad = qini_coefficient([1, 2, 3, 4], t, y)
    assert good > 0 > bad


def test_value_weighted_qini_counts_money():
    t, y, value = [1, 0], [0, 1], [10.0, 30.0]
    # k=2: control churned value 30 * 1 treated / 1 control - 0 treated churned = 30, per treated
    assert qini_curve([2, 1], t, y, value).qini.iloc[-1] == pytest.approx(30.0)


def test_qini_difference_by_hand_per_group_weighted_by_rows():
    # group A (4 rows): the good ranking's Qini curve (0, 1/2, 1/2, 0) ... as in
    # test_qini_rewards_putting_the_saved_first: curve [0, .5, .5, .5] with Q(N) = .5,
    # diagonal [.125, .25, .375, .5] -> mean(-.125, .25, .125, 0) = .0625; reversed:
    # curve [0, 0, 0, .5] -> mean(-.125, -.25, -.375, 0) = -.1875. Group B (2 rows, one pair
    # both ways): either ranking -> the same coefficient, difference 0.
    t = [1, 0, 1, 0, 1, 0]
    y = [0, 1, 1, 1, 0, 1]
    groups = ["A"] * 4 + ["B"] * 2
    good, bad = [4, 3, 2, 1, 1, 1], [1, 2, 3, 4, 1, 1]
    out = qini_difference(good, bad, t, y, groups=groups, draws=0)
    assert out["a"] - out["b"] == pytest.approx(out["difference"])
    assert out["difference"] == pytest.approx((4 * (0.0625 + 0.1875) + 2 * 0.0) / 6)
    assert qini_coefficient(good[:4], t[:4], y[:4]) == pytest.approx(0.0625)


def test_qini_difference_of_a_ranking_with_itself_is_zero_on_every_draw():
    X, t, y, effect = _experiment(400, seed=3)
    out = qini_difference(effect, effect, t, y, draws=50)
    assert out["difference"] == out["low"] == out["high"] == 0.0


def test_the_bootstrap_interval_separates_a_clear_winner_and_not_noise():
    X, t, y, effect = _experiment(4000, seed=4)
    clear = qini_difference(X.x, -X.x, t, y, draws=200, seed=1)
    assert 0 < clear["low"] < clear["difference"] < clear["high"]
    noise = qini_difference(X.z, -X.z, t, y, draws=200, seed=1)
    assert noise["low"] < 0 < noise["high"]


def test_the_bootstrap_ranks_each_draw_as_its_scores_do_ties_and_nans_included():
    """Each draw is ranked through the scores' places among the distinct scores (faster):
    the numbers of ranking each draw by its scores, ties kept in draw order, NaNs last."""
    from valuemodel.models.uplift_metrics import _area, _qini

    rng = np.random.default_rng(5)
    n = 3000
    t, y = (rng.random(n) < 0.6).astype(float), (rng.random(n) < 0.1).astype(float)
    value = np.where(rng.random(n) < 0.2, 0.0, rng.random(n) * 100)
    a, b = np.round(rng.random(n), 2) * value, rng.random(n) * value
    a[:40], b[-30:] = np.nan, -0.0
    groups = np.repeat([0, 1, 2], n // 3)
    out = qini_difference(a, b, t, y, value=value, groups=groups, draws=30, seed=2)
    parts = [np.flatnonzero(groups == g) for g in range(3)]
    sizes = [len(p) for p in parts]

    def judged(score, rows):
        q = [_area(_qini(*(x[r[np.argsort(-score[r], kind="stable")]] for x in (t, y, value))))
             for r in rows]  # fmt: skip
        return np.average(q, weights=sizes)

    draw = np.random.default_rng(2)
    diffs = []
    for _ in range(30):
        rows = [p[draw.integers(0, len(p), len(p))] for p in parts]
        diffs.append(judged(a, rows) - judged(b, rows))
    assert out["difference"] == judged(a, parts) - judged(b, parts)
    assert [out["low"], out["high"]] == list(np.nanpercentile(diffs, [5, 95]))


def test_auuc_by_hand():
    score, t, y = [4, 3, 2, 1], [1, 0, 1, 0], [0, 1, 0, 0]
    # k=2: r_c 1 - r_t 0 = 1, x 2/4; k=3: 1 - 0, x 3/4; k=4: 0.5 - 0, x 1
    # -> the mean of (0, .5, .75, .5)
    assert auuc(score, t, y) == pytest.approx((0.5 + 0.75 + 0.5) / 4)


def test_uplift_by_decile_by_hand():
    score = np.arange(20, 0, -1)
    t = np.tile([1, 0], 10)
    y = np.zeros(20)
    y[1] = 1  # the control account of the top decile churned
    table = uplift_by_decile(score, t, y, bins=10)
    top = table.iloc[0]
    assert (top.n_treated, top.n_control, top.uplift) == (1, 1, 1.0)
    assert table.uplift.iloc[1:].eq(0).all()
    assert top.low <= top.uplift <= top.high


def test_top_share_of_best_by_hand():
    true = np.array([5.0, 4.0, 3.0, 2.0, 1.0, 0.0, -1.0, -2.0, -3.0, -4.0])
    assert top_share_of_best(true, true, 0.2) == 1.0
    assert top_share_of_best(-true, true, 0.2) == pytest.approx(-7.0 / 9.0)
    assert top_share_of_best(np.array([0, 5, 4, 0, 0, 0, 0, 0, 0, 0.0]), true, 0.2) == 7 / 9


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=2, max_size=40))
def test_the_qini_curve_ends_at_the_average_effect_whatever_the_ranking(rows):
    t = np.array([r[0] for r in rows], dtype=int)
    y = np.array([r[1] for r in rows], dtype=int)
    if t.min() == t.max():
        return
    score = np.random.default_rng(len(rows)).random(len(rows))
    end = qini_curve(score, t, y).qini.iloc[-1]
    assert end == pytest.approx(y[t == 0].mean() - y[t == 1].mean())


def test_an_uplift_model_folder_is_plain_text_checksummed_and_loads_to_the_same_effect(
    experiment, tmp_path
):
    from valuemodel.errors import ModelError
    from valuemodel.models.bundle import load_bundle, save_bundle
    from valuemodel.models.schema import FeatureSchema

    X, t, y, _ = experiment
    learner = UpliftLearner(method="x", rounds=20).fit(X, t, y)
    folder = save_bundle(
        tmp_path / "model",
        kind="uplift",
        schema=FeatureSchema.from_frame(X),
        boosters=learner.boosters_,
        metadata={"method": "x", "treated_share": learner.treated_share_, "horizon_days": 90},
        config={},
    )
    names = sorted(p.name for p in folder.iterdir())
    assert "booster_effect_control.txt" in names and not any(n.endswith(".pkl") for n in names)
    loaded = load_bundle(folder, version="3")
    np.testing.assert_allclose(loaded.predict(X), learner.predict(X))
    assert loaded.default_rank_by == "value_at_risk"  # nothing decided: value at risk
    (folder / "booster_treated.txt").write_text("tree\n")
    with pytest.raises(ModelError, match="booster_treated.txt"):
        load_bundle(folder)


@pytest.mark.parametrize("method", ["x", "dr"])
def test_the_uplift_shap_frame_adds_up_to_the_predicted_effect_with_its_bias(
    experiment, tmp_path, method
):
    from valuemodel.models.bundle import load_bundle, save_bundle
    from valuemodel.models.schema import FeatureSchema
    from valuemodel.models.shap_values import BIAS, shap_units
    from valuemodel.models.uplift import uplift_shap_frame

    X, t, y, _ = experiment
    learner = UpliftLearner(method=method, rounds=20).fit(X, t, y)
    folder = save_bundle(
        tmp_path / "model",
        kind="uplift",
        schema=FeatureSchema.from_frame(X),
        boosters=learner.boosters_,
        metadata={"method": method, "treated_share": learner.treated_share_, "horizon_days": 90},
        config={},
    )
    model = load_bundle(folder)
    frame = uplift_shap_frame(model, X.head(50))
    assert list(frame.columns) == ["x", "z", BIAS]
    np.testing.assert_allclose(frame.sum(axis=1), learner.predict(X.head(50)), atol=1e-9)
    # the effect of a responder is driven by x, not by the noise z
    assert frame["x"].abs().mean() > 2 * frame["z"].abs().mean()
    assert shap_units(model) == "fall in churn probability"
