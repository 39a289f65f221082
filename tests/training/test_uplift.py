"""The uplift part of train: when there is enough, what it measures, what it decides."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from valuemodel.training.uplift import (
    UpliftResult,
    not_enough,
    rank_by_decision,
    summary_lines,
    validate_ranking,
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


def _campaign():
    # four pairs (treated, control): contact saves the first two pairs' accounts
    # (control churns, treated stays), the last two churn either way
    valid = pd.DataFrame({"treatment": [1, 0] * 4, "churn": [0, 1, 0, 1, 1, 1, 1, 1]})
    uplift = np.array([0.5, 0.5, 0.4, 0.4, 0.0, 0.0, -0.1, -0.1])
    churn = np.array([0.1, 0.1, 0.1, 0.1, 0.9, 0.9, 0.9, 0.9])  # risk ranks the lost cause first
    clv = np.full(8, 100.0)
    return valid, uplift, churn, clv


def test_validation_prefers_the_ranking_that_finds_the_persuadable():
    metrics = validate_ranking(*_campaign())
    assert metrics["average_effect"] == pytest.approx(0.5)
    assert metrics["qini"] > 0 > metrics["qini_value_at_risk"]
    assert metrics["saved_top_saved_value"] > metrics["saved_top_value_at_risk"]
    assert rank_by_decision(metrics)[0] == "saved_value"


def test_value_at_risk_stays_the_default_when_saved_value_does_not_win():
    valid, uplift, churn, clv = _campaign()
    metrics = validate_ranking(valid, -uplift, churn, clv)
    rank_by, why = rank_by_decision(metrics)
    assert rank_by == "value_at_risk"
    assert "value_at_risk stays the default" in why


def test_the_summary_says_why_there_is_no_uplift_model():
    assert summary_lines(UpliftResult(False, "uplift: no contacts table")) == [
        "",
        "uplift: no contacts table",
    ]
    assert summary_lines(None) == []
