import numpy as np
import pytest

from valuemodel.models import metrics


def test_normalized_gini_is_one_for_the_perfect_order_and_minus_one_reversed():
    actual = [0.0, 1.0, 3.0]
    assert metrics.normalized_gini(actual, [0.1, 0.5, 0.9]) == pytest.approx(1.0)
    assert metrics.normalized_gini(actual, [0.9, 0.5, 0.1]) == pytest.approx(-1.0)


def test_normalized_gini_matches_a_hand_computed_order():
    # order by prediction: actual 1, 0, 3 -> cumulative shares .25 .25 1 vs 1/3 2/3 1:
    # gini = (-1/12 - 5/12 + 0) / 3 = -1/6; the perfect order's gini is 1/4.
    assert metrics.normalized_gini([0.0, 1.0, 3.0], [0.5, 0.9, 0.1]) == pytest.approx(-2 / 3)


def test_normalized_gini_of_a_constant_prediction_is_zero_whatever_the_row_order():
    assert metrics.normalized_gini([0.0, 1.0, 3.0], [1.0, 1.0, 1.0]) == pytest.approx(0.0)
    assert metrics.normalized_gini([3.0, 1.0, 0.0], [1.0, 1.0, 1.0]) == pytest.approx(0.0)


def test_normalized_gini_is_nan_without_revenue():
    assert np.isnan(metrics.normalized_gini([0.0, 0.0], [1.0, 2.0]))


def test_expected_calibration_error_by_hand():
    # one row per bin: gaps .1 .3 .4 .1 -> mean .225
    assert metrics.expected_calibration_error([0, 0, 1, 1], [0.1, 0.3, 0.6, 0.9]) == pytest.approx(
        0.225
    )
    # both rows in bin [0.4, 0.5): |0.5 - 0.45| = 0.05
    assert metrics.expected_calibration_error([0, 1], [0.42, 0.48]) == pytest.approx(0.05)
    assert metrics.expected_calibration_error([1], [1.0]) == pytest.approx(0.0)


def test_calibration_bins_by_hand():
    # bins [0.1, 0.2), [0.4, 0.5) and the last one, which holds a probability of exactly 1
    table = metrics.calibration_bins([0, 1, 0, 1, 1], [0.1, 0.15, 0.42, 0.48, 1.0])
    assert table["lower"].tolist() == pytest.approx([0.1, 0.4, 0.9])
    assert table["n"].tolist() == [2, 2, 1]
    assert table["predicted"].tolist() == pytest.approx([0.125, 0.45, 1.0])
    assert table["observed"].tolist() == pytest.approx([0.5, 0.5, 1.0])


def test_calibration_bins_agree_with_sklearn_calibration_curve_off_the_bin_edges():
    from sklearn.calibration import calibration_curve

    rng = np.random.default_rng(4)
    proba = rng.beta(1, 4, 3000)
    y = (rng.random(3000) < proba).astype(float)
    observed, predicted = calibration_curve(y, proba, n_bins=10)
    table = metrics.calibration_bins(y, proba)
    np.testing.assert_allclose(table["observed"], observed, atol=1e-12)
    np.testing.assert_allclose(table["predicted"], predicted, atol=1e-12)


def test_calibration_bins_reject_arrays_of_different_lengths():
    with pytest.raises(ValueError, match="two 1-D arrays of equal length"):
        metrics.calibration_bins([0, 1], [0.5])


def test_lift_and_capture_in_the_top_decile_by_hand():
    y = np.zeros(20)
    y[[0, 5, 10, 15]] = 1  # overall rate 0.2
    score = np.arange(20, 0, -1, dtype=float)  # rows 0 and 1 are the top decile
    assert metrics.lift_top_decile(y, score) == pytest.approx(0.5 / 0.2)
    assert metrics.capture_top_decile(y, score) == pytest.approx(0.25)


def test_lift_averages_tied_scores():
    y = np.array([1.0, 0, 0, 0, 0, 0, 0, 0, 0, 1])
    assert metrics.lift_top_decile(y, np.ones(10)) == pytest.approx(1.0)


def test_gains_curve_runs_from_zero_to_one():
    y = np.array([1.0, 0, 1, 0])
    curve = metrics.gains_curve(y, [0.9, 0.1, 0.8, 0.2], points=4)
    assert list(curve.fraction_contacted) == [0, 0.25, 0.5, 0.75, 1.0]
    assert list(curve.fraction_captured) == [0, 0.5, 1.0, 1.0, 1.0]


def test_decile_mape_and_aggregate_error_by_hand():
    actual = np.full(20, 10.0)
    predicted = np.r_[np.full(10, 12.0), np.full(10, 9.0)]
    # deciles of two rows: five at |24-20|/20 = .2, five at |18-20|/20 = .1
    assert metrics.decile_mape(actual, predicted) == pytest.approx(0.15)
    assert metrics.aggregate_error(actual, predicted) == pytest.approx(0.05)


def test_decile_mape_skips_deciles_without_revenue():
    actual = np.r_[np.full(10, 10.0), np.zeros(10)]
    predicted = np.r_[np.full(10, 11.0), np.ones(10)]
    assert metrics.decile_mape(actual, predicted) == pytest.approx(0.1)


def test_churn_metrics_agree_with_sklearn_on_auc_and_leave_out_brier_for_a_raw_score():
    y = [0, 0, 1, 1]
    assert metrics.roc_auc(y, [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)
    found = metrics.churn_metrics(y, None, score=[5.0, 1.0, 3.0, 9.0])
    assert "brier" not in found and found["roc_auc"] == pytest.approx(0.75)
    assert metrics.brier(y, [0.0, 0.0, 1.0, 0.5]) == pytest.approx(0.0625)


def test_spearman_is_nan_for_a_constant_prediction():
    assert np.isnan(metrics.spearman([1.0, 2.0, 3.0], [1.0, 1.0, 1.0]))
    assert metrics.spearman([1.0, 2.0, 3.0], [1.0, 5.0, 9.0]) == pytest.approx(1.0)


def test_metrics_reject_arrays_of_different_lengths():
    with pytest.raises(ValueError, match="equal length"):
        metrics.roc_auc([0, 1], [0.5])
