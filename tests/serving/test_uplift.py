"""The uplift columns of the list, the ranking by saved value and the contacts command."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from valuemodel.cli import app
from valuemodel.errors import InputError, ModelError
from valuemodel.serving.uplift import (
    DO_NOT_CONTACT_ACTION,
    add_uplift,
    bounded,
    contacts_from_lists,
    mark_do_not_contact,
    resolve_rank_by,
)


class _Effect:
    """An uplift model whose effect is the feature ``x`` itself."""

    metadata = {"default_rank_by": "saved_value", "why": "it kept more"}
    default_rank_by = "saved_value"

    def predict(self, frame):
        return frame["x"].to_numpy(dtype=float)


def _scored():
    return pd.DataFrame(
        {
            "account_id": ["a", "b", "c"],
            "x": [0.1, -0.05, 0.3],
            "churn_probability": [0.5, 0.9, 0.1],
            "clv": [100.0, 1000.0, 50.0],
            "value_at_risk": [50.0, 900.0, 5.0],
        }
    )


def test_saved_value_is_uplift_times_clv_and_ranks_when_asked():
    out = add_uplift(_scored(), _Effect(), "saved_value", None)
    # c's predicted 0.3 is bounded by its churn probability 0.1
    np.testing.assert_allclose(out.uplift, [0.1, -0.05, 0.1])
    np.testing.assert_allclose(out.saved_value, [10.0, -50.0, 5.0])
    assert list(out.sort_values("priority_score", ascending=False).account_id) == ["a", "c", "b"]


def test_uplift_is_bounded_by_the_churn_probability():
    np.testing.assert_allclose(
        bounded([0.5, -0.9, 0.02, -0.01], [0.2, 0.3, 0.5, 0.5]), [0.2, -0.7, 0.02, -0.01]
    )


def test_ranking_by_value_at_risk_keeps_the_priority_of_value_at_risk():
    out = add_uplift(_scored(), _Effect(), "value_at_risk", None)
    assert "priority_score" not in out.columns  # score_features' priority stays as it was
    assert list(out.uplift) == [0.1, -0.05, 0.1]


def test_a_clearly_negative_effect_is_marked_do_not_contact():
    written = pd.DataFrame(
        {"uplift": [0.1, -0.01, -0.05], "recommended_action": ["call", "call", "call"]}
    )
    out = mark_do_not_contact(written, "zh")
    assert list(out.recommended_action) == ["call", "call", DO_NOT_CONTACT_ACTION["zh"]]


def test_the_default_ranking_is_the_models_decision_and_saved_value_needs_a_model():
    assert resolve_rank_by(None, _Effect())[0] == "saved_value"
    assert resolve_rank_by("value_at_risk", _Effect())[0] == "value_at_risk"
    assert resolve_rank_by(None, None) == (
        "value_at_risk",
        "no uplift model is registered: ranked by value_at_risk",
    )
    with pytest.raises(ModelError, match="needs an uplift model"):
        resolve_rank_by("saved_value", None)


def _list(path, control=True):
    frame = pd.DataFrame(
        {
            "rank": [1, 2, 3],
            "account_id": ["A1", "A2", "A3"],
            "as_of": ["2025-03-31"] * 3,
            "recommended_action": ["Rate review", "Portfolio review", "Call"],
        }
    )
    if control:
        frame["control"] = ["false", "true", "false"]
    frame.to_csv(path, index=False)
    return path


def test_contacts_come_from_the_lists_control_column(tmp_path):
    table = contacts_from_lists([_list(tmp_path / "l.csv")])
    assert list(table.group) == ["treated", "control", "treated"]
    assert list(table.date.unique()) == ["2025-03-31"]
    assert table.action.tolist() == ["Rate review", None, "Call"]


def test_contacts_command_writes_the_table_and_rejects_a_list_without_control(tmp_path):
    runner = CliRunner()
    good, bad = _list(tmp_path / "a.csv"), _list(tmp_path / "b.csv", control=False)
    out = tmp_path / "contacts.parquet"
    result = runner.invoke(app, ["contacts", "--lists", str(good), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert len(pd.read_parquet(out)) == 3
    out2 = tmp_path / "c2.csv"
    cmd = ["contacts", "--lists", str(good), "--lists", str(bad), "--out", str(out2)]
    result = runner.invoke(app, cmd)
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert str(bad) in message and "'control' missing" in message
    assert not out2.exists()


def test_one_account_twice_on_one_date_is_rejected(tmp_path):
    one = _list(tmp_path / "a.csv")
    with pytest.raises(InputError, match="one account twice on one date"):
        contacts_from_lists([one, one])
