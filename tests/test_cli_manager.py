"""The command line as a person meets it: early and helpful rejections, where files went, help.

Each test names the item of issue 29 it covers.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from valuemodel.data.generate import generate_brokerage, write_brokerage

REPO = Path(__file__).resolve().parents[1]
AS_OF = "2025-12-31"


def run(*args: str, cwd: Path | None = None, env: dict | None = None):
    environment = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    return subprocess.run(
        [sys.executable, "-m", "valuemodel.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment | (env or {}),
        timeout=900,
    )


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("manager") / "data"
    write_brokerage(generate_brokerage(300, "2024-01-01", AS_OF, seed=21), folder)
    return folder


@pytest.fixture(scope="module")
def trained(data):
    """One training through the CLI (one trial): the store, and what train printed."""
    root = data.parent
    uri = f"sqlite:///{root / 'mlflow.db'}"
    result = run("train", "--data", str(data), "--as-of", AS_OF, "--trials", "1",
                 "--tracking-uri", uri)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return root, uri, result


def _score(data: Path, out: Path, uri: str, *extra: str, as_of: str = AS_OF):
    return run("score", "--data", str(data), "--as-of", as_of, "--out", str(out),
               "--tracking-uri", uri, *extra)  # fmt: skip


# --- 6: an as-of date outside the data ---------------------------------------------------------


@pytest.mark.parametrize("as_of", ["2027-06-30", "2023-06-30"])
def test_features_rejects_an_as_of_date_outside_the_data_with_its_range(data, tmp_path, as_of):
    out = tmp_path / "f.csv"
    result = run("features", "--data", str(data), "--as-of", as_of, "--out", str(out))
    assert result.returncode == 2
    assert "runs from 2024-01-01" in result.stderr and "to 2025-12-31" in result.stderr
    assert "Use an as-of date from 2024-01-01 to 2025-12-31" in result.stderr
    assert not out.exists()


@pytest.mark.slow  # imports MLflow (and training) in a subprocess
def test_train_rejects_an_as_of_date_after_the_data(data, tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    result = run("train", "--data", str(data), "--as-of", "2026-03-31", "--tracking-uri", uri)
    assert result.returncode == 2
    assert "after the last date in the data" in result.stderr and "--as-of 2025-12-31" in (
        result.stderr
    )
    assert not (tmp_path / "mlflow.db").exists()


def test_score_rejects_an_as_of_date_after_the_data(data, trained, tmp_path):
    _, uri, _ = trained
    out = tmp_path / "list.csv"
    result = _score(data, out, uri, as_of="2027-06-30")
    assert result.returncode == 2
    assert "after the last date in the data" in result.stderr
    assert not out.exists()


# --- 7: compare after a retrain that made one challenger; aliases that exist -------------------


def test_compare_uses_the_champion_for_a_model_without_a_challenger(data, trained, tmp_path):
    from mlflow import MlflowClient

    _, uri, _ = trained
    client = MlflowClient(uri, uri)
    version = client.get_model_version_by_alias("valuemodel-churn", "champion").version
    client.set_registered_model_alias("valuemodel-churn", "challenger", version)
    try:
        out = tmp_path / "list.csv"
        result = _score(data, out, uri, "--compare", "challenger", "--top", "20")
    finally:
        client.delete_registered_model_alias("valuemodel-churn", "challenger")
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "list.summary.json").read_text())["compare"]
    assert summary["models"]["clv"]["alias"] == "champion"
    assert summary["models"]["churn"]["alias"] == "challenger"
    assert summary["stand_in"] == ["clv"]
    # 12: the compare files are named
    assert str(tmp_path / "list.compare.csv") in result.stdout
    assert str(tmp_path / "list.compare.json") in result.stdout
    assert "the clv model has no 'challenger'" in result.stdout


def test_a_mistyped_alias_lists_the_aliases_that_exist(data, trained, tmp_path):
    _, uri, _ = trained
    result = _score(data, tmp_path / "l.csv", uri, "--model-alias", "champoin")
    assert result.returncode == 2
    assert "'champoin'" in result.stderr and "its aliases: champion (version 1)" in result.stderr
    assert "train one first" not in result.stderr
    compare = _score(data, tmp_path / "l.csv", uri, "--compare", "challengr")
    assert compare.returncode == 2 and "neither model has that alias" in compare.stderr


# --- 8: no model: nothing written, and where to look ------------------------------------------


@pytest.mark.slow  # imports MLflow (and training) in a subprocess
def test_scoring_without_a_store_writes_no_mlflow_db_and_names_tracking_uri(data, tmp_path):
    result = run("score", "--data", str(data), "--as-of", AS_OF, "--out", "l.csv", cwd=tmp_path)
    assert result.returncode == 2
    assert "--tracking-uri" in result.stderr and "no tracking store" in result.stderr
    assert list(tmp_path.iterdir()) == []


# --- 9: each list keeps its own summary ---------------------------------------------------------


def test_a_list_of_another_format_does_not_replace_the_first_lists_summary(
    data, trained, tmp_path
):
    _, uri, _ = trained
    first = _score(data, tmp_path / "x.csv", uri, "--top", "10")
    assert first.returncode == 0, first.stderr
    summary = (tmp_path / "x.summary.json").read_bytes()
    second = _score(data, tmp_path / "x.parquet", uri, "--top", "10")
    assert second.returncode == 2
    assert "x.summary.json is the summary of the list" in second.stderr
    assert (tmp_path / "x.summary.json").read_bytes() == summary
    assert not (tmp_path / "x.parquet").exists()


# --- 10: argument and model checks before the data's ------------------------------------------


def test_bad_arguments_and_aliases_are_rejected_before_the_data_is_checked(trained, tmp_path):
    _, uri, _ = trained
    bad = tmp_path / "bad"
    bad.mkdir()
    pd.DataFrame({"account_id": ["A"], "trade_date": ["x"], "amount": [-1.0], "commission": [1.0]}
                 ).to_csv(bad / "trades.csv", index=False)  # fmt: skip
    date = run("score", "--data", str(bad), "--as-of", "2025-13-01", "--out", "l.csv")
    assert date.returncode == 2 and "--as-of '2025-13-01'" in date.stderr
    alias = _score(bad, tmp_path / "l.csv", uri, "--model-alias", "nosuch")
    assert alias.returncode == 2 and "'nosuch'" in alias.stderr
    assert "trades.csv" not in alias.stderr and "Checking" not in alias.stderr


# --- 11: help -----------------------------------------------------------------------------------


def test_help_shows_what_each_option_takes():
    from valuemodel.cli import app

    runner = CliRunner()
    score = runner.invoke(app, ["score", "--help"], env={"COLUMNS": "200"}).output
    train = runner.invoke(app, ["train", "--help"], env={"COLUMNS": "200"}).output
    recheck = next(line for line in score.splitlines() if "--recheck" in line)
    assert "<bool>" not in recheck and "A flag" in recheck
    force = next(line for line in train.splitlines() if "--force" in line)
    assert "<bool>" not in force
    assert re.search(r"--experiment\s+<str>\s+MLflow experiment", train)
    assert re.search(r"--model-alias\s+<str>\s+Score with the models under this alias", score)
    assert "tuning.trials of the training config, 10" in train


def test_the_promotion_note_names_the_option():
    from valuemodel.training.promotion import decide

    kept = decide("roc_auc", 0.70, "3", 0.73)
    assert "--force" in kept.reason and "use force" not in kept.reason


# --- 12: where files went -----------------------------------------------------------------------


def test_train_prints_where_each_report_is_and_the_readme_path_is_the_real_one(trained):
    root, uri, result = trained
    printed = re.findall(r"(\w+) training report: (\S+)", result.stdout)
    assert [kind for kind, _ in printed] == ["churn", "clv"]
    for _, path in printed:
        assert Path(path).is_file() and Path(path).name == "report.html"
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    pattern = re.search(r"valuemodel-demo/(mlartifacts/<run_id>/artifacts/report\.html)", readme)
    assert pattern, "README names the report's path"
    from mlflow import MlflowClient

    client = MlflowClient(uri, uri)
    for kind in ("churn", "clv"):
        run_id = client.get_model_version_by_alias(f"valuemodel-{kind}", "champion").run_id
        assert (root / pattern.group(1).replace("<run_id>", run_id)).is_file()


def test_the_demos_hints_name_a_command_that_runs(tmp_path, monkeypatch):
    from valuemodel.workspace import executable

    monkeypatch.chdir(REPO)
    monkeypatch.setenv("PATH", str(tmp_path))  # the venv is not active
    assert executable("valuemodel") == str(
        (Path(sys.executable).parent / "valuemodel").relative_to(REPO)
    )
    from types import SimpleNamespace

    from valuemodel.workspace import demo_paths

    scored = SimpleNamespace(summary_path=Path("l.summary.json"), drift_path=Path("l.drift.csv"))
    run = SimpleNamespace(
        scored={"csv": scored},
        tracking_uri="sqlite:///w/mlflow.db",
        lists={"csv": Path("l.csv"), "xlsx": Path("l.xlsx")},
        data_dir=Path("w/data"),
        root=Path("w"),
    )
    text = demo_paths(run, AS_OF, ["churn training report: w/r.html"])
    venv = Path(sys.executable).parent.relative_to(REPO)
    assert f"Score again:     {venv / 'valuemodel'} score --data w/data" in text
    assert "churn training report: w/r.html" in text
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent))
    assert executable("valuemodel") == "valuemodel"


# --- 13: input messages -------------------------------------------------------------------------


def _trades(folder: Path, name: str = "trades.csv", **columns) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    base = {"account_id": ["A1", "A2"], "trade_date": ["2024-03-01", "2024-03-02"],
            "amount": [1000.0, 800.0], "commission": [5.0, 4.0]}  # fmt: skip
    pd.DataFrame(base | columns).to_csv(folder / name, index=False)
    return folder


def test_a_misspelt_column_gets_a_did_you_mean(tmp_path):
    folder = _trades(tmp_path / "d")
    frame = pd.read_csv(folder / "trades.csv").rename(columns={"commission": "comission"})
    frame.to_csv(folder / "trades.csv", index=False)
    result = run("validate", "--data", str(folder))
    assert result.returncode == 2
    assert "column 'commission': required column is missing" in result.stderr
    assert "did you mean 'comission'?" in result.stderr


def test_a_misnamed_table_file_is_named(tmp_path):
    folder = _trades(tmp_path / "d", name="trade.csv")
    result = run("validate", "--data", str(folder))
    assert result.returncode == 2
    assert "required table 'trades' is missing" in result.stderr
    assert "trade.csv is not read" in result.stderr
    _trades(folder)
    pd.DataFrame({"account_id": ["A1"], "date": ["2024-03-01"], "total_assets": [5.0]}).to_csv(
        folder / "balance.csv", index=False
    )
    (folder / "trade.csv").unlink()
    warned = run("validate", "--data", str(folder))
    assert warned.returncode == 0
    assert "balance.csv: not a table of the data contract" in warned.stderr
    assert "did you mean the table 'balances'?" in warned.stderr


def test_dates_written_with_slashes_are_reported_as_a_normalisation(tmp_path):
    folder = _trades(tmp_path / "d", trade_date=["2024/03/01", "2024-03-02"])
    result = run("validate", "--data", str(folder))
    assert result.returncode == 0, result.stderr
    assert "dates not written YYYY-MM-DD" in result.stderr
    assert "(1 row)" in result.stderr and "'2024/03/01' -> 2024-03-01" in result.stderr
