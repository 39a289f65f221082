"""The uplift part of train: when there is enough, what it measures, what it decides."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from valuemodel.training.uplift import (
    UpliftResult,
    campaign_qini,
    not_enough,
    rank_by_decision,
    summary_lines,
    validate_ranking,
    validation_split,
)


def _rows(dates, control_per_campaign):
    parts = []
    for d in dates:
        n = control_per_campaign
        parts.append(
            pd.DataFrame(
                {
                    "account_id": [f"A{i}" for i in range(3 * n)],
                    "as_of": pd.Timestamp(d),
                    "treatment": [1] * (2 * n) + [0] * n,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def test_one_campaign_is_not_enough_and_the_note_says_how_many_are_needed():
    rows = _rows(["2025-01-03"], 500)
    note = not_enough(rows, [date(2025, 1, 3)], 90)
    assert "1 campaign(s) with a complete 90-day horizon and 500 control rows" in note
    assert "at least 2 complete campaigns" in note and "200 control rows" in note


def test_too_few_control_rows_is_not_enough():
    dates = ["2025-01-03", "2025-04-04"]
    note = not_enough(_rows(dates, 50), [pd.Timestamp(d).date() for d in dates], 90)
    assert "100 control rows" in note


def test_enough_campaigns_and_control_rows():
    dates = ["2025-01-03", "2025-04-04"]
    assert not_enough(_rows(dates, 100), [pd.Timestamp(d).date() for d in dates], 90) is None


def test_incomplete_campaigns_do_not_count():
    rows = _rows(["2025-01-03", "2025-12-31"], 300)
    assert "1 campaign(s)" in not_enough(rows, [date(2025, 1, 3)], 90)


def _campaign(copies: int = 1):
    # four pairs (treated, control): contact saves the first two pairs' accounts
    # (control churns, treated stays), the last two churn either way; ``copies`` of them
    valid = pd.DataFrame({"treatment": [1, 0] * 4, "churn": [0, 1, 0, 1, 1, 1, 1, 1]})
    uplift = np.array([0.5, 0.5, 0.4, 0.4, 0.0, 0.0, -0.1, -0.1])
    churn = np.array([0.1, 0.1, 0.1, 0.1, 0.9, 0.9, 0.9, 0.9])  # risk ranks the lost cause first
    clv = np.full(8, 100.0)
    return (
        pd.concat([valid] * copies, ignore_index=True),
        np.tile(uplift, copies),
        np.tile(churn, copies),
        np.tile(clv, copies),
    )


def test_validation_prefers_the_ranking_that_finds_the_persuadable():
    metrics = validate_ranking(*_campaign())
    assert metrics["average_effect"] == pytest.approx(0.5)
    # bounded by p, the ranking is (.1, .1, .1, .1, 0, 0, -.1, -.1): Qini curve
    # (0, .25, .5, .5, .5, .5, .5, .5) against the diagonal k / 8 * .5: mean .125
    assert metrics["qini"] == pytest.approx(0.125)
    assert metrics["value_qini_saved_value"] == pytest.approx(12.5)  # x clv 100
    assert metrics["qini"] > 0 > metrics["qini_value_at_risk"]
    assert metrics["saved_top_saved_value"] > metrics["saved_top_value_at_risk"]


def test_saved_value_becomes_the_default_when_the_interval_supports_it():
    metrics = validate_ranking(*_campaign(copies=40))
    assert metrics["value_qini_difference_low"] > 0
    rank_by, why = rank_by_decision(metrics, campaigns=2)
    assert rank_by == "saved_value"
    assert why.startswith("on the latest 2 complete campaigns")
    assert "90% paired bootstrap interval" in why


def test_one_small_campaign_does_not_support_saved_value_though_it_wins():
    # eight accounts: saved_value's Qini is above value at risk's, but a bootstrap of
    # eight accounts cannot show it
    metrics = validate_ranking(*_campaign())
    assert metrics["value_qini_difference"] > 0 >= metrics["value_qini_difference_low"]
    rank_by, why = rank_by_decision(metrics)
    assert rank_by == "value_at_risk"
    assert "the interval does not show that saved_value keeps more" in why


def test_value_at_risk_stays_the_default_when_saved_value_does_not_win():
    valid, uplift, churn, clv = _campaign(copies=40)
    metrics = validate_ranking(valid, -uplift, churn, clv)
    rank_by, why = rank_by_decision(metrics)
    assert rank_by == "value_at_risk"
    assert "value_at_risk stays the default" in why


def test_the_decision_rule_needs_the_lower_end_above_zero():
    metrics = {
        "value_qini_saved_value": 5.0,
        "value_qini_value_at_risk": 2.0,
        "value_qini_difference_low": -0.1,
        "value_qini_difference_high": 6.0,
    }
    assert rank_by_decision(metrics)[0] == "value_at_risk"
    assert rank_by_decision(metrics | {"value_qini_difference_low": 0.1})[0] == "saved_value"
    # above value at risk, but saving nothing: value at risk stays
    negative = {"value_qini_saved_value": -1.0, "value_qini_value_at_risk": -5.0}
    assert rank_by_decision(metrics | negative | {"value_qini_difference_low": 1})[0] == (
        "value_at_risk"
    )


def test_each_validation_campaign_is_judged_on_its_own_and_weighted_by_its_rows():
    first = _campaign()
    # second campaign, four accounts: treated stays / control churns, then both churn;
    # curve (0, .5, .5, .5), diagonal (.125, .25, .375, .5) -> Qini .0625
    second = (
        pd.DataFrame({"treatment": [1, 0, 1, 0], "churn": [0, 1, 1, 1]}),
        np.array([0.3, 0.3, 0.1, 0.1]),
        np.full(4, 0.5),
        np.full(4, 100.0),
    )
    valid = pd.concat([first[0], second[0]], ignore_index=True)
    valid["as_of"] = pd.to_datetime(["2025-01-03"] * 8 + ["2025-04-04"] * 4)
    joined = [np.concatenate([a, b]) for a, b in zip(first[1:], second[1:], strict=True)]
    metrics = validate_ranking(valid, *joined)
    assert metrics["qini"] == pytest.approx((8 * 0.125 + 4 * 0.0625) / 12)
    assert metrics["average_effect"] == pytest.approx(0.5)
    # a champion is judged the same way on the same rows
    assert campaign_qini(valid, joined[0], joined[1]) == pytest.approx(metrics["qini"])


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (1, [1]),
        (2, [2]),
        (3, [3]),
        (4, [3, 4]),
        (8, [7, 8]),
        (9, [7, 8, 9]),
        (13, [10, 11, 12, 13]),
    ],
)
def test_the_latest_quarter_of_the_campaigns_validates_at_least_two_from_four(n, expected):
    dates = [date(2024, 1, 1) + pd.Timedelta(days=91 * i) for i in range(n)]
    # given in any order, returned oldest first
    assert validation_split(dates[::-1]) == [dates[i - 1] for i in expected]


def test_the_summary_says_why_there_is_no_uplift_model():
    assert summary_lines(UpliftResult(False, "uplift: no contacts table")) == [
        "",
        "uplift: no contacts table",
    ]
    assert summary_lines(None) == []


class _Registry:
    """A tracker with an uplift champion that predicts ``effect``."""

    def __init__(self, effect):
        self.effect = effect

    def alias_version(self, kind, alias):
        return type("Version", (), {"version": "4"})()

    def load(self, kind, alias):
        return type("Champion", (), {"predict": lambda _, X: self.effect})()


def test_a_challenger_is_judged_against_the_champion_bounded_on_the_same_campaigns():
    from valuemodel.training.uplift import _champion, _Fitted

    valid, uplift, churn, clv = _campaign(copies=5)
    valid["as_of"] = pd.to_datetime(["2025-01-03"] * 20 + ["2025-04-04"] * 20)
    metrics = validate_ranking(valid, uplift, churn, clv)
    fitted = _Fitted(None, None, metrics, None, "", "", [], valid, valid, [], churn)
    # a champion that ranks the lost causes first judges worse on the same rows: promoted
    worse = _champion(_Registry(-uplift), valid, fitted, force=False)
    assert worse.promoted and worse.champion_score < metrics["qini"]
    # a champion with the same ranking before the bound (0.5 and 0.4 both become 0.1
    # for p = 0.1) scores the same once bounded: the challenger is at least as good
    same = _champion(_Registry(uplift * 3), valid, fitted, force=False)
    assert same.champion_score == pytest.approx(metrics["qini"]) and same.promoted


def test_the_campaign_frame_from_the_snapshot_pass_is_the_one_built_alone(
    brokerage_dir, fast_config
):
    """``train`` builds the campaign dates' features in its snapshot pass (with other dates,
    for the whole population) and keeps the listed accounts: the same frame, category lists
    included, as building them at the campaign dates alone."""
    from valuemodel.data.reader import open_data
    from valuemodel.training import frames
    from valuemodel.training.uplift import campaign_frame, campaigns, listed_features

    end = date(2025, 12, 31)
    known = open_data(brokerage_dir).until(end)
    rows, complete = campaigns(known, fast_config.churn_horizon, end)
    others = [date(2024, 6, 28), date(2025, 3, 31), *complete[1:2], end]
    built = frames.features_at(known, [*others, *complete])
    listed = listed_features(rows, built, complete)
    assert listed["account_id"].nunique() < built["account_id"].nunique()
    alone = campaign_frame(known, rows, complete, fast_config, end, None)
    shared = campaign_frame(known, rows, complete, fast_config, end, None, listed)
    pd.testing.assert_frame_equal(shared, alone)
