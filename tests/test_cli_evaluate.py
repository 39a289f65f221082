"""Closing the loop end to end: generate past T + H, train at T, score with a control group and a
challenger in the shadow, then evaluate the list against what happened."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from .test_cli import run

T, H, END = "2025-12-31", 90, "2026-04-30"


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    """800 generated accounts through END, models trained at T, the list scored twice."""
    root = tmp_path_factory.mktemp("loop")
    data, uri = root / "data", f"sqlite:///{root / 'mlflow.db'}"
    gen = run("generate", "--accounts", "800", "--out", str(data), "--end", END, "--seed", "11")
    assert gen.returncode == 0, gen.stderr
    trained = run(
        "train", "--data", str(data), "--as-of", T, "--trials", "2", "--tracking-uri", uri
    )
    assert trained.returncode == 0, trained.stderr
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    for name in ("valuemodel-churn", "valuemodel-clv"):  # the same models stand in the shadow
        client.set_registered_model_alias(name, "challenger", "1")
    lists = {}
    for name, extra in (("first", ["--compare", "challenger"]), ("second", [])):
        out = root / f"{name}.csv"
        scored = run(
            "score", "--data", str(data), "--as-of", T, "--out", str(out),
            "--tracking-uri", uri, "--control-share", "0.1", *extra,
        )  # fmt: skip
        assert scored.returncode == 0, scored.stderr
        lists[name] = out
    evaluated = run(
        "evaluate", "--list", str(lists["first"]), "--data", str(data),
        "--out", str(root / "evaluation"), "--tracking-uri", uri,
    )  # fmt: skip
    assert evaluated.returncode == 0, evaluated.stderr
    return root, data, uri, lists, evaluated


def churn_by_the_rule(data, as_of, horizon):
    """The contract's churn rule from the raw tables: closed in (T, T+H], or total assets at
    T+H (latest snapshot on or before) below 20 % of those at T."""
    t = pd.Timestamp(as_of)
    until = t + pd.Timedelta(days=horizon)
    balances = pd.read_parquet(data / "balances.parquet")
    balances["date"] = pd.to_datetime(balances["date"])

    def assets_at(day):
        known = balances[balances["date"] <= day].sort_values("date", kind="mergesort")
        return known.groupby("account_id")["total_assets"].last()

    accounts = pd.read_parquet(data / "accounts.parquet").set_index("account_id")
    closed = pd.to_datetime(accounts["close_date"])
    closed_in = (closed > t) & (closed <= until)
    before, after = assets_at(t), assets_at(until)
    dropped = after.reindex(before.index) < 0.2 * before
    return closed_in.reindex(before.index, fill_value=False) | dropped


def test_the_auc_in_evaluation_json_equals_one_computed_from_the_churn_rule(loop):
    root, data, _, lists, result = loop
    evaluation = json.loads((root / "evaluation" / "evaluation.json").read_text())
    listed = pd.read_csv(lists["first"], dtype={"account_id": str})
    churn = churn_by_the_rule(data, T, H).reindex(listed["account_id"]).astype(float)
    expected = roc_auc_score(churn.to_numpy(), listed["churn_probability"].to_numpy())
    print(f"e2e AUC: evaluation.json {evaluation['churn']['roc_auc']} independent {expected:.6f}")
    assert evaluation["churn"]["roc_auc"] == pytest.approx(expected, abs=1e-6)
    assert evaluation["churn"]["n"] == len(listed)
    assert evaluation["churn"]["churners"] == int(churn.sum())
    assert evaluation["churn"]["ece"] is not None
    assert evaluation["horizons"]["churn"]["complete"] is True
    assert evaluation["horizons"]["value"]["complete"] is False  # T + 365 is after END
    assert evaluation["value"]["spearman"] is None
    for section, key in (("churn", "roc_auc"), ("churn", "ece"), ("churn", "n")):
        assert evaluation[f"{section}.{key}"] == evaluation[section][key]  # also flat
    assert evaluation["value.spearman"] is None
    assert evaluation["control"]["present"] and evaluation["control"]["analysis"] == (
        "intent to treat"
    )
    assert evaluation["estimate"]["roc_auc"]["expected"] is not None
    assert "ROC-AUC" in result.stdout and "not complete until 2026-12-31" in result.stdout
    assert (root / "evaluation" / "evaluation.html").is_file()


def test_the_control_share_is_ten_percent_in_every_segment(loop):
    _, _, _, lists, _ = loop
    listed = pd.read_csv(lists["first"])
    assert listed["control"].dtype == bool
    shares = listed.groupby("service_segment")["control"].mean()
    print(f"e2e control shares: {shares.round(4).to_dict()}")
    assert len(shares) >= 3
    assert ((shares - 0.1).abs() <= 0.03).all(), shares


def test_the_same_run_twice_gives_the_same_control_group(loop):
    _, _, _, lists, _ = loop
    first, second = (pd.read_csv(lists[k], dtype={"account_id": str}) for k in lists)
    assert set(first.loc[first.control, "account_id"]) == set(
        second.loc[second.control, "account_id"]
    )
    summary = json.loads((lists["first"].with_name("first.summary.json")).read_text())
    assert summary["control"]["share"] == 0.1 and summary["control"]["seed"] == 20240101
    assert summary["list"] == "first.csv"  # what evaluate checks the list against
    assert summary["models"]["churn"]["churn_definition"] == "assets"


def test_the_challenger_is_judged_on_the_control_accounts(loop):
    root, _, _, lists, result = loop
    compare = json.loads(lists["first"].with_name("first.compare.json").read_text())
    assert compare["alias"] == "challenger" and compare["rank_spearman"] == pytest.approx(1.0)
    table = pd.read_csv(lists["first"].with_name("first.compare.csv"))
    evaluation = json.loads((root / "evaluation" / "evaluation.json").read_text())
    both = evaluation["challenger"]
    assert both["basis"] == "control" and both["n"] == int(table["control"].sum()) > 0
    assert both["champion"]["roc_auc"] == both["challenger"]["roc_auc"]
    assert both["roc_auc_difference"]["difference"] == 0.0
    assert f"on {both['n']:,} control accounts" in result.stdout


@pytest.mark.slow  # a whole evaluate command on 800 accounts
def test_evaluate_exits_2_when_balances_end_before_the_churn_window(loop, tmp_path):
    _, data, _, lists, _ = loop
    lagging = tmp_path / "lagging"
    shutil.copytree(data, lagging)
    balances = pd.read_parquet(lagging / "balances.parquet")
    balances = balances[pd.to_datetime(balances["date"]) <= "2026-03-15"]
    balances.to_parquet(lagging / "balances.parquet", index=False)
    last = pd.to_datetime(balances["date"]).max().date()
    result = run(
        "evaluate", "--list", str(lists["first"]), "--data", str(lagging),
        "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert f"the balances table ends {last}" in result.stderr
    assert "complete only once balances runs through 2026-03-31" in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.slow  # a whole evaluate command on 800 accounts
def test_evaluate_exits_2_when_most_listed_accounts_have_no_outcome(loop, tmp_path):
    _, data, _, lists, _ = loop
    listed = pd.read_csv(lists["first"], dtype={"account_id": str})
    n = len(listed)
    strangers = n // 2 + 1
    listed.loc[: strangers - 1, "account_id"] = [f"X{i:05d}" for i in range(strangers)]
    out = tmp_path / "first.csv"
    listed.to_csv(out, index=False)
    summary = json.loads(lists["first"].with_name("first.summary.json").read_text())
    out.with_name("first.summary.json").write_text(json.dumps(summary))
    result = run(
        "evaluate", "--list", str(out), "--data", str(data), "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert f"only {n - strangers:,} of its {n:,} accounts have an outcome" in result.stderr
    assert not (tmp_path / "out").exists()


def test_evaluate_logs_a_monitoring_run_tagged_with_the_model_versions(loop):
    _, _, uri, _, _ = loop
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("valuemodel-monitoring")
    (monitoring,) = client.search_runs([experiment.experiment_id])
    assert monitoring.data.tags["churn_model_version"] == "1"
    assert monitoring.data.tags["clv_model_version"] == "1"
    assert monitoring.data.metrics["churn.roc_auc"] > 0.5


def test_evaluate_with_a_missing_list_exits_2_and_writes_nothing(loop, tmp_path):
    _, data, _, _, _ = loop
    result = run(
        "evaluate", "--list", str(tmp_path / "nope.csv"), "--data", str(data),
        "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert result.returncode == 2
    assert "no such file" in result.stderr
    assert not (tmp_path / "out").exists()


def test_score_rejects_a_control_share_of_one(loop, tmp_path):
    _, data, uri, _, _ = loop
    out = tmp_path / "list.csv"
    result = run(
        "score", "--data", str(data), "--as-of", T, "--out", str(out),
        "--tracking-uri", uri, "--control-share", "1",
    )  # fmt: skip
    assert result.returncode == 2
    assert "--control-share must be at least 0 and below 1" in result.stderr
    assert not out.exists()
