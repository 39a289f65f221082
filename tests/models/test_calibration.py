import json

import numpy as np
import pytest

from valuemodel.models.calibration import ProbabilityCalibrator


def _shifted(n=4000, seed=0):
    rng = np.random.default_rng(seed)
    margin = rng.normal(0, 1.5, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(0.6 * margin - 1.0)))).astype(float)
    return margin, y


def test_platt_recovers_a_known_shift_and_scale():
    margin, y = _shifted()
    cal = ProbabilityCalibrator("platt").fit(margin, y)
    assert cal.a_ == pytest.approx(0.6, abs=0.1)
    assert cal.b_ == pytest.approx(-1.0, abs=0.15)


def test_platt_keeps_the_order_of_scores():
    margin, y = _shifted()
    cal = ProbabilityCalibrator("platt").fit(margin, y)
    assert np.all(np.diff(cal.transform(np.sort(margin))) >= 0)


@pytest.mark.parametrize("method", ["platt", "isotonic"])
def test_calibration_survives_a_json_round_trip(method):
    margin, y = _shifted()
    raw = margin if method == "platt" else 1 / (1 + np.exp(-margin))
    cal = ProbabilityCalibrator(method).fit(raw, y)
    again = ProbabilityCalibrator.from_dict(json.loads(json.dumps(cal.to_dict())))
    np.testing.assert_allclose(again.transform(raw), cal.transform(raw))
    assert cal.to_dict()["method"] == method


def test_calibration_needs_both_classes():
    with pytest.raises(ValueError, match="both churners and non-churners"):
        ProbabilityCalibrator().fit([0.1, 0.2], [0, 0])


def test_unknown_calibration_data_is_rejected():
    with pytest.raises(ValueError, match="unknown calibration method"):
        ProbabilityCalibrator.from_dict({"method": "magic"})
    with pytest.raises(ValueError, match="increasing"):
        ProbabilityCalibrator.from_dict(
            {"method": "isotonic", "x_thresholds": [2, 1], "y_thresholds": [0, 1]}
        )


def test_platt_is_stable_on_a_nearly_constant_margin():
    rng = np.random.default_rng(3)
    margin = -3.0 + rng.choice([0.0, 1e-3, 2e-3], 2000)
    y = (rng.random(2000) < 0.04).astype(float)
    p = ProbabilityCalibrator("platt").fit(margin, y).transform(margin)
    assert abs(p.mean() - y.mean()) < 0.01 and p.max() < 0.2


def test_platt_solves_the_likelihood_equations_with_platts_smoothed_targets():
    # at the maximum the residuals against Platt's targets sum to zero, alone and times the margin
    margin, y = _shifted(n=500, seed=5)
    cal = ProbabilityCalibrator("platt").fit(margin, y)
    n_pos, n_neg = y.sum(), len(y) - y.sum()
    target = np.where(y > 0, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))
    residual = cal.transform(margin) - target
    assert abs(residual.sum()) < 1e-6 and abs((residual * margin).sum()) < 1e-6
    assert isinstance(cal.to_dict()["a"], float) and isinstance(cal.to_dict()["b"], float)
