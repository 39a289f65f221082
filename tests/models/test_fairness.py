import math

import numpy as np
import pandas as pd
import pytest

from valuemodel.models import fairness


def test_age_bands_follow_the_stated_edges():
    bands = fairness.age_band([18, 29, 30, 44, 45, 59, 60, 90, None])
    assert bands.tolist() == [
        "under 30",
        "under 30",
        "30-44",
        "30-44",
        "45-59",
        "45-59",
        "60+",
        "60+",
        "unknown",
    ]


def test_age_is_taken_from_birth_year_at_the_as_of_date():
    frame = pd.DataFrame(
        {
            "birth_year": [1996, 1995, np.nan],
            "as_of": pd.to_datetime(["2025-12-31", "2025-01-01", "2025-06-30"]),
            "gender": ["F", None, "M"],
        }
    )
    groups = fairness.protected_groups(frame)
    assert groups["age_band"].tolist() == ["under 30", "30-44", "unknown"]
    assert groups["gender"].tolist() == ["F", "unknown", "M"]


def _tiny() -> pd.DataFrame:
    """Eight hand-made accounts: four young men, four older women."""
    return pd.DataFrame(
        {
            "age": [25, 25, 25, 25, 65, 65, 65, 65],
            "gender": ["M"] * 4 + ["F"] * 4,
            "churn_probability": [0.9, 0.1, 0.6, 0.2, 0.3, 0.35, 0.1, 0.4],
            "churned": [1, 0, 1, 0, 1, 0, 0, 1],
            "value": [100.0, 10.0, 10.0, 10.0, 50.0, 10.0, 10.0, 10.0],
        }
    )


def test_the_table_holds_hand_computed_numbers():
    table = fairness.group_table(_tiny(), top_k=2, min_group_size=1, bins=10)
    assert table["dimension"].tolist() == ["age_band", "age_band", "gender", "gender"]
    assert table["group"].tolist() == ["under 30", "60+", "F", "M"]
    young = table.iloc[0].to_dict()
    # value at risk: 90, 1, 6, 2 | 15, 3.5, 1, 4 -> top 2 = rows 0 (90) and 4 (15)
    assert young["n"] == 4 and young["population_share"] == 0.5
    assert young["mean_predicted"] == pytest.approx(0.45)
    assert young["observed_rate"] == 0.5
    assert young["calibration_gap"] == pytest.approx(-0.05)
    # bins: 0.1 -> 1, 0.2 -> 2, 0.6 -> 6, 0.9 -> 9: each alone, |y - p| summed / 4
    assert young["ece"] == pytest.approx((0.1 + 0.1 + 0.2 + 0.4) / 4)
    assert young["roc_auc"] == 1.0
    assert young["churner_share"] == 0.5
    assert young["top_share"] == 0.5
    assert young["top_churner_share"] == 0.5
    assert young["top_lost_value_share"] == pytest.approx(100 / 150)
    assert young["churner_capture"] == 0.5
    assert young["lost_value_capture"] == pytest.approx(100 / 110)
    old = table.iloc[1].to_dict()
    assert old["roc_auc"] == pytest.approx(0.75)
    assert old["lost_value_capture"] == pytest.approx(50 / 60)


def test_small_groups_are_named_and_not_scored():
    frame = _tiny().assign(gender=["M"] * 7 + [None])
    table = fairness.group_table(frame, top_k=2, min_group_size=2)
    unknown = table.iloc[-1]
    assert (unknown["dimension"], unknown["group"], unknown["n"]) == ("gender", "unknown", 1)
    assert not unknown["scored"] and math.isnan(unknown["ece"])
    assert fairness.unscored_groups(table) == ["gender unknown (1 rows)"]


@pytest.fixture(scope="module")
def planted():
    """2,000 rows: probabilities calibrated for everyone except women aged 60+, whose true
    churn rate is three times the predicted one."""
    rng = np.random.default_rng(3)
    n = 2000
    age = rng.choice([22, 35, 50, 70], n)
    gender = rng.choice(["M", "F"], n)
    p = rng.uniform(0.02, 0.3, n)
    truth = np.where((age >= 60) & (gender == "F"), np.minimum(3 * p, 1), p)
    churned = (rng.random(n) < truth).astype(int)
    frame = pd.DataFrame(
        {"age": age, "gender": gender, "churn_probability": p, "churned": churned}
    )
    return frame.assign(value=rng.lognormal(8, 1, n))


def test_a_planted_miscalibration_is_found_and_warned(planted):
    table = fairness.group_table(planted, min_group_size=100)
    warnings = fairness.calibration_warnings(table, max_gap=0.05)
    # the planted group lies in both dimensions: older people, and women as a whole
    warned = [w.split(":")[0] for w in warnings]
    assert warned == [
        "churn model underestimates churn for age_band 60+",
        "churn model underestimates churn for gender F",
    ]
    gaps = table.set_index("group")["calibration_gap"]
    assert gaps["60+"] < -0.1 and gaps[["under 30", "30-44", "45-59", "M"]].abs().max() < 0.05


def test_a_calibrated_model_gives_no_warning(planted):
    rng = np.random.default_rng(4)
    fair = planted.assign(churned=(rng.random(len(planted)) < planted["churn_probability"]))
    table = fairness.group_table(fair.astype({"churned": int}), min_group_size=100)
    assert table["scored"].all()
    assert fairness.calibration_warnings(table, max_gap=0.05) == []


def test_the_table_names_what_it_lacks():
    with pytest.raises(ValueError, match="needs the column.s. churned"):
        fairness.group_table(pd.DataFrame({"churn_probability": [0.1], "age": [30]}))
    with pytest.raises(ValueError, match="needs age"):
        fairness.group_table(pd.DataFrame({"churn_probability": [0.1], "churned": [0]}))
