"""Reading a data directory: types, derived tables and the as-known-by cutoff."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from valuemodel.data import open_data
from valuemodel.errors import InputError


def _dir(tmp_path, **frames: pd.DataFrame):
    for name, frame in frames.items():
        if name.endswith("_csv"):
            frame.to_csv(tmp_path / f"{name[:-4]}.csv", index=False)
        else:
            frame.to_parquet(tmp_path / f"{name}.parquet", index=False)
    return tmp_path


TRADES = pd.DataFrame(
    {
        "account_id": ["007", "007", "010"],
        "trade_date": ["2024-01-02", "2024-02-01", "2024-01-10"],
        "amount": [1000.0, 2000.0, 500.0],
        "commission": [5.0, 6.0, 5.0],
        "broker_note": ["x", "y", "z"],
    }
)


def test_csv_ids_keep_leading_zeros_and_extra_columns_are_ignored(tmp_path):
    data = open_data(_dir(tmp_path, trades_csv=TRADES))
    trades = data.table("trades").execute()
    assert list(trades.account_id) == ["007", "007", "010"]
    assert "broker_note" not in trades.columns
    assert trades.side.isna().all()  # absent optional column reads as null


def test_accounts_are_derived_from_first_activity_when_absent(tmp_path):
    logins = pd.DataFrame({"account_id": ["010"], "date": [pd.Timestamp("2023-12-31")]})
    data = open_data(_dir(tmp_path, trades_csv=TRADES, logins=logins))
    accounts = data.table("accounts").execute().sort_values("account_id")
    assert list(accounts.account_id) == ["007", "010"]
    assert [str(d)[:10] for d in accounts.open_date] == ["2024-01-02", "2023-12-31"]
    assert accounts.close_date.isna().all()
    assert not data.has("accounts")


def test_revenue_is_derived_from_commissions_when_absent(tmp_path):
    data = open_data(_dir(tmp_path, trades_csv=TRADES))
    revenue = data.table("revenue").execute()
    assert revenue.amount.sum() == pytest.approx(16.0)
    assert set(revenue.kind) == {"commission"}


def test_parquet_timestamps_become_dates(tmp_path):
    trades = TRADES.assign(
        trade_date=pd.to_datetime(["2024-01-02 10:00", "2024-02-01 23:59", "2024-01-10 00:00"])
    )
    data = open_data(_dir(tmp_path, trades=trades))
    assert data.table("trades").schema()["trade_date"].is_date()
    assert data.end_date() == date(2024, 2, 1)


def test_until_hides_later_rows_and_later_closures(tmp_path):
    accounts = pd.DataFrame(
        {
            "account_id": ["007", "010"],
            "open_date": ["2023-01-01", "2024-01-05"],
            "close_date": ["2024-03-01", None],
        }
    )
    data = open_data(_dir(tmp_path, trades_csv=TRADES, accounts_csv=accounts)).until("2024-01-31")
    assert len(data.table("trades").execute()) == 2
    known = data.table("accounts").execute().set_index("account_id")
    assert known.close_date.isna().all()  # the closure on 2024-03-01 is not known yet
    assert data.until("2024-01-04").table("accounts").count().execute() == 1


def test_fingerprint_changes_with_content_and_as_of(tmp_path):
    data = open_data(_dir(tmp_path, trades_csv=TRADES))
    first = data.fingerprint("2024-01-31")
    assert first == data.fingerprint("2024-01-31")
    assert first != data.fingerprint("2024-02-29")
    TRADES.assign(amount=[1.0, 2.0, 3.0]).to_csv(tmp_path / "trades.csv", index=False)
    assert first != data.fingerprint("2024-01-31")


def test_a_file_instead_of_a_directory_is_rejected(tmp_path):
    (tmp_path / "x.csv").write_text("a\n")
    with pytest.raises(InputError, match="not a directory"):
        open_data(tmp_path / "x.csv")
