"""Fixtures for the feature tests: tiny hand-made data directories written to tmp_path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from valuemodel.data.reader import DataSet, open_data

DATE_COLUMNS = {"trade_date", "date", "open_date", "close_date"}


def frame(rows: list[tuple], columns: str) -> pd.DataFrame:
    """A DataFrame from tuples; date columns parsed from ISO strings."""
    df = pd.DataFrame(rows, columns=columns.split())
    for col in DATE_COLUMNS & set(df.columns):
        df[col] = pd.to_datetime(df[col]).dt.date
    return df


def write_tables(path: Path, tables: dict[str, pd.DataFrame], fmt: str = "parquet") -> Path:
    """Write each table as ``<name>.parquet`` (or csv) into ``path``."""
    path.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        if fmt == "csv":
            df.to_csv(path / f"{name}.csv", index=False)
        else:
            df.to_parquet(path / f"{name}.parquet", index=False)
    return path


@pytest.fixture
def make_data(tmp_path: Path) -> Callable[..., DataSet]:
    """``make_data(trades=df, balances=df, ...)`` -> an opened DataSet in a fresh directory."""
    counter = iter(range(1000))

    def make(fmt: str = "parquet", **tables: pd.DataFrame) -> DataSet:
        return open_data(write_tables(tmp_path / f"data{next(counter)}", tables, fmt))

    return make


def row(df: pd.DataFrame, account_id: str, as_of: str | None = None) -> pd.Series:
    """The one row of ``account_id`` (at ``as_of`` when several dates are present)."""
    sel = df.account_id == account_id
    if as_of is not None:
        sel &= df.as_of == pd.Timestamp(as_of)
    found = df[sel]
    assert len(found) == 1, f"expected one row for {account_id} {as_of}, got {len(found)}"
    return found.iloc[0]


GENERATED_START, GENERATED_END = "2024-07-01", "2025-06-30"


@pytest.fixture(scope="session")
def generated_dir(tmp_path_factory) -> Path:
    """A small generated brokerage (all seven tables), written once per session."""
    generate = pytest.importorskip("valuemodel.data.generate")
    tables = generate.generate_brokerage(60, start=GENERATED_START, end=GENERATED_END, seed=7)
    out = tmp_path_factory.mktemp("generated")
    generate.write_brokerage(tables, out)
    return out


@pytest.fixture(scope="session")
def full_features(generated_dir) -> pd.DataFrame:
    """All features of the generated brokerage at two as-of dates."""
    from valuemodel.features import build_features

    return build_features(open_data(generated_dir), ["2025-03-31", "2025-06-30"])
