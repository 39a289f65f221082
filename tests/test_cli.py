"""The console script end to end: exit codes, messages, and that bad input writes nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

TRADES = pd.DataFrame(
    {
        "account_id": ["A1", "A2"],
        "trade_date": ["2024-01-02", "2024-01-03"],
        "amount": [1000.0, 800.0],
        "commission": [5.0, 5.0],
    }
)


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "valuemodel.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
    )


def test_validate_accepts_a_good_directory_with_exit_0(tmp_path):
    TRADES.to_csv(tmp_path / "trades.csv", index=False)
    result = run("validate", "--data", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "follows the data contract" in result.stdout
    assert "trades.csv: 2 rows" in result.stdout


def test_validate_rejects_bad_input_with_exit_2_and_a_message_on_stderr(tmp_path):
    TRADES.assign(amount=[-1.0, 800.0]).to_csv(tmp_path / "trades.csv", index=False)
    result = run("validate", "--data", str(tmp_path))
    assert result.returncode == 2
    assert "trades.csv, column 'amount': breaks rule amount > 0 (1 row)" in result.stderr
    assert result.stdout == ""


def test_a_missing_data_directory_exits_2(tmp_path):
    result = run("validate", "--data", str(tmp_path / "nope"))
    assert result.returncode == 2
    assert "not a directory" in result.stderr


def test_generate_rejects_an_end_before_the_start_and_writes_nothing(tmp_path):
    out = tmp_path / "data"
    result = run(
        "generate",
        "--accounts",
        "5",
        "--out",
        str(out),
        "--start",
        "2025-01-01",
        "--end",
        "2024-01-01",
    )
    assert result.returncode == 2
    assert "--end 2024-01-01 must be after --start 2025-01-01" in result.stderr
    assert not out.exists()
