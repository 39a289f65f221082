"""evaluate's uplift section: realised uplift by decile, Qini, saved value in the top."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from valuemodel.serving.uplift_evaluation import uplift_lines, uplift_section


def _frame():
    # 20 accounts in pairs (treated, control); the list's uplift is right: in the first five
    # pairs the control account churns and the treated one stays, in the others both stay
    n = 20
    return pd.DataFrame(
        {
            "account_id": [f"A{i}" for i in range(n)],
            "uplift": np.repeat(np.linspace(0.5, 0.05, 10), 2),
            "control": np.tile([False, True], 10),
            "churn": [0.0, 1.0] * 5 + [0.0, 0.0] * 5,
            "clv": np.full(n, 100.0),
            "value_at_risk": np.repeat(np.linspace(1.0, 10.0, 10), 2),  # ranks the other way
            "value": np.full(n, 80.0),
        }
    )


def test_realised_uplift_by_decile_and_qini_of_a_list_that_found_the_persuadable():
    section = uplift_section(_frame(), value_complete=True)
    assert section["present"] and (section["treated"], section["control"]) == (10, 10)
    top = section["deciles"][0]
    assert (top["n_treated"], top["n_control"], top["uplift"]) == (1, 1, 1.0)
    assert section["deciles"][-1]["uplift"] == 0.0
    assert section["qini"] > 0 > section["qini_value_at_risk"]
    saved = section["saved_top"]
    # top 10 % = 2 accounts by saved value: one treated stayed, one control churned (value 80)
    assert saved["saved_value"] == pytest.approx(80.0 / 10)
    assert saved["value_at_risk"] == pytest.approx(0.0)
    assert saved["weighed_by"] == "realised value"
    assert section["curve"][-1]["share"] == 1.0
    assert "Qini" in uplift_lines(section)[0]


def test_without_a_control_group_the_section_says_why():
    frame = _frame().assign(control=False)
    section = uplift_section(frame, value_complete=False)
    assert section == {
        "present": False,
        "note": "the list has no control group: realised uplift cannot be measured "
        "(score it with --control-share S)",
    }
    assert uplift_section(frame.drop(columns="uplift"), False)["present"] is False
