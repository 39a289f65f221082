"""The console script end to end: exit codes, messages, and that bad input writes nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]

TRADES = pd.DataFrame(
    {
        "account_id": ["A1", "A2"],
        "trade_date": ["2024-01-02", "2024-01-03"],
        "amount": [1000.0, 800.0],
        "commission": [5.0, 5.0],
    }
)


def run(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "valuemodel.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=600,
    )


def script(path: str, *args: str) -> subprocess.CompletedProcess:
    """Run an entry script of the repository (``training/retrain.py``, ...)."""
    command = [sys.executable, str(REPO / path), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


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


HEAVY = ("mlflow", "lightgbm", "shap", "optuna", "matplotlib", "sklearn")


@pytest.mark.parametrize("command", [["--help"], ["validate", "--data", "{data}"]])
def test_help_and_validate_import_no_model_library(tmp_path, command):
    # first contact stays fast: MLflow, LightGBM, SHAP... load only for the commands using them
    TRADES.to_csv(tmp_path / "trades.csv", index=False)
    args = [a.format(data=tmp_path) for a in command]
    code = (
        "import sys\n"
        "from valuemodel.cli import app\n"
        f"try:\n    app({args!r})\n"
        "except SystemExit as done:\n    assert not done.code, done.code\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


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


CONTRACT_COLUMNS = [
    "rank",
    "account_id",
    "as_of",
    "churn_probability",
    "clv",
    "value_at_risk",
    "priority_score",
    "asset_tier",
    "value_quadrant",
    "service_segment",
    "reason_1",
    "reason_2",
    "reason_3",
    "recommended_action",
]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A small generated brokerage, trained through the CLI (module-scoped: ~1 minute)."""
    root = tmp_path_factory.mktemp("cli")
    data = root / "data"
    gen = run("generate", "--accounts", "300", "--out", str(data), "--seed", "11")
    assert gen.returncode == 0, gen.stderr
    uri = f"sqlite:///{root / 'mlflow.db'}"
    result = run(
        "train",
        "--data",
        str(data),
        "--as-of",
        "2025-12-31",
        "--trials",
        "2",
        "--tracking-uri",
        uri,
    )
    assert result.returncode == 0, result.stderr
    return root, data, uri, result


def test_generate_writes_all_eight_tables(trained):
    _, data, _, _ = trained
    assert sorted(p.name for p in data.iterdir()) == sorted(
        f"{t}.parquet"
        for t in (
            "accounts",
            "trades",
            "balances",
            "cashflows",
            "positions",
            "logins",
            "revenue",
            "contacts",
        )
    )


def test_train_logs_one_line_per_named_stage_when_stderr_is_not_a_terminal(trained):
    # subprocess captures stderr in a pipe, as a scheduler's log or `make demo > log` would.
    lines = [ln for ln in trained[3].stderr.splitlines() if "Training churn and value" in ln]
    stages = [ln.split("models: ", 1)[1] for ln in lines]
    assert stages[0].startswith("features and labels at ")
    for stage in ("churn: trial 1/2", "churn: trial 2/2", "value: trial 2/2"):
        assert stage in stages
    assert [s for s in stages if s.endswith("report and registering")] == [
        "churn: report and registering",
        "value: report and registering",
    ]
    assert any(s.startswith("churn: fitting on ") for s in stages)
    # the generated data has campaigns: the uplift model is a stage of its own, before "done"
    assert stages[-3:] == [
        "uplift: features at past campaigns, fitting, registering",
        "done",
        "finished",
    ]
    seconds = [float(ln.split("]")[0].strip("[ s")) for ln in lines]
    assert seconds == sorted(seconds) and seconds[-1] > 0


def test_features_writes_one_row_per_population_account(trained, tmp_path):
    _, data, _, _ = trained
    out = tmp_path / "features.parquet"
    result = run("features", "--data", str(data), "--as-of", "2025-06-30", "--out", str(out))
    assert result.returncode == 0, result.stderr
    frame = pd.read_parquet(out)
    assert list(frame.columns[:2]) == ["account_id", "as_of"]
    assert frame.account_id.is_unique and len(frame) > 100
    assert {"days_since_last_trade", "total_assets", "outflow_share_30d"} <= set(frame.columns)
    assert (pd.to_datetime(frame.as_of) == pd.Timestamp("2025-06-30")).all()


def test_features_with_an_unsupported_suffix_exits_2_before_work(trained, tmp_path):
    _, data, _, _ = trained
    out = tmp_path / "features.json"
    result = run("features", "--data", str(data), "--as-of", "2025-06-30", "--out", str(out))
    assert result.returncode == 2
    assert "unsupported output format '.json'" in result.stderr
    assert not out.exists()


def test_train_registers_both_models_as_champion_and_reports_metrics(trained):
    _, _, uri, result = trained
    assert "valuemodel-churn v1 -> champion" in result.stdout
    assert "valuemodel-clv v1 -> champion" in result.stdout
    assert "roc_auc" in result.stdout and "normalized_gini" in result.stdout
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    for name in ("valuemodel-churn", "valuemodel-clv"):
        assert str(client.get_model_version_by_alias(name, "champion").version) == "1"


def test_score_writes_the_contract_columns_in_rank_order(trained):
    root, data, uri, _ = trained
    out = root / "ranked.csv"
    result = run(
        "score",
        "--data",
        str(data),
        "--as-of",
        "2025-12-31",
        "--out",
        str(out),
        "--tracking-uri",
        uri,
    )
    assert result.returncode == 0, result.stderr
    ranked = pd.read_csv(out)
    assert list(ranked.columns[: len(CONTRACT_COLUMNS)]) == CONTRACT_COLUMNS
    assert list(ranked["rank"]) == list(range(1, len(ranked) + 1))
    assert ranked.priority_score.is_monotonic_decreasing
    assert (ranked.value_at_risk - ranked.churn_probability * ranked.clv).abs().max() < 0.01
    assert ranked.churn_probability.between(0, 1).all()
    assert ranked.reason_1.notna().mean() > 0.9
    assert (root / "ranked.summary.json").exists() and (root / "ranked.drift.csv").exists()


def test_score_top_k_writes_k_rows(trained, tmp_path):
    _, data, uri, _ = trained
    out = tmp_path / "top.parquet"
    result = run(
        "score",
        "--data",
        str(data),
        "--as-of",
        "2025-12-31",
        "--out",
        str(out),
        "--top",
        "15",
        "--tracking-uri",
        uri,
    )
    assert result.returncode == 0, result.stderr
    assert len(pd.read_parquet(out)) == 15


def test_score_with_rejected_input_leaves_the_earlier_list_untouched(trained, tmp_path):
    root, data, uri, _ = trained
    out = tmp_path / "ranked.csv"
    out.write_text("an earlier good list\n")
    bad = tmp_path / "bad"
    bad.mkdir()
    for f in data.iterdir():
        (bad / f.name).write_bytes(f.read_bytes())
    trades = pd.read_parquet(bad / "trades.parquet")
    trades.loc[trades.index[:3], "amount"] = -1.0
    trades.to_parquet(bad / "trades.parquet", index=False)
    result = run(
        "score",
        "--data",
        str(bad),
        "--as-of",
        "2025-12-31",
        "--out",
        str(out),
        "--tracking-uri",
        uri,
    )
    assert result.returncode == 2
    assert "trades.parquet, column 'amount': breaks rule amount > 0 (3 rows)" in result.stderr
    assert out.read_text() == "an earlier good list\n"


def test_score_with_an_unknown_alias_exits_2(trained, tmp_path):
    _, data, uri, _ = trained
    out = tmp_path / "ranked.csv"
    result = run(
        "score",
        "--data",
        str(data),
        "--as-of",
        "2025-12-31",
        "--out",
        str(out),
        "--tracking-uri",
        uri,
        "--model-alias",
        "nosuch",
    )
    assert result.returncode == 2
    assert "nosuch" in result.stderr
    assert not out.exists()


def test_no_account_id_reaches_mlflow_params_tags_or_artifacts(trained):
    root, data, uri, _ = trained
    ids = set(pd.read_parquet(data / "accounts.parquet").account_id)
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    assert len(runs) >= 2
    logged = " ".join(
        f"{k} {v}" for r in runs for k, v in {**r.data.params, **r.data.tags}.items()
    )
    artifacts = [p for p in (root / "mlartifacts").rglob("*") if p.is_file()]
    assert artifacts
    texts = [logged] + [p.read_bytes().decode("utf-8", "ignore") for p in artifacts]
    leaked = {i for i in ids for text in texts if i in text}
    assert not leaked


def test_the_entry_scripts_are_the_commands_with_their_messages_and_exit_codes(tmp_path):
    retrain = script(
        "training/retrain.py", "--data", str(tmp_path / "nope"), "--as-of", "2025-12-31"
    )
    assert retrain.returncode == 2
    assert "not a directory" in retrain.stderr
    assert "Usage: retrain.py [OPTIONS]" in script("training/retrain.py", "--help").stdout
    config = tmp_path / "scoring.yaml"
    config.write_text(yaml.safe_dump({"as_of": "2025-12-31", "out": "list.csv"}))
    scoring = script("serving/score_batch.py", "--config", str(config))
    assert scoring.returncode == 2
    assert "scoring.yaml: data: Field required" in scoring.stderr


def test_score_batch_scores_with_its_config_and_the_options_given(trained, tmp_path):
    _, data, uri, _ = trained
    config = {"data": str(data), "as_of": "2025-12-31", "out": "list.csv", "top": 5}
    (tmp_path / "scoring.yaml").write_text(yaml.safe_dump({**config, "tracking_uri": uri}))
    result = script(
        "serving/score_batch.py", "--config", str(tmp_path / "scoring.yaml"), "--top", "3"
    )
    assert result.returncode == 0, result.stderr
    assert len(pd.read_csv(tmp_path / "list.csv")) == 3


def test_every_key_of_the_scoring_config_is_an_option_of_score():
    """``serving/score_batch.py`` passes the config's keys to ``valuemodel score`` by name."""
    from typer.main import get_command

    from valuemodel.cli import app
    from valuemodel.serving import ScoringConfig

    options = {option for p in get_command(app).commands["score"].params for option in p.opts}
    assert {f"--{key.replace('_', '-')}" for key in ScoringConfig.model_fields} <= options


@pytest.mark.spark
def test_validate_features_and_score_on_a_spark_cluster_equal_the_embedded_engine(
    trained, spark_cluster, tmp_path
):
    # a standalone master and worker: executors in their own JVM and Python workers, as on
    # any real cluster (serialised functions, file paths, the model bundle shipped to them)
    root, data, uri, _ = trained
    lists = {}
    for engine in ("duckdb", "spark"):
        env = spark_cluster if engine == "spark" else None
        common = ("--engine", engine, "--data", str(data))
        result = run("validate", *common, env=env)
        assert result.returncode == 0, result.stderr
        assert "follows the data contract" in result.stdout
        features = tmp_path / f"features-{engine}.parquet"
        result = run("features", *common, "--as-of", "2025-06-30", "--out", str(features), env=env)
        assert result.returncode == 0, result.stderr
        lists[engine] = tmp_path / f"list-{engine}.csv"
        result = run(
            "score", *common, "--as-of", "2025-12-31",
            "--out", str(lists[engine]), "--tracking-uri", uri, env=env,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "features-spark.parquet"),
        pd.read_parquet(tmp_path / "features-duckdb.parquet"),
        check_exact=False,
        rtol=1e-9,
        atol=1e-12,
    )
    spark, duck = (pd.read_csv(lists[e], dtype={"account_id": str}) for e in ("spark", "duckdb"))
    assert len(duck) > 100
    assert spark[["rank", "account_id"]].equals(duck[["rank", "account_id"]])
    numbers = ["churn_probability", "clv", "value_at_risk", "priority_score"]
    pd.testing.assert_frame_equal(spark[numbers], duck[numbers], check_exact=False, atol=1e-6)
    assert spark.drop(columns=numbers).equals(duck.drop(columns=numbers))


def test_train_registers_an_uplift_model_and_score_adds_its_columns(trained, tmp_path):
    _, data, uri, result = trained
    assert "valuemodel-uplift v1 -> champion" in result.stdout
    assert "list ranks by" in result.stdout
    out = tmp_path / "list.csv"
    scored = run(
        "score", "--data", str(data), "--as-of", "2025-12-31", "--out", str(out),
        "--tracking-uri", uri, "--rank-by", "saved_value",
    )  # fmt: skip
    assert scored.returncode == 0, scored.stderr
    assert "ranked by saved_value: --rank-by saved_value given" in scored.stdout
    frame = pd.read_csv(out)
    columns = list(frame.columns)
    assert columns[
        columns.index("recommended_action") + 1 : columns.index("recommended_action") + 3
    ] == [
        "uplift",
        "saved_value",
    ]
    np.testing.assert_allclose(frame.saved_value, frame.uplift * frame.clv, rtol=1e-12)
    # ranked by saved value x tier weights: the priority has the sign of the saved value
    ranked = frame[frame.exclusion.isna() & (frame.saved_value.abs() > 0.01)]
    assert (np.sign(ranked.priority_score) == np.sign(ranked.saved_value)).all()
    harmed = frame[frame.uplift <= -0.02]
    assert harmed.recommended_action.str.startswith("Do not contact").all()
    assert frame.uplift_reasons.notna().any()
