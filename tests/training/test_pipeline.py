"""End to end: train both models into a temporary MLflow store, promote, load and score."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from valuemodel.data.reader import open_data
from valuemodel.errors import ModelError
from valuemodel.features import build_features
from valuemodel.training import format_train_summary, load_model, train

AS_OF = "2025-12-31"


@pytest.fixture(scope="module")
def first(brokerage_dir, tracking_uri, fast_config):
    calls = []
    result = train(
        brokerage_dir,
        AS_OF,
        config=fast_config,
        tracking_uri=tracking_uri,
        progress=lambda done, total: calls.append((done, total)),
    )
    return result, calls


@pytest.fixture(scope="module")
def client(tracking_uri):
    return MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)


def test_first_training_registers_both_models_as_champions(first, client):
    result, _ = first
    for m, name in ((result.churn, "valuemodel-churn"), (result.clv, "valuemodel-clv")):
        assert (m.registered_model, m.version, m.alias, m.promoted) == (
            name,
            "1",
            "champion",
            True,
        )
        assert client.get_model_version_by_alias(name, "champion").run_id == m.run_id
        tag = json.loads(client.get_model_version(name, "1").tags["promotion"])
        assert tag["promoted"] and "first model" in tag["reason"]


def test_runs_log_metrics_baselines_params_and_artifacts(first, client):
    result, _ = first
    run = client.get_run(result.churn.run_id)
    for key in (
        "roc_auc",
        "pr_auc",
        "brier",
        "ece",
        "lift_top_decile",
        "baseline.recency.roc_auc",
        "baseline.logistic.roc_auc",
    ):
        assert key in run.data.metrics
    assert run.data.params["data_fingerprint"] == result.data_fingerprint
    assert run.data.params["valid_end"] == str(result.churn.valid_dates[-1])
    artifacts = {a.path for a in client.list_artifacts(result.churn.run_id)}
    assert {
        "model",
        "figures",
        "promotion.json",
        "features.json",
        "snapshots.json",
        "fairness.json",
    } <= artifacts
    model_files = {a.path for a in client.list_artifacts(result.churn.run_id, "model")}
    assert {
        "model/booster.txt",
        "model/calibration.json",
        "model/checksums.json",
        "model/schema.json",
    } <= model_files
    figures = {a.path for a in client.list_artifacts(result.churn.run_id, "figures")}
    assert figures == {"figures/calibration.png", "figures/gains.png", "figures/importance.png"}
    value_run = client.get_run(result.clv.run_id)
    assert "baseline.last_revenue.normalized_gini" in value_run.data.metrics
    assert "baseline.clv_rule.normalized_gini" in value_run.data.metrics
    assert "protected.without.roc_auc" not in run.data.metrics  # exclude_protected is off
    assert "tweedie.normalized_gini" in value_run.data.metrics


def test_the_churn_model_beats_the_recency_rule(first):
    result, _ = first
    assert result.churn.metrics["roc_auc"] > result.churn.baseline_metrics["recency"]["roc_auc"]
    assert result.churn.counts["train_accounts"] > 100
    assert result.churn.train_dates[-1] < result.churn.valid_dates[0]


def test_progress_is_reported_up_to_the_total(first):
    _, calls = first
    assert calls[-1][0] == calls[-1][1] and len(calls) == calls[-1][1]


def test_registered_models_load_and_score(first, brokerage_dir, tracking_uri):
    features = build_features(open_data(brokerage_dir), AS_OF)
    churn = load_model("churn", tracking_uri=tracking_uri)
    clv = load_model("clv", "champion", tracking_uri=tracking_uri)
    p = churn.predict(features)
    v = clv.predict(features)
    assert len(p) == len(v) == len(features)
    assert ((p >= 0) & (p <= 1)).all() and (v >= 0).all()
    assert churn.version == "1" and churn.horizon_days == 90 and clv.horizon_days == 365
    assert churn.feature_names == list(churn.prepare(features).columns)
    assert churn.booster.num_trees() > 0 and "days_since_last_trade" in churn.feature_profile


def test_summary_names_versions_aliases_and_metrics(first):
    text = format_train_summary(first[0])
    assert "valuemodel-churn v1 -> champion" in text and "roc_auc" in text
    assert "normalized_gini" in text and "recency" in text
    churn = first[0].churn
    header = next(line for line in text.splitlines() if line.strip().startswith("metric"))
    assert header.split() == ["metric", "model", "held", "out", "recency", "logistic", "reference"]
    row = next(line for line in text.splitlines() if line.strip().startswith("roc_auc"))
    assert row.split()[1:3] == [f"{churn.metrics['roc_auc']:.4f}", f"{churn.holdout_metric:.4f}"]


def test_every_metric_is_also_measured_on_the_held_out_accounts(first, client):
    for m in first[0].models:
        assert set(m.holdout_metrics) == set(m.metrics)
        promotion = "roc_auc" if m.kind == "churn" else "normalized_gini"
        # the saved bundle that judged the promotion is the one measured
        assert m.holdout_metrics[promotion] == pytest.approx(m.holdout_metric, abs=1e-12)
        logged = client.get_run(m.run_id).data.metrics
        for name, value in m.holdout_metrics.items():
            if value == value:
                assert logged[f"holdout.{name}"] == pytest.approx(value)
    churn = first[0].churn.holdout_metrics
    assert 0 <= churn["brier"] <= 1 and 0 <= churn["ece"] <= 1 and 0 <= churn["roc_auc"] <= 1


def test_a_tampered_registered_model_fails_to_load(first, client, tracking_uri):
    run = client.get_run(first[0].churn.run_id)
    path = Path(run.info.artifact_uri.removeprefix("file://")) / "model" / "calibration.json"
    original = path.read_bytes()
    try:
        path.write_text('{"method": "platt", "a": 0.0, "b": 5.0}')
        with pytest.raises(ModelError, match="calibration.json .SHA-256 differs"):
            load_model("churn", tracking_uri=tracking_uri)
    finally:
        path.write_bytes(original)
    assert load_model("churn", tracking_uri=tracking_uri).version == "1"


def test_a_worse_model_does_not_replace_the_champion_unless_forced(
    first, brokerage_dir, tracking_uri, tmp_path
):
    # A copy of the store as the first training left it (v1 champion), so that the versions
    # this test registers do not change what the module's other tests see, in any order.
    degenerate = first[0]
    copy = tmp_path / "mlflow.db"
    shutil.copyfile(tracking_uri.removeprefix("sqlite:///"), copy)
    tracking_uri = f"sqlite:///{copy}"
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    worse_cfg = {
        "tuning": {"trials": 0},
        "lightgbm": {"max_rounds": 1, "fixed_params": {"max_depth": 1, "num_leaves": 2}},
    }
    from valuemodel.training.config import parse_config

    worse = train(brokerage_dir, AS_OF, config=parse_config(worse_cfg), tracking_uri=tracking_uri)
    assert (worse.churn.version, worse.churn.alias, worse.churn.promoted) == (
        "2",
        "challenger",
        False,
    )
    assert "champion v1 kept" in worse.churn.reason
    assert str(client.get_model_version_by_alias("valuemodel-churn", "champion").version) == "1"
    assert str(client.get_model_version_by_alias("valuemodel-churn", "challenger").version) == "2"
    # both judged on the same held-out accounts: v1 scores there as it did when it was new
    assert worse.churn.counts["holdout_rows"] > 0
    assert "held-out validation accounts" in worse.churn.reason
    assert worse.churn.champion_metric == pytest.approx(degenerate.churn.holdout_metric)
    assert worse.churn.holdout_metric < worse.churn.champion_metric
    forced = train(
        brokerage_dir, AS_OF, config=parse_config(worse_cfg), tracking_uri=tracking_uri, force=True
    )
    assert forced.churn.promoted and forced.churn.reason.startswith("forced")
    assert load_model("churn", tracking_uri=tracking_uri).version == "3"
    # v2 lost to v1, which v3 has replaced: no alias points at the stale v2 any more
    aliases = client.get_registered_model("valuemodel-churn").aliases
    assert {k: str(v) for k, v in aliases.items()} == {"champion": "3"}
    promotion = client.download_artifacts(forced.churn.run_id, "promotion.json")
    assert json.loads(Path(promotion).read_text())["forced"] is True
    assert np.isfinite(forced.churn.metrics["roc_auc"])


def test_net_negative_revenue_over_the_horizon_is_fitted_as_zero(
    brokerage_dir, tmp_path, fast_config
):
    # revenue is signed: a correction larger than a year's revenue makes the value label of
    # a snapshot negative, which the Tweedie objective refuses (training used to fail)
    data = tmp_path / "data"
    shutil.copytree(brokerage_dir, data)
    revenue = pd.read_parquet(data / "revenue.parquet")
    accounts = revenue["account_id"].drop_duplicates().iloc[:40]
    corrections = pd.DataFrame(
        {"account_id": accounts, "date": pd.Timestamp("2025-06-30").date(), "amount": -1e6}
    ).assign(kind="commission")
    pd.concat([revenue, corrections[revenue.columns]], ignore_index=True).to_parquet(
        data / "revenue.parquet", index=False
    )
    result = train(
        data,
        AS_OF,
        config=fast_config,
        trials=0,
        tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}",
    )
    (note,) = [n for n in result.notes if "net-negative revenue" in n]
    assert int(note.split()[1].replace(",", "")) >= 40  # each account, at several snapshots
    assert result.clv.version == "1"
    assert result.clv.metrics["spearman"] > 0


def test_above_max_feature_rows_a_share_of_the_accounts_is_trained_on_and_said(
    first, brokerage_dir, tmp_path, fast_config
):
    # a brokerage too large for memory: the engine keeps a seeded share of the accounts
    # before any row is read, and the notes say how many rows it was drawn from
    config = fast_config.with_overrides(snapshots={"max_feature_rows": 3000})  # others default
    result = train(
        brokerage_dir, AS_OF, config=config, tracking_uri=f"sqlite:///{tmp_path / 'm.db'}"
    )
    (note,) = [n for n in result.notes if "snapshots.max_feature_rows (3,000)" in n]
    rows = int(note.split()[1].replace(",", ""))
    share = 3000 / rows
    assert f"a seeded {share:.2%} of the accounts" in note
    full = first[0].churn.counts
    for key in ("train_accounts", "valid_accounts"):
        kept = result.churn.counts[key] / full[key]
        assert share - 0.15 < kept < share + 0.15, (key, kept, share)
    assert result.churn.counts["train_snapshots"] == full["train_snapshots"]


def test_a_lagging_balances_export_leaves_the_latest_churn_snapshots_unlabelled(
    brokerage_dir, tmp_path
):
    """Balances end 2025-11-28 (the last weekly snapshot by 11-30), the other tables
    2025-12-31: asset churn reads balances, so no churn snapshot's window may end after
    2025-11-28 (the reproduction's design)."""
    from datetime import date, timedelta

    from valuemodel.training import frames
    from valuemodel.training.config import TrainingConfig
    from valuemodel.training.pipeline import _plans

    data = tmp_path / "lagging"
    shutil.copytree(brokerage_dir, data)
    balances = pd.read_parquet(data / "balances.parquet")
    balances = balances[pd.to_datetime(balances["date"]) <= "2025-11-30"]
    balances.to_parquet(data / "balances.parquet", index=False)
    known = open_data(data).until(AS_OF)
    end, (churn, value), notes = _plans(known, date(2025, 12, 31), TrainingConfig())
    assert end == date(2025, 12, 31)
    assert pd.to_datetime(balances["date"]).max() == pd.Timestamp("2025-11-28")
    assert churn.labelled_dates[-1] + timedelta(days=90) <= date(2025, 11, 28)
    assert value.dates[-1] + timedelta(days=365) <= end  # revenue runs on
    assert notes == [
        "churn: the balances table ends 2025-11-28, before the training end 2025-12-31; churn "
        "labels read balances, so snapshots whose window ends after 2025-11-28 are left "
        "unlabelled (missing, not guessed)"
    ]
    frame = frames.labelled_frame(
        known,
        [churn.labelled_dates[-1], date(2025, 10, 2)],
        churn_horizon=90,
        value_horizon=365,
        churn_definition="auto",
        end=end,
        feature_config=None,
    )
    latest = frame[frame["as_of"] == pd.Timestamp("2025-10-02")]
    assert len(latest) and latest["churn"].isna().all()  # T + 90 = 2025-12-31: missing
    assert frame.loc[frame["as_of"] < pd.Timestamp("2025-10-02"), "churn"].notna().all()


def test_no_held_out_account_has_a_training_row_whose_label_overlaps_its_validation():
    """Two years of monthly snapshots, a 365-day value horizon: the relaxed gap, where every
    training label window overlaps the validation period (the demo's shape)."""
    from datetime import date, timedelta

    from valuemodel.training import frames
    from valuemodel.training.config import TrainingConfig
    from valuemodel.training.pipeline import _parts
    from valuemodel.training.snapshots import plan_snapshots

    cfg = TrainingConfig()
    plan = plan_snapshots(
        label="value",
        horizon_days=365,
        start=date(2024, 1, 1),
        end=date(2025, 12, 31),
        anchor_horizon=90,
        config=cfg.snapshots,
    )
    assert plan.gap_rule == "relaxed"
    rng = np.random.default_rng(0)
    ids = [f"A{i:04d}" for i in range(400)]
    dates = pd.to_datetime([*plan.train_dates, *plan.valid_dates])
    frame = pd.DataFrame(
        [(a, d) for d in dates for a in ids], columns=["account_id", "as_of"]
    ).assign(x=lambda f: rng.random(len(f)), churn=0.0, value=lambda f: rng.gamma(2, 50, len(f)))
    train, kept, held = _parts(frame, plan, cfg)
    assert held is not None and len(held.y) and len(kept.y)
    first_valid = held.features.groupby("account_id")["as_of"].min()
    rows = train.features.merge(first_valid.rename("valid_from"), on="account_id")
    windows_end = rows["as_of"] + timedelta(days=365)
    assert not (windows_end > rows["valid_from"]).any()
    # the kept accounts keep their rows; the held-out ones only lose the overlapping ones
    assert set(kept.features.account_id) <= set(train.features.account_id)
    everyone = frames.select(frame, plan.train_dates, "value")
    assert len(train.y) == (~frames.held_out(everyone.features.account_id)).sum()


def _model_files(uri: str, run_id: str, into: Path) -> dict[str, bytes]:
    """The trees, calibration or value state and schema a run stored (not its metadata)."""
    from valuemodel.models.tracking import MODEL_ARTIFACT_PATH

    client = MlflowClient(tracking_uri=uri)
    where = Path(client.download_artifacts(run_id, MODEL_ARTIFACT_PATH, str(into / run_id)))
    kept = ("booster", "calibration", "value", "schema")
    return {p.name: p.read_bytes() for p in where.iterdir() if p.name.startswith(kept)}


def test_two_trainings_with_one_config_give_identical_model_files(
    first, brokerage_dir, tracking_uri, fast_config, tmp_path
):
    # Threads are sized by rows and usable cores (num_threads: auto): the same data, config
    # and machine must still give the same trees, calibration and schema, byte for byte.
    result, _ = first
    store = f"sqlite:///{tmp_path / 'again.db'}"
    again = train(brokerage_dir, AS_OF, config=fast_config, tracking_uri=store)
    for old, new in ((result.churn, again.churn), (result.clv, again.clv)):
        before = _model_files(tracking_uri, old.run_id, tmp_path)
        after = _model_files(store, new.run_id, tmp_path)
        assert any(name.startswith("booster") for name in before)
        assert before == after
