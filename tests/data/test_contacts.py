"""The contacts table: validated, normalised and quarantined like every other table."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from typer.testing import CliRunner

from valuemodel.cli import app
from valuemodel.data import open_data, validate


@pytest.fixture
def data(tiny_brokerage, tmp_path):
    out = tmp_path / "data"
    shutil.copytree(tiny_brokerage, out)
    return out


def _write_contacts(data, rows):
    (data / "contacts.parquet").unlink(missing_ok=True)
    pd.DataFrame(rows).to_csv(data / "contacts.csv", index=False)


def _ids(data, n):
    return list(pd.read_parquet(data / "accounts.parquet").account_id[:n])


def test_generated_contacts_follow_the_contract(tiny_brokerage):
    contacts = pd.read_parquet(tiny_brokerage / "contacts.parquet")
    assert set(contacts.group) == {"treated", "control"}
    assert not contacts.duplicated(["account_id", "date"]).any()
    assert validate(open_data(tiny_brokerage)).ok


def test_chinese_group_labels_are_read_and_reported(data):
    a, b = _ids(data, 2)
    _write_contacts(
        data, {"account_id": [a, b], "date": ["2024-09-30"] * 2, "group": ["干预", "对照"]}
    )
    dataset = open_data(data)
    report = validate(dataset)
    assert report.ok, report.errors
    note = next(p for p in report.normalised if p.column == "group")
    assert (
        note.count == 2 and "'对照' -> control" in str(note) and "'干预' -> treated" in str(note)
    )
    from valuemodel import engine

    typed = engine.execute(dataset.table("contacts"))
    assert sorted(typed.group) == ["control", "treated"]


@pytest.mark.parametrize(
    ("rows", "column", "rule", "count"),
    [
        (
            {"account_id": ["A"], "date": ["2024-09-30"], "group": ["maybe"]},
            "group",
            "value not one of treated, control",
            1,
        ),
        (
            {"account_id": ["NOPE"], "date": ["2024-09-30"], "group": ["treated"]},
            "account_id",
            "account not in accounts",
            1,
        ),
        (
            {"account_id": ["A", "A"], "date": ["2024-09-30"] * 2, "group": ["treated"] * 2},
            "date",
            "duplicate account_id + date",
            2,
        ),
    ],
)
def test_bad_contacts_are_rejected_with_file_column_rule_and_count(
    data, rows, column, rule, count
):
    first = _ids(data, 1)[0]
    rows = {**rows, "account_id": [first if a == "A" else a for a in rows["account_id"]]}
    _write_contacts(data, rows)
    result = CliRunner().invoke(app, ["validate", "--data", str(data)])
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert f"contacts.csv, column '{column}': {rule}" in message
    assert f"({count} row" in message


def test_a_bad_group_row_can_be_quarantined(data, tmp_path):
    ids = _ids(data, 20)
    groups = ["treated"] * 19 + ["maybe"]
    _write_contacts(data, {"account_id": ids, "date": ["2024-09-30"] * 20, "group": groups})
    dataset = open_data(data)
    report = validate(dataset, quarantine=tmp_path / "q", max_bad_share=0.1)
    assert report.ok, report.errors
    moved = pd.read_parquet(tmp_path / "q" / "contacts.parquet")
    assert list(moved.group) == ["maybe"] and "group" in moved.rule.iloc[0]


def test_contacts_create_no_account_and_do_not_extend_the_data(data):
    before = open_data(data).end_date()
    first = _ids(data, 1)[0]
    _write_contacts(data, {"account_id": [first], "date": ["2099-01-01"], "group": ["control"]})
    assert open_data(data).end_date() == before
