"""The real-export acceptance checks through the command line (``valuemodel features``)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from tests.data.test_export_shapes import (
    AS_OF,
    beijing_morning,
    broken_trades,
    in_chinese,
    split_into_lots,
)
from tests.test_cli import run
from valuemodel.data.generate import generate_brokerage, write_brokerage

pytestmark = pytest.mark.slow  # each test trains models or runs whole commands


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return generate_brokerage(220, start="2024-01-01", end="2024-12-31", seed=29)


def features(data: Path, out: Path, *options: str) -> subprocess.CompletedProcess:
    return run("features", "--data", str(data), "--as-of", AS_OF, "--out", str(out), *options)


def test_an_export_with_lots_beijing_times_chinese_labels_and_gbk_gives_the_clean_features(
    tables, tmp_path
):
    clean = tmp_path / "clean"
    write_brokerage(tables, clean)
    assert features(clean, tmp_path / "clean.parquet").returncode == 0

    export = tmp_path / "export"
    zh = in_chinese(tables)
    write_brokerage({**zh, "positions": split_into_lots(tables["positions"])}, export)
    (export / "trades.parquet").unlink()
    trades = zh["trades"].copy()
    trades["trade_date"] = pd.Series(beijing_morning(tables["trades"].trade_date).to_pandas())
    trades["trade_date"] = trades.trade_date.dt.tz_convert("Asia/Shanghai").dt.strftime(
        "%Y-%m-%dT%H:%M:%S%z"
    )
    trades.to_csv(export / "trades.csv", index=False, encoding="gbk")
    result = features(export, tmp_path / "export.parquet")
    assert result.returncode == 0, result.stderr
    for expected in ("lots or custody seats", "GB18030", "'买入' -> buy", "'男' -> M"):
        assert expected in result.stderr
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "export.parquet"), pd.read_parquet(tmp_path / "clean.parquet")
    )


def test_six_broken_trades_exit_2_without_quarantine_and_0_with_it(tables, tmp_path):
    data = tmp_path / "data"
    write_brokerage(tables, data)
    trades = broken_trades(pq.read_table(data / "trades.parquet").to_pandas())
    trades.to_parquet(data / "trades.parquet", index=False)
    out, quarantine = tmp_path / "features.csv", tmp_path / "quarantine"

    rejected = features(data, out)
    assert rejected.returncode == 2
    assert "breaks rule amount > 0 (3 rows)" in rejected.stderr
    assert not out.exists() and not quarantine.exists()

    accepted = features(data, out, "--quarantine", str(quarantine))
    assert accepted.returncode == 0, accepted.stderr
    assert f"quarantined: 6 rows of trades.parquet -> {quarantine / 'trades.parquet'}" in (
        accepted.stderr.replace("\n", "")
    )
    assert len(pd.read_parquet(quarantine / "trades.parquet")) == 6

    kept = tmp_path / "kept"
    shutil.copytree(data, kept)
    moved = pd.read_parquet(quarantine / "trades.parquet")
    good = trades.merge(moved[list(trades.columns)], how="left", indicator=True)
    good[good._merge == "left_only"].drop(columns="_merge").to_parquet(
        kept / "trades.parquet", index=False
    )
    assert features(kept, tmp_path / "kept.csv").returncode == 0
    pd.testing.assert_frame_equal(pd.read_csv(out), pd.read_csv(tmp_path / "kept.csv"))
