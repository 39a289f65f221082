"""Records of checked input: a repeated run on unchanged files skips the checks, and only then.

Each test has its own record folder (``VALUEMODEL_CACHE``, set in ``tests/conftest.py``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from tests.test_cli import run
from valuemodel.data import open_data, record, validate
from valuemodel.data.generate import generate_brokerage, write_brokerage

AS_OF = "2024-12-31"
SKIPPED = "not checked again"


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """80 accounts over 2024, with every balance row of two accounts written twice (an
    exact repeat, which reading must drop: what validation decides has to come back from a
    record too)."""
    tables = generate_brokerage(80, start="2024-01-01", end="2024-12-31", seed=41)
    balances = tables["balances"]
    twice = balances[balances.account_id.isin(balances.account_id.unique()[:2])]
    tables["balances"] = pd.concat([balances, twice], ignore_index=True)
    out = tmp_path_factory.mktemp("record") / "data"
    write_brokerage(tables, out)
    return out


@pytest.fixture
def data(source, tmp_path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(source, copy)
    return copy


def features(data: Path, out: Path, *options: str) -> subprocess.CompletedProcess:
    done = run("features", "--data", str(data), "--as-of", AS_OF, "--out", str(out), *options)
    assert done.returncode == 0, done.stderr
    return done


def records() -> list[Path]:
    return sorted((Path(os.environ["VALUEMODEL_CACHE"]) / "checked").glob("*.json"))


def test_a_repeat_on_unchanged_files_skips_the_checks_and_gives_the_same_features(data, tmp_path):
    first = features(data, tmp_path / "first.parquet")
    assert SKIPPED not in first.stderr
    assert len(records()) == 1
    second = features(data, tmp_path / "second.parquet")
    assert SKIPPED in second.stderr
    # what the checks reported is said again, from the record
    normalised = [line for line in first.stderr.splitlines() if line.startswith("normalised:")]
    assert normalised and "repeated" in " ".join(normalised)
    for line in normalised:
        assert line in second.stderr
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "first.parquet"),
        pd.read_parquet(tmp_path / "second.parquet"),
        rtol=1e-12,  # DuckDB's threads may add float sums in another order
    )


def test_a_changed_file_is_checked_again_and_its_new_fault_rejected(data, tmp_path):
    features(data, tmp_path / "first.parquet")
    trades = pd.read_parquet(data / "trades.parquet")
    trades.loc[0, "amount"] = -1.0  # a rule the contract has: amounts are not negative
    trades.to_parquet(data / "trades.parquet", index=False)
    again = run(
        "features", "--data", str(data), "--as-of", AS_OF, "--out", str(tmp_path / "x.parquet")
    )
    assert again.returncode == 2
    assert SKIPPED not in again.stderr
    assert "trades.parquet" in again.stderr and "amount" in again.stderr


def test_validate_always_checks_and_recheck_forces_the_checks(data, tmp_path):
    features(data, tmp_path / "first.parquet")
    checked = run("validate", "--data", str(data))
    assert checked.returncode == 0 and SKIPPED not in checked.stderr
    forced = features(data, tmp_path / "forced.parquet", "--recheck")
    assert SKIPPED not in forced.stderr
    reused = features(data, tmp_path / "reused.parquet")
    assert SKIPPED in reused.stderr


def test_rejected_input_leaves_no_record(tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    pd.DataFrame(
        {"account_id": ["A1"], "trade_date": ["2024-01-02"], "amount": [-5.0], "commission": [1.0]}
    ).to_parquet(bad / "trades.parquet", index=False)
    done = run("validate", "--data", str(bad))
    assert done.returncode == 2
    assert records() == []


def test_another_reading_of_the_same_files_has_another_key(data):
    dataset = open_data(data)
    key = record.input_key(dataset, 0.001)
    assert key == record.input_key(open_data(data), 0.001)
    assert record.input_key(dataset, 0.01) != key
    from valuemodel.data.settings import ReadSettings

    elsewhere = open_data(data, settings=ReadSettings.load("Europe/London", None, None))
    assert record.input_key(elsewhere, 0.001) != key
    (data / "notes.txt").write_text("a file added to the directory")
    assert record.input_key(open_data(data), 0.001) != key


def test_a_damaged_record_is_ignored_and_a_record_restores_what_validation_decided(data):
    dataset = open_data(data)
    key = record.input_key(dataset, 0.001)
    report = validate(dataset)
    record.save(dataset, key, report)
    assert dataset.state.collapse["balances"] is True

    fresh = open_data(data)
    found = record.load(fresh, key)
    assert found is not None
    assert fresh.state.collapse == dataset.state.collapse
    assert [str(p) for p in found.report.normalised] == [str(p) for p in report.normalised]
    assert found.report.rows == report.rows
    assert fresh.summary()["checks_reused_from"] == found.checked_at

    (path,) = records()
    path.write_text(json.dumps({"format": 1, "warnings": "not a list"}))
    assert record.load(open_data(data), key) is None


def test_an_empty_optional_table_stays_absent_when_the_checks_are_skipped(data, tmp_path):
    # validation reads an empty optional table as absent; a repeat that skips the checks must
    # too (it once read the empty balances as present, and training failed on them)
    balances = pd.read_parquet(data / "balances.parquet")
    balances.iloc[:0].to_parquet(data / "balances.parquet", index=False)
    first = features(data, tmp_path / "first.parquet")
    assert "balances.parquet: table is empty (no rows): treated as absent" in first.stderr
    second = features(data, tmp_path / "second.parquet")
    assert SKIPPED in second.stderr
    assert "treated as absent" in second.stderr
    built = pd.read_parquet(tmp_path / "first.parquet")
    assert "total_assets" not in built.columns  # no balances: no asset features
    pd.testing.assert_frame_equal(built, pd.read_parquet(tmp_path / "second.parquet"), rtol=1e-12)
