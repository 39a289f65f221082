"""Small generated data sets and a tracking store per test module for the training tests."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from valuemodel.data.generate import generate_brokerage, write_brokerage
from valuemodel.training.config import parse_config

FAST = {
    "tuning": {"trials": 2},
    "lightgbm": {"max_rounds": 150, "early_stopping_rounds": 20},
}


@pytest.fixture(scope="session")
def fast_config():
    return parse_config(FAST)


@pytest.fixture(scope="session")
def brokerage_dir(tmp_path_factory) -> Path:
    """Two years (2024-2025) of all seven tables for 300 accounts."""
    out = tmp_path_factory.mktemp("data") / "brokerage"
    write_brokerage(generate_brokerage(300, seed=11), out)
    return out


@pytest.fixture(scope="module")
def tracking_uri(tmp_path_factory) -> str:
    """A tracking store of the test module's own: versions never depend on other modules."""
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


@pytest.fixture(scope="session")
def truncate():
    """``truncate(src, dst, as_of, tables=None)``: see :func:`truncate_data`."""
    return truncate_data


def truncate_data(src: Path, dst: Path, as_of: str, tables=None) -> Path:
    """Copy a data directory keeping only rows dated on or before ``as_of``."""
    from valuemodel.data.schema import TABLES

    dst.mkdir(parents=True)
    cutoff = pd.Timestamp(as_of)
    for path in sorted(src.glob("*.parquet")):
        name = path.stem
        if tables is not None and name not in tables:
            continue
        frame = pd.read_parquet(path)
        column = TABLES[name].date_column
        frame = frame[pd.to_datetime(frame[column]) <= cutoff]
        if name == "accounts" and "close_date" in frame:
            closed = pd.to_datetime(frame["close_date"])
            frame = frame.assign(close_date=frame["close_date"].where(closed <= cutoff))
        frame.to_parquet(dst / path.name, index=False)
    return dst
