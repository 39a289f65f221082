"""Leakage, determinism, trades-only data and short histories, through ``train``."""

from __future__ import annotations

import pytest
from mlflow import MlflowClient

from valuemodel.data.generate import generate_brokerage, write_brokerage
from valuemodel.errors import InputError
from valuemodel.training import train

pytestmark = pytest.mark.slow  # each test trains models or runs whole commands

AS_OF = "2025-09-30"


def _booster_texts(tracking_uri: str, result) -> list[str]:
    client = MlflowClient(tracking_uri=tracking_uri)
    texts = []
    for m in result.models:
        for name in ("booster.txt", "booster_occurrence.txt", "booster_amount.txt"):
            files = {a.path for a in client.list_artifacts(m.run_id, "model")}
            if f"model/{name}" in files:
                path = client.download_artifacts(m.run_id, f"model/{name}")
                with open(path) as fh:
                    texts.append(fh.read())
    return texts


def test_rows_after_as_of_do_not_change_the_models(
    brokerage_dir, tmp_path, tracking_uri, fast_config, truncate
):
    cut = truncate(brokerage_dir, tmp_path / "cut", AS_OF)
    full = train(brokerage_dir, AS_OF, config=fast_config, tracking_uri=tracking_uri)
    only_past = train(cut, AS_OF, config=fast_config, tracking_uri=tracking_uri)
    assert _booster_texts(tracking_uri, full) == _booster_texts(tracking_uri, only_past)
    for a, b in zip(full.models, only_past.models, strict=True):
        assert a.metrics == b.metrics  # same data and seed: same numbers (determinism)
        assert a.baseline_metrics == b.baseline_metrics
        assert a.counts == b.counts and a.valid_dates == b.valid_dates
    assert full.data_fingerprint != only_past.data_fingerprint


def test_trades_only_data_trains_with_inactivity_churn(
    brokerage_dir, tmp_path, tracking_uri, fast_config, truncate
):
    trades_only = truncate(brokerage_dir, tmp_path / "trades", "2025-12-31", tables={"trades"})
    result = train(
        trades_only,
        "2025-12-31",
        config=fast_config.with_overrides(trials=0),
        tracking_uri=tracking_uri,
        experiment="trades-only",
    )
    assert result.churn_definition == "inactivity"
    assert result.churn.metrics["roc_auc"] > 0.6
    assert "baseline.recency" not in result.churn.metrics  # baselines are kept apart
    assert result.churn.baseline_metrics["recency"]["roc_auc"] > 0.5


@pytest.fixture(scope="module")
def one_year_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("one-year") / "data"
    write_brokerage(generate_brokerage(250, start="2025-01-01", end="2025-12-31", seed=5), out)
    return out


def test_short_history_picks_snapshots_and_says_so(one_year_dir, tracking_uri, fast_config):
    result = train(
        one_year_dir,
        "2025-12-31",
        churn_horizon=182,
        value_horizon=182,
        config=fast_config.with_overrides(trials=0),
        tracking_uri=tracking_uri,
        experiment="short",
    )
    assert result.churn.valid_dates[-1].isoformat() == "2025-06-30"  # a month end, trading day
    assert len(result.churn.train_dates) + len(result.churn.valid_dates) >= 2
    assert any(n.startswith("churn: ") and "snapshots" in n for n in result.notes)
    assert result.churn.gap_rule == "relaxed" and "relaxed gap rule" in " ".join(result.notes)


def test_a_horizon_longer_than_the_history_is_an_input_error(one_year_dir, tracking_uri):
    with pytest.raises(InputError, match="no value snapshot can be labelled"):
        train(one_year_dir, "2025-12-31", tracking_uri=tracking_uri)
