"""Drift warnings on a trained pair of models: none where nothing changed, one where a third
of the accounts lost half their assets, and one on the training date where a third trade half
as often."""

from __future__ import annotations

import hashlib
import shutil

import pandas as pd
import pytest

from valuemodel.data.generate import generate_brokerage, write_brokerage
from valuemodel.serving.score import score
from valuemodel.training import train
from valuemodel.training.config import parse_config

AS_OF = "2025-06-30"
NEXT_MONTH_END = "2025-07-31"
A_FEW_DAYS_ON = "2025-07-04"
FAST = {"tuning": {"trials": 2}, "lightgbm": {"max_rounds": 150, "early_stopping_rounds": 20}}


def _drift_lines(warnings) -> list[str]:
    marks = ("drift", "normal range", "training population", "market moved")
    return [w for w in warnings if any(mark in w for mark in marks)]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """400 accounts over 2023-2025, models trained as of 2025-06-30 (data through 2025)."""
    root = tmp_path_factory.mktemp("drift")
    data = root / "data"
    write_brokerage(generate_brokerage(400, "2023-01-01", "2025-12-31", seed=21), data)
    uri = f"sqlite:///{root / 'mlflow.db'}"
    train(data, AS_OF, config=parse_config(FAST), tracking_uri=uri)
    return data, uri


def _halve_assets_of_a_third(src, dst, since: str):
    """A copy of ``src`` where every third account (by a hash of its ID) holds half its
    assets (balances and positions) from ``since`` on."""
    shutil.copytree(src, dst)

    def hit(frame: pd.DataFrame) -> pd.Series:
        third = (
            frame["account_id"]
            .astype(str)
            .map(lambda a: int(hashlib.sha256(a.encode()).hexdigest(), 16) % 3 == 0)
        )
        return third & (pd.to_datetime(frame["date"]) > pd.Timestamp(since))

    balances = pd.read_parquet(dst / "balances.parquet")
    rows = hit(balances)
    for column in ("total_assets", "cash", "stock_value", "fund_value", "bond_value"):
        balances.loc[rows, column] = (balances.loc[rows, column] / 2).round(2)
    balances.to_parquet(dst / "balances.parquet", index=False)
    positions = pd.read_parquet(dst / "positions.parquet")
    rows = hit(positions)
    positions.loc[rows, "market_value"] = (positions.loc[rows, "market_value"] / 2).round(2)
    positions.to_parquet(dst / "positions.parquet", index=False)
    return dst


def test_scoring_at_the_training_as_of_date_warns_of_no_drift(trained, tmp_path):
    data, uri = trained
    result = score(data, AS_OF, tmp_path / "list.csv", tracking_uri=uri)
    drift = pd.read_csv(result.drift_path)
    assert _drift_lines(result.warnings) == []
    assert drift["psi"].max() < 1e-6  # the profile is the population at this very date
    assert not drift["beyond_normal"].any()


def test_scoring_at_the_next_month_end_warns_of_no_drift(trained, tmp_path):
    data, uri = trained
    result = score(data, NEXT_MONTH_END, tmp_path / "list.csv", tracking_uri=uri)
    drift = pd.read_csv(result.drift_path)
    assert _drift_lines(result.warnings) == []
    assert (drift["months"] == 1).all() and drift["normal_psi"].notna().any()


def test_scoring_a_few_days_after_the_training_as_of_date_warns_of_no_drift(trained, tmp_path):
    # a few days move returns, deposits and logins as much as a month does: judged by a month
    data, uri = trained
    result = score(data, A_FEW_DAYS_ON, tmp_path / "list.csv", tracking_uri=uri)
    drift = pd.read_csv(result.drift_path)
    assert _drift_lines(result.warnings) == []
    assert (drift["months"] == 0).all() and (drift["days"] == 4).all()


def test_a_third_of_accounts_losing_half_their_assets_warns(trained, tmp_path):
    data, uri = trained
    shifted = _halve_assets_of_a_third(data, tmp_path / "shifted", "2025-05-31")
    result = score(shifted, AS_OF, tmp_path / "list.csv", tracking_uri=uri)
    lines = _drift_lines(result.warnings)
    assert lines and all("market moved" not in line for line in lines)
    drift = pd.read_csv(result.drift_path)
    warned = drift[drift["warn"]]
    assert len(warned) >= 1 and not warned["market"].any()
    assert (warned["psi"] > warned["limit"]).any() or (warned["bins_moved"].abs() > 0.1).all()


def _halve_trading_of_a_third(src, dst, since: str):
    """A copy of ``src`` where every third account (by a hash of its ID) trades on half of
    its trading days after ``since`` (the other half of the days dropped, by a hash of the
    account and the date)."""
    shutil.copytree(src, dst)
    trades = pd.read_parquet(dst / "trades.parquet")

    def digest(text: str) -> int:
        return int(hashlib.sha256(text.encode()).hexdigest(), 16)

    ids = trades["account_id"].astype(str)
    third = ids.map(lambda a: digest(a) % 3 == 0)
    day = pd.to_datetime(trades["trade_date"])
    odd = (ids + day.dt.strftime("%Y-%m-%d")).map(lambda k: digest(k) % 2 == 1)
    drop = third & odd & (day > pd.Timestamp(since))
    trades[~drop].to_parquet(dst / "trades.parquet", index=False)
    return dst


def _trading_shown(drift: pd.DataFrame) -> None:
    trading = drift[drift["feature"].str.contains("trad")]
    shown = trading.sort_values("psi", ascending=False).head(8)
    print(shown[["model", "feature", "psi", "limit", "bins_moved", "normal_bins", "warn"]])


def test_a_third_of_accounts_trading_half_as_often_warns(trained, tmp_path):
    # on the training date: the data up to it changed since training
    data, uri = trained
    shifted = _halve_trading_of_a_third(data, tmp_path / "shifted", "2025-03-31")
    result = score(shifted, AS_OF, tmp_path / "list.csv", tracking_uri=uri)
    drift = pd.read_csv(result.drift_path)
    _trading_shown(drift)
    lines = _drift_lines(result.warnings)
    assert lines and all("market moved" not in line for line in lines)
    assert drift.loc[drift["warn"], "feature"].str.contains("trad|turnover").any()


@pytest.mark.xfail(
    strict=True,
    reason="not caught: a month after training, a third of the accounts trading half as often"
    " looks like all of them trading a sixth less, which the market does from month to month"
    " (docs/drift.md, 'What it does not catch')",
)
def test_a_third_of_accounts_trading_half_as_often_warns_a_month_later(trained, tmp_path):
    data, uri = trained
    shifted = _halve_trading_of_a_third(data, tmp_path / "shifted", "2025-03-31")
    result = score(shifted, NEXT_MONTH_END, tmp_path / "list.csv", tracking_uri=uri)
    _trading_shown(pd.read_csv(result.drift_path))
    assert _drift_lines(result.warnings)
