import json

import pandas as pd
import pytest

from valuemodel.errors import InputError
from valuemodel.serving.outcomes import read_contacted, read_list
from valuemodel.serving.writers import write_table

LIST = pd.DataFrame(
    {
        "rank": [1, 2, 3, 4],
        "account_id": ["007", "A2", "A3", "A4"],
        "as_of": "2025-12-31",
        "churn_probability": [0.4, 0.3, 0.2, 0.1],
        "clv": [10.0, 20.0, 30.0, 40.0],
        "control": [False, True, False, True],
        "manager_id": ["M1", "M1", "M2", None],
    }
)
SUMMARY = {
    "as_of": "2025-12-31",
    "models": {"churn": {"horizon_days": 90}, "clv": {"horizon_days": 365}},
}


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_a_list_reads_back_in_every_format_with_its_control_column(tmp_path, suffix):
    path = tmp_path / f"list{suffix}"
    write_table(LIST, path, summary=[("as of", "2025-12-31")])
    (tmp_path / "list.summary.json").write_text(json.dumps(SUMMARY))
    past = read_list(path)
    assert past.frame["account_id"].tolist() == ["007", "A2", "A3", "A4"]
    assert past.frame["control"].tolist() == [False, True, False, True]
    assert str(past.as_of) == "2025-12-31" and past.summary == SUMMARY


def test_a_summary_for_another_date_is_rejected(tmp_path):
    write_table(LIST, tmp_path / "list.csv")
    (tmp_path / "list.summary.json").write_text(json.dumps(SUMMARY | {"as_of": "2025-11-30"}))
    with pytest.raises(InputError, match="the summary is for as-of '2025-11-30'"):
        read_list(tmp_path / "list.csv")


def test_contacted_ids_come_from_a_column_or_lines(tmp_path):
    (tmp_path / "c.txt").write_text("A1\n\nA2 \n")
    pd.DataFrame({"Account_ID ": ["A3"]}).to_csv(tmp_path / "c.csv", index=False)
    assert read_contacted(tmp_path / "c.txt") == {"A1", "A2"}
    assert read_contacted(tmp_path / "c.csv") == {"A3"}
    pd.DataFrame({"id": ["A3"]}).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(InputError, match="no account_id column"):
        read_contacted(tmp_path / "bad.csv")
