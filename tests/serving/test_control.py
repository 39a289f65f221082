import numpy as np
import pandas as pd
import pytest

from valuemodel.errors import InputError
from valuemodel.serving.control import (
    AS_TREATED,
    adjust_verdicts,
    bootstrap_difference,
    check_share,
    compare_groups,
    control_counts,
    draw_control,
)


def population(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "account_id": [f"A{i:05d}" for i in range(n)],
            "service_segment": rng.choice(
                ["core", "dormant", "maintaining", "precipitating", None], n
            ),
        }
    )


def test_every_segment_gets_round_share_times_its_size():
    frame = population()
    control = draw_control(frame.account_id, frame.service_segment, "2025-12-31", 0.1)
    counts = control_counts(frame.assign(control=control))
    for segment, c in counts.items():
        assert c["control"] == int(np.floor(0.1 * c["accounts"] + 0.5)), segment
    assert "(null)" in counts


def test_the_draw_is_reproducible_and_does_not_depend_on_row_order():
    frame = population()
    first = draw_control(frame.account_id, frame.service_segment, "2025-12-31", 0.2, seed=5)
    shuffled = frame.sample(frac=1.0, random_state=1)
    again = draw_control(shuffled.account_id, shuffled.service_segment, "2025-12-31", 0.2, seed=5)
    assert again.reindex(first.index).equals(first)


def test_another_seed_or_date_draws_another_group():
    frame = population()
    base = draw_control(frame.account_id, frame.service_segment, "2025-12-31", 0.2, seed=5)
    seed = draw_control(frame.account_id, frame.service_segment, "2025-12-31", 0.2, seed=6)
    day = draw_control(frame.account_id, frame.service_segment, "2026-01-31", 0.2, seed=5)
    assert not base.equals(seed) and not base.equals(day)
    assert base.sum() == seed.sum() == day.sum()


def test_share_zero_holds_no_one_out():
    frame = population(50)
    assert not draw_control(frame.account_id, frame.service_segment, "2025-12-31", 0).any()


@pytest.mark.parametrize("share", [-0.1, 1.0, 1.5])
def test_a_share_outside_zero_to_one_is_rejected(share):
    with pytest.raises(InputError, match="--control-share must be at least 0 and below 1"):
        check_share(share)


def outcomes(n, control_share, churn_treated, churn_control, seed):
    rng = np.random.default_rng(seed)
    held = rng.random(n) < control_share
    rate = np.where(held, churn_control, churn_treated)
    return pd.DataFrame(
        {
            "treated": ~held,
            "churn": (rng.random(n) < rate).astype(float),
            "revenue": rng.gamma(2.0, 500.0, n),
        }
    )


def test_a_planted_effect_is_found_with_the_right_sign():
    result = compare_groups(outcomes(3000, 0.2, 0.15, 0.30, seed=1))
    churn = result["churn_rate"]
    assert churn["difference"] < 0
    assert churn["interval"][1] < 0
    assert result["verdict"].startswith(
        "accounts on the list to contact churned less than control"
    )


def test_without_an_effect_the_interval_includes_zero():
    result = compare_groups(outcomes(3000, 0.2, 0.2, 0.2, seed=2))
    low, high = result["churn_rate"]["interval"]
    assert low < 0 < high
    assert result["verdict"].startswith("no effect on churn can be told from chance")


def test_small_groups_are_called_too_small_and_get_no_interval():
    result = compare_groups(outcomes(100, 0.1, 0.1, 0.5, seed=3))
    assert not result["conclusive"]
    assert result["churn_rate"]["interval"] is None
    assert result["verdict"].startswith("too small to conclude")


def test_the_bootstrap_interval_is_reproducible_and_contains_the_difference():
    t, c = np.r_[np.zeros(80), np.ones(20)], np.r_[np.zeros(60), np.ones(40)]
    first = bootstrap_difference(t, c)
    assert first == bootstrap_difference(t, c)
    diff, low, high = first
    assert diff == pytest.approx(-0.2) and low < diff < high


def test_as_treated_the_verdict_speaks_of_contacted_accounts():
    result = compare_groups(outcomes(3000, 0.2, 0.15, 0.30, seed=1), treated=AS_TREATED)
    assert result["verdict"].startswith("contacted accounts churned less than control")
    assert result["p_value"] < 0.05


def test_too_small_counts_the_accounts_whose_outcome_is_known():
    frame = outcomes(200, 0.5, 0.2, 0.2, seed=4)
    frame.loc[frame.index[~frame.treated][20:], "churn"] = np.nan  # 20 control outcomes known
    result = compare_groups(frame)
    assert result["control"] > 30 and not result["conclusive"]
    assert result["churn_rate"]["with_outcome"][1] == 20
    assert "20 control accounts with a known outcome" in result["verdict"]


def test_the_segment_verdicts_are_corrected_for_the_number_of_segments():
    # ten segments without any effect and one with a borderline one: alone it would pass
    groups = {
        f"s{i}": compare_groups(outcomes(400, 0.5, 0.2, 0.2, seed=10 + i)) for i in range(10)
    }
    marginal = outcomes(400, 0.5, 0.2, 0.2, seed=99)
    rng = np.random.default_rng(0)
    treated_churn = marginal.index[marginal.treated & (marginal.churn == 1)]
    marginal.loc[rng.choice(treated_churn, 18, replace=False), "churn"] = 0.0
    groups["edge"] = compare_groups(marginal)
    p = groups["edge"]["p_value"]
    assert 0.01 < p < 0.05 and "churned less" in groups["edge"]["verdict"]
    ps = sorted(g["p_value"] for g in groups.values())
    adjusted = adjust_verdicts(groups)
    # Benjamini-Hochberg by hand: p_(i) * m / i, made monotone from the largest down
    by_hand = np.minimum.accumulate([ps[i] * 11 / (i + 1) for i in range(11)][::-1])[::-1]
    assert sorted(g["p_adjusted"] for g in adjusted.values()) == pytest.approx(by_hand)
    assert adjusted["edge"]["p_adjusted"] > 0.05
    assert adjusted["edge"]["verdict"].startswith("no effect on churn can be told from chance")
    assert "Benjamini-Hochberg correction for 11 groups" in adjusted["edge"]["verdict"]


def test_the_overall_difference_is_weighted_by_segment():
    # segment a: churn 0.5 in both groups, 10 % control; b: churn 0.1, 50 % control. No effect
    # anywhere, but pooled, the control group is mostly the low-churn segment b.
    rows = []
    for stratum, n, control_share, rate in (("a", 1000, 0.1, 0.5), ("b", 1000, 0.5, 0.1)):
        n_control = int(n * control_share)
        for group, size in (("control", n_control), ("treated", n - n_control)):
            churned = int(round(size * rate))
            rows.append(
                pd.DataFrame(
                    {
                        "treated": group == "treated",
                        "churn": [1.0] * churned + [0.0] * (size - churned),
                        "stratum": stratum,
                    }
                )
            )
    frame = pd.concat(rows, ignore_index=True)
    stratified = compare_groups(frame)["churn_rate"]
    pooled = compare_groups(frame.drop(columns="stratum"))["churn_rate"]
    assert stratified["difference"] == pytest.approx(0.0, abs=1e-12)
    assert pooled["difference"] == pytest.approx((450 + 50) / 1400 - (50 + 50) / 600)
    low, high = stratified["interval"]
    assert low < 0 < high
