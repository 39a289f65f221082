import math

import numpy as np
import pandas as pd
import pytest

from valuemodel.models.schema import FeatureSchema
from valuemodel.serving.drift import drift_report, drift_warnings, feature_psi, psi

from .fakes import make_features


def test_psi_by_hand():
    expected = [0.5, 0.5]
    actual = [0.25, 0.75]
    by_hand = (0.25 - 0.5) * math.log(0.25 / 0.5) + (0.75 - 0.5) * math.log(0.75 / 0.5)
    assert psi(expected, actual) == pytest.approx(by_hand)
    assert psi(expected, expected) == 0.0


def test_numeric_psi_uses_the_training_bins_and_a_missing_bin():
    # bins: x <= 1, 1 < x <= 2, x > 2; then missing
    profile = {
        "kind": "numeric",
        "edges": [1.0, 2.0],
        "shares": [0.25, 0.25, 0.5],
        "missing_share": 0.0,
    }
    same = pd.Series([0.5, 1.5, 3.0, 4.0])
    assert feature_psi(same, profile) == pytest.approx(0.0)
    shifted = pd.Series([np.nan, np.nan, 3.0, 4.0])
    e = np.array([0.25, 0.25, 0.5, 1e-4])
    a = np.array([1e-4, 1e-4, 0.5, 0.5])
    assert feature_psi(shifted, profile) == pytest.approx(float(np.sum((a - e) * np.log(a / e))))


def test_categorical_psi_counts_unseen_categories_apart():
    profile = {
        "kind": "categorical",
        "categories": ["C1", "C2"],
        "shares": [0.5, 0.5],
        "missing_share": 0.0,
    }
    assert feature_psi(pd.Series(["C1", "C2"]), profile) == pytest.approx(0.0)
    assert feature_psi(pd.Series(["C1", "C9"]), profile) > 0.25


def test_a_categorical_column_is_counted_as_its_text_would_be():
    profile = {
        "kind": "categorical",
        "categories": ["C1", "C2", "C3"],
        "shares": [0.2, 0.5, 0.3],
        "missing_share": 0.1,
    }
    # categories in another order, one unseen (C9), one never used (C3), missing values
    values = pd.Series(
        pd.Categorical(
            ["C2", "C9", None, "C1", "C2", "C9", None, "C2"], categories=["C9", "C3", "C2", "C1"]
        )
    )
    expected = psi([0.2, 0.5, 0.3, 0.1, 0.0], [1 / 8, 3 / 8, 0.0, 2 / 8, 2 / 8])
    assert feature_psi(values, profile) == pytest.approx(expected, rel=1e-12)
    assert feature_psi(values, profile) == feature_psi(values.astype(object), profile)


def test_drift_report_covers_every_model_feature_and_warns_on_important_shifts(models):
    same = make_features(2000, seed=0)
    report = drift_report(same, models.as_dict())
    assert len(report) == 2 * len(models.churn.feature_names)
    assert (report["psi"] < 0.1).all()
    assert drift_warnings(report) == []
    moved = same.assign(days_since_last_trade=same["days_since_last_trade"] + 300)
    warnings = drift_warnings(drift_report(moved, models.as_dict()))
    assert any("days_since_last_trade" in w for w in warnings)


class _Booster:
    def __init__(self, gain: dict[str, float]):
        self.gain = gain

    def feature_importance(self, importance_type: str):
        return np.array(list(self.gain.values()))

    def feature_name(self):
        return list(self.gain)


class _Model:
    """A loaded model's drift interface: features, gain, profile and its date."""

    def __init__(self, profile, gain, profile_date="2024-06-30"):
        self.feature_profile, self.feature_names = profile, list(profile)
        self.booster, self.profile_date = _Booster(gain), profile_date


def _flag_profile(share_one: float, movement) -> dict:
    return {
        "kind": "numeric",
        "edges": [0.5],
        "shares": [1 - share_one, share_one],
        "missing_share": 0.0,
        "median": 0.0,
        "movement": movement,
    }


def _flags(n_one: int, n: int = 100) -> pd.Series:
    return pd.Series([1.0] * n_one + [0.0] * (n - n_one))


def test_a_shift_within_the_features_normal_movement_does_not_warn():
    # 20 % -> 40 % ones: PSI 0.22, mean 0.2 bins; normally up to 0.3 and 0.25 in a month
    model = _Model({"flag": _flag_profile(0.2, [[1.0, 0.3, 0.25]])}, {"flag": 1.0})
    report = drift_report(pd.DataFrame({"flag": _flags(40)}), {"churn": model}, "2024-07-31")
    row = report.iloc[0]
    assert row["psi"] == pytest.approx(psi([0.8, 0.2, 0.0], [0.6, 0.4, 0.0]))
    assert row["months"] == 1 and row["limit"] == pytest.approx(0.6)
    assert not row["beyond_normal"] and drift_warnings(report) == []


def test_a_shift_beyond_normal_warns_only_for_a_feature_that_carries_the_model():
    profile = {
        "flag": _flag_profile(0.2, [[1.0, 0.01, 0.02]]),
        "minor": _flag_profile(0.2, [[1.0, 0.01, 0.02]]),
    }
    features = pd.DataFrame({"flag": _flags(40), "minor": _flags(40)})
    model = _Model(profile, {"flag": 0.99, "minor": 0.01})
    report = drift_report(features, {"churn": model}, "2024-07-31")
    assert report.set_index("feature")["beyond_normal"].all()
    assert report.set_index("feature")["warn"].to_dict() == {"flag": True, "minor": False}
    (line,) = drift_warnings(report)
    assert "'flag' moved beyond its normal range" in line and "99%" in line


def test_a_whole_distribution_moving_together_is_reported_as_the_market():
    rng = np.random.default_rng(1)
    before = pd.Series(rng.normal(0, 0.1, 2000))
    schema = FeatureSchema.from_frame(pd.DataFrame({"return_90d": before}))
    profile = {"return_90d": schema.profile["return_90d"] | {"movement": [[1.0, 0.02, 0.1]]}}
    model = _Model(profile, {"return_90d": 1.0})
    everyone = pd.DataFrame({"return_90d": before + 0.15})
    report = drift_report(everyone, {"churn": model}, "2024-07-31", market={"return_90d"})
    assert bool(report.loc[0, "market"]) and report.loc[0, "psi_after_shift"] < 0.05
    (line,) = drift_warnings(report)
    assert line.startswith("the market moved: 1 feature(s) follow the index (return_90d)")
    # a third of the accounts losing 0.45 is no market move, though the feature is declared
    third = before.where(np.arange(2000) % 3 != 0, before - 0.45)
    report = drift_report(
        pd.DataFrame({"return_90d": third}), {"churn": model}, "2024-07-31", market={"return_90d"}
    )
    assert bool(report.loc[0, "warn"]) and not bool(report.loc[0, "market"])
    assert "market" not in drift_warnings(report)[0]


def test_on_the_profiles_own_date_a_move_beyond_the_floors_is_a_change_of_the_data():
    # a month normally moves this flag by PSI 0.3 and 0.25 bins; 20 % -> 35 % ones moves it
    # by PSI 0.115 and 0.15 bins: within a month's movement, beyond the floors 0.05 and 0.1
    model = _Model({"flag": _flag_profile(0.2, [[1.0, 0.3, 0.25]])}, {"flag": 1.0})
    moved = pd.DataFrame({"flag": _flags(35)})
    two_days_on = drift_report(moved, {"churn": model}, "2024-07-02").iloc[0]
    assert two_days_on["months"] == 0 and two_days_on["days"] == 2
    assert two_days_on["limit"] == pytest.approx(0.6) and not two_days_on["beyond_normal"]
    report = drift_report(moved, {"churn": model}, "2024-06-30")
    row = report.iloc[0]
    by_hand = 0.15 * math.log(0.8 / 0.65) + 0.15 * math.log(0.35 / 0.2)
    assert row["psi"] == pytest.approx(by_hand) and row["bins_moved"] == pytest.approx(0.15)
    assert row["days"] == 0 and row["normal_psi"] == 0.0 and row["normal_bins"] == 0.0
    assert row["limit"] == 0.05 and row["beyond_normal"] and row["warn"]
    (line,) = drift_warnings(report)
    assert "on the training date itself" in line and "changed since training" in line
    # the same data on that date: PSI 0, nothing beyond
    same = drift_report(pd.DataFrame({"flag": _flags(20)}), {"churn": model}, "2024-06-30")
    assert same.loc[0, "psi"] == 0.0 and not same["beyond_normal"].any()


def test_on_the_profiles_own_date_nothing_is_the_market():
    rng = np.random.default_rng(1)
    before = pd.Series(rng.normal(0, 0.1, 2000))
    schema = FeatureSchema.from_frame(pd.DataFrame({"return_90d": before}))
    profile = {"return_90d": schema.profile["return_90d"] | {"movement": [[1.0, 0.02, 0.1]]}}
    model = _Model(profile, {"return_90d": 1.0})  # profiled on 2024-06-30
    everyone = pd.DataFrame({"return_90d": before + 0.15})
    report = drift_report(everyone, {"churn": model}, "2024-06-30", market={"return_90d"})
    assert bool(report.loc[0, "warn"]) and not bool(report.loc[0, "market"])
    assert math.isnan(report.loc[0, "psi_after_shift"])
    (line,) = drift_warnings(report)
    assert "market" not in line and "on the training date itself" in line


def test_a_bundle_without_normal_movement_keeps_the_old_rule():
    profile = {"flag": _flag_profile(0.2, [])}
    del profile["flag"]["movement"]
    model = _Model(profile, {"flag": 1.0}, profile_date=None)
    report = drift_report(pd.DataFrame({"flag": _flags(60)}), {"churn": model}, "2024-07-31")
    assert pd.isna(report.loc[0, "normal_psi"]) and report.loc[0, "limit"] == 0.25
    (line,) = drift_warnings(report)
    assert "drifted (PSI" in line and "until the model is retrained" in line


def test_printed_warnings_are_capped_and_the_rest_counted():
    names = [f"f{i}" for i in range(8)]
    profile = {n: _flag_profile(0.2, [[1.0, 0.01, 0.02]]) for n in names}
    model = _Model(profile, dict.fromkeys(names, 1.0))
    features = pd.DataFrame({n: _flags(60) for n in names})
    lines = drift_warnings(drift_report(features, {"churn": model}, "2024-06-30"))
    assert (
        len(lines) == 6 and lines[-1] == "3 more drifted feature(s) are listed in the drift file"
    )


def test_the_market_features_are_the_declared_returns_pnl_and_growth():
    from valuemodel.features import load_registry
    from valuemodel.serving.drift import market_features

    market = market_features(load_registry())
    assert {"return_90d", "pnl_365d", "asset_growth_30d", "profitable_month_share_12m"} <= market
    assert not {"total_assets", "trades_30d", "days_since_last_trade"} & market
    assert market_features(None) == set()


def test_minor_features_warn_only_when_the_moved_ones_together_carry_the_model():
    quiet = [f"f{i}" for i in range(98)]
    profile = {n: _flag_profile(0.2, [[1.0, 0.01, 0.02]]) for n in [*quiet, "a", "b"]}
    gain = {"a": 1.5, "b": 1.5} | dict.fromkeys(quiet, 97 / 98)  # a and b: 1.5 % each
    model = _Model(profile, gain)
    still = {n: _flags(20) for n in quiet}
    both = pd.DataFrame(still | {"a": _flags(40), "b": _flags(40)})
    report = drift_report(both, {"churn": model}, "2024-06-30").set_index("feature")
    assert report.loc[["a", "b"], "warn"].all()  # 3 % of the gain moved beyond normal
    alone = pd.DataFrame(still | {"a": _flags(40), "b": _flags(20)})
    report = drift_report(alone, {"churn": model}, "2024-06-30").set_index("feature")
    assert report.loc["a", "beyond_normal"] and not report["warn"].any()  # 1.5 % alone


def test_a_warning_leaves_out_the_bins_a_categorical_feature_has_not_and_shows_small_shares():
    from valuemodel.serving.drift import DRIFT_COLUMNS

    row = dict.fromkeys(DRIFT_COLUMNS, float("nan"))
    row |= {"model": "churn", "feature": "branch", "psi": 0.31, "normal_psi": 0.04,
            "months": 1, "days": 31, "limit": 0.08, "beyond_normal": True,
            "importance_share": 0.0067, "warn": True, "market": False}  # fmt: skip
    (line,) = drift_warnings(pd.DataFrame([row]))
    assert "nan" not in line and "bins" not in line
    assert "(PSI 0.31; between training snapshots 1 month apart at most 0.04)" in line
    assert "it carries 0.7% of the model" in line
