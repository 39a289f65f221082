"""The training figures draw the numbers of the metric catalogue (``models.metrics``)."""

import numpy as np
import pytest

from valuemodel.models import figures, metrics


def _churn(n=245, seed=2):
    rng = np.random.default_rng(seed)
    proba = rng.beta(1, 4, n)
    return (rng.random(n) < proba).astype(float), proba


def test_the_lift_bars_are_the_top_decile_lift_the_run_logs():
    # 245 rows: the top decile is 25 rows, so lift is not the captured share times 10
    y, proba = _churn()
    score = proba + np.random.default_rng(3).normal(0, 0.1, len(y))
    lift_ax = figures.gains_figure(y, {"model": proba, "other": score}).axes[1]
    heights = [bar.get_height() for bar in lift_ax.patches]
    assert heights == pytest.approx(
        [metrics.lift_top_decile(y, proba), metrics.lift_top_decile(y, score)]
    )


def test_the_reliability_curve_is_the_calibration_bins():
    y, proba = _churn()
    (_, model_line) = figures.calibration_figure(y, {"model": proba}).axes[0].get_lines()
    table = metrics.calibration_bins(y, proba)
    np.testing.assert_allclose(model_line.get_xdata(), table["predicted"])
    np.testing.assert_allclose(model_line.get_ydata(), table["observed"])
