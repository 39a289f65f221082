"""The conformance corpus: data as brokerages export it.

Each test builds one export shape from a small generated brokerage and asserts either exactly
the features of the clean data, or the exact message (docs/data-contract.md, "Export shapes").
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from valuemodel.data import open_data, validate
from valuemodel.data.generate import generate_brokerage, write_brokerage
from valuemodel.errors import InputError
from valuemodel.features import build_features

pytestmark = pytest.mark.slow  # each shape builds the features of a generated brokerage
AS_OF = "2024-09-30"
TABLE_NAMES = ("accounts", "trades", "balances", "cashflows", "positions", "logins", "revenue")


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    generated = generate_brokerage(120, start="2024-01-01", end="2024-12-31", seed=23)
    return {name: frame.copy() for name, frame in generated.items()}


@pytest.fixture(scope="module")
def clean_dir(tables, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("clean")
    write_brokerage(tables, out)
    return out


@pytest.fixture(scope="module")
def clean_features(clean_dir) -> pd.DataFrame:
    features, report = features_of(clean_dir)
    assert report.ok and not report.normalised
    return features


def features_of(path: Path, **validate_options) -> tuple[pd.DataFrame, object]:
    data = open_data(path)
    report = validate(data, **validate_options)
    report.raise_for_errors()
    return build_features(data.until(AS_OF), AS_OF), report


def copy_of(clean_dir: Path, tmp_path: Path, name: str = "data") -> Path:
    out = tmp_path / name
    shutil.copytree(clean_dir, out)
    return out


def notes(report) -> list[str]:
    return [str(p) for p in report.normalised]


def assert_same(left: pd.DataFrame, right: pd.DataFrame) -> None:
    assert len(left) > 50
    pd.testing.assert_frame_equal(
        left.reset_index(drop=True), right.reset_index(drop=True), check_exact=False, rtol=1e-12
    )


def split_into_lots(positions: pd.DataFrame) -> pd.DataFrame:
    """Every position as two lots of half its value (halves of a float add up exactly)."""
    half = positions.assign(
        market_value=positions.market_value / 2, cost_basis=positions.cost_basis / 2
    )
    return pd.concat([half, half], ignore_index=True).sort_values(["account_id", "date"])


def test_several_lots_of_one_symbol_are_summed_with_one_note(tables, tmp_path, clean_features):
    out = tmp_path / "lots"
    write_brokerage({**tables, "positions": split_into_lots(tables["positions"])}, out)
    features, report = features_of(out)
    assert_same(features, clean_features)
    n = len(tables["positions"])
    assert notes(report) == [
        f"positions.parquet, column 'symbol': several rows for one account_id + date + symbol "
        f"(lots or custody seats): summed into {n:,} ({2 * n:,} rows); e.g. "
        + "; ".join(report.normalised[0].examples)
    ]


def beijing_morning(dates: pd.Series) -> pa.Array:
    stamps = pd.to_datetime(dates.astype(str)) + pd.Timedelta(hours=7, minutes=30)
    return pa.array(stamps.dt.tz_localize("Asia/Shanghai"), type=pa.timestamp("us", "UTC"))


def test_time_zone_aware_trade_times_fall_on_the_brokerages_date(tables, tmp_path, clean_features):
    # 07:30 in Beijing is 23:30 of the day before in UTC: truncating in UTC would shift it.
    out = tmp_path / "tz"
    write_brokerage(tables, out)
    trades = pq.read_table(out / "trades.parquet")
    stamps = beijing_morning(tables["trades"].trade_date)
    trades = trades.set_column(trades.schema.get_field_index("trade_date"), "trade_date", stamps)
    pq.write_table(trades, out / "trades.parquet")
    features, report = features_of(out)
    assert_same(features, clean_features)
    assert notes(report) == [
        f"trades.parquet, column 'trade_date': time-zone-aware timestamps: dated in "
        f"Asia/Shanghai (the brokerage's time zone) ({len(stamps):,} rows)"
    ]


def in_chinese(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    side = {"buy": "买入", "sell": "卖出"}
    product = {"stock": "股票", "fund": "基金", "bond": "债券", "option": "期权"}
    trades = tables["trades"].astype({"side": str, "product": str})
    trades["side"] = trades.side.map(side)
    trades["product"] = trades["product"].map(lambda p: product.get(p, p))
    accounts = tables["accounts"].copy()
    accounts["gender"] = accounts.gender.map({"M": "男", "F": "女"})
    return {**tables, "trades": trades, "accounts": accounts}


def test_chinese_labels_are_read_as_the_contracts_values(tables, tmp_path, clean_features):
    out = tmp_path / "zh"
    write_brokerage(in_chinese(tables), out)
    features, report = features_of(out)
    assert_same(features, clean_features)
    columns = sorted(p.column for p in report.normalised)
    assert columns == ["gender", "product", "side"]
    side = next(p for p in report.normalised if p.column == "side")
    assert side.count == len(tables["trades"])
    assert side.examples == ("'买入' -> buy", "'卖出' -> sell")


def write_csv(frame: pd.DataFrame, path: Path, encoding: str = "utf-8", sep: str = ",") -> None:
    frame.to_csv(path, index=False, encoding=encoding, sep=sep)


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig"])
def test_csv_in_chinese_encodings_is_read_correctly(
    encoding, tables, clean_dir, tmp_path, clean_features
):
    out = copy_of(clean_dir, tmp_path)
    (out / "trades.parquet").unlink()
    write_csv(in_chinese(tables)["trades"], out / "trades.csv", encoding)
    features, report = features_of(out)
    assert_same(features, clean_features)
    expected = "read as GB18030 text (includes GBK) and converted to UTF-8"
    assert (expected in notes(report)[0]) == encoding.startswith("gb")


def test_a_csv_in_an_unknown_encoding_says_encoding_and_how_to_fix_it(tmp_path, tables):
    out = tmp_path / "utf16"
    out.mkdir()
    write_csv(in_chinese(tables)["trades"].head(20), out / "trades.csv", "utf-16")
    with pytest.raises(InputError) as caught:
        validate(open_data(out))
    assert str(caught.value) == (
        f"{out / 'trades.csv'}: cannot be read as text in encoding UTF-8 or GB18030; save it "
        "as UTF-8, or give its encoding with --encoding (e.g. --encoding gbk)"
    )


def test_revenue_corrections_with_a_negative_amount_are_accepted_and_summed(
    tables, tmp_path, clean_features
):
    revenue = tables["revenue"]
    first = revenue[pd.to_datetime(revenue.date.astype(str)) <= AS_OF].iloc[0]
    correction = first.copy()
    correction["amount"] = -first.amount
    out = tmp_path / "corrections"
    write_brokerage({**tables, "revenue": pd.concat([revenue, correction.to_frame().T])}, out)
    features, report = features_of(out)
    assert report.ok
    row = features.set_index("account_id").loc[first.account_id]
    before = clean_features.set_index("account_id").loc[first.account_id]
    assert row["revenue_365d"] == pytest.approx(before["revenue_365d"] - first.amount)


def test_column_names_in_any_case_and_with_spaces_are_matched(tables, tmp_path, clean_features):
    out = tmp_path / "names"
    renamed = {c: f" {c.upper()} " for c in tables["trades"].columns}
    write_brokerage({**tables}, out)
    trades = pq.read_table(out / "trades.parquet").rename_columns(
        [renamed[c] for c in tables["trades"].columns]
    )
    pq.write_table(trades, out / "trades.parquet")
    features, report = features_of(out)
    assert_same(features, clean_features)
    assert notes(report)[0].startswith(
        "trades.parquet: columns read by the contract's names: ' ACCOUNT_ID ' as account_id, "
    )


def test_two_spellings_of_one_column_are_ambiguous(tmp_path, tables):
    trades = tables["trades"].head(10).assign(AMOUNT=1.0)
    trades = trades.rename(columns={"amount": "Amount "})
    out = tmp_path / "ambiguous"
    out.mkdir()
    trades.to_parquet(out / "trades.parquet")
    with pytest.raises(InputError, match=r"columns 'Amount ' and 'AMOUNT' both name 'amount'"):
        validate(open_data(out))


def test_a_balance_row_repeated_exactly_is_kept_once(tables, tmp_path, clean_features):
    balances = tables["balances"]
    out = tmp_path / "repeat"
    write_brokerage({**tables, "balances": pd.concat([balances, balances.head(7)])}, out)
    features, report = features_of(out)
    assert_same(features, clean_features)
    assert [str(p) for p in report.normalised] == [
        "balances.parquet: rows repeated exactly (an export that ran twice?): each kept once "
        "(14 rows)"
    ]


def test_two_different_balance_snapshots_for_one_day_still_reject(tables, tmp_path):
    balances = tables["balances"]
    other = balances.head(1).assign(total_assets=balances.total_assets.iloc[0] + 1)
    out = tmp_path / "conflict"
    write_brokerage({**tables, "balances": pd.concat([balances, other])}, out)
    report = validate(open_data(out))
    (error,) = [str(e) for e in report.errors]
    first = balances.iloc[0]
    assert error == (
        "balances.parquet, column 'date': duplicate account_id + date (must be unique) (2 rows); "
        f"e.g. account_id='{first.account_id}', date='{pd.Timestamp(first.date).date()}' (2 times)"
    )


def test_integer_account_ids_are_read_as_their_decimal_text(tables, tmp_path, clean_features):
    def numeric(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(account_id=frame.account_id.str[1:].astype("int64"))

    out = tmp_path / "ints"
    write_brokerage({n: numeric(tables[n]) for n in TABLE_NAMES}, out)
    features, _ = features_of(out)
    expected = clean_features.assign(account_id=clean_features.account_id.str[1:].str.lstrip("0"))
    assert_same(features, expected)


def test_dates_stored_as_text_in_parquet_are_parsed(tables, tmp_path, clean_features):
    out = tmp_path / "text-dates"
    as_text = {
        n: tables[n].assign(
            **{
                c: tables[n][c].astype(str)
                for c in ("date", "trade_date")
                if c in tables[n].columns
            }
        )
        for n in TABLE_NAMES
    }
    write_brokerage(as_text, out)
    features, _ = features_of(out)
    assert_same(features, clean_features)


def test_semicolon_csv_columns_in_another_order_and_extra_files(
    tables, clean_dir, tmp_path, clean_features
):
    out = copy_of(clean_dir, tmp_path)
    (out / "trades.parquet").unlink()
    trades = tables["trades"]
    write_csv(trades[list(reversed(trades.columns))], out / "trades.csv", sep=";")
    (out / "clients_export.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    features, report = features_of(out)
    assert_same(features, clean_features)
    assert [str(w) for w in report.warnings] == [
        "clients_export.csv: not a table of the data contract: ignored"
    ]


def test_an_empty_optional_table_is_treated_as_absent(tables, clean_dir, tmp_path):
    out = copy_of(clean_dir, tmp_path)
    tables["logins"].head(0).to_parquet(out / "logins.parquet")
    features, report = features_of(out)
    assert [str(w) for w in report.warnings] == [
        "logins.parquet: table is empty (no rows): treated as absent"
    ]
    without = copy_of(clean_dir, tmp_path, "without")
    (without / "logins.parquet").unlink()
    assert_same(features, features_of(without)[0])


def broken_trades(trades: pd.DataFrame) -> pd.DataFrame:
    """Six rows that break row rules: three negative amounts, three unparsable dates."""
    bad = trades.astype({"trade_date": str}).copy()
    bad.loc[bad.index[[3, 30, 300]], "amount"] = -5.0
    bad.loc[bad.index[[4, 40, 400]], "trade_date"] = "2024-13-45"
    return bad


def test_six_broken_rows_reject_without_quarantine_and_are_moved_with_it(
    tables, clean_dir, tmp_path
):
    out = copy_of(clean_dir, tmp_path)
    trades = broken_trades(tables["trades"])
    trades.to_parquet(out / "trades.parquet", index=False)
    report = validate(open_data(out))
    assert [e.count for e in report.errors] == [3, 3]
    quarantine = tmp_path / "quarantine"
    assert not quarantine.exists()

    features, report = features_of(out, quarantine=quarantine)
    moved = pd.read_parquet(quarantine / "trades.parquet")
    assert len(moved) == 6
    assert sorted(moved.rule.unique()) == [
        "amount: breaks rule amount > 0",
        "trade_date: not a date (expected YYYY-MM-DD)",
    ]
    assert report.quarantined == {"trades.parquet": 6}

    kept = tmp_path / "kept"
    shutil.copytree(clean_dir, kept)
    good = ~trades.index.isin(trades.index[[3, 30, 300, 4, 40, 400]])
    trades[good].to_parquet(kept / "trades.parquet", index=False)
    assert_same(features, features_of(kept)[0])


def test_too_many_bad_rows_reject_even_with_quarantine(tables, clean_dir, tmp_path):
    out = copy_of(clean_dir, tmp_path)
    broken_trades(tables["trades"]).to_parquet(out / "trades.parquet", index=False)
    quarantine = tmp_path / "quarantine"
    report = validate(open_data(out), quarantine=quarantine, max_bad_share=0.0001)
    assert str(report.errors[-1]) == (
        f"trades.parquet: 6 of {len(tables['trades']):,} rows break a row rule, more than "
        "--max-bad-share 0.0001: the table is rejected, not quarantined"
    )
    assert not quarantine.exists()


@pytest.mark.parametrize("suffix", ["parquet", "csv"])
def test_two_spellings_in_another_case_only_are_ambiguous_too(tmp_path, tables, suffix):
    # DuckDB reads `Amount`, `AMOUNT` as `Amount`, `AMOUNT_1`: the file's own names decide
    trades = tables["trades"].head(10).rename(columns={"amount": "Amount"}).assign(AMOUNT=1.0)
    out = tmp_path / "ambiguous"
    out.mkdir()
    if suffix == "csv":
        trades.to_csv(out / "trades.csv", index=False)
    else:
        trades.to_parquet(out / "trades.parquet")
    with pytest.raises(InputError, match=r"columns 'Amount' and 'AMOUNT' both name 'amount'"):
        validate(open_data(out))


def test_a_column_named_like_an_engine_rename_is_read_as_written(tmp_path, tables):
    # `amount_1` beside `amount` is an extra column, not a second spelling of `amount`
    trades = tables["trades"].head(10).assign(amount_1=1.0)
    out = tmp_path / "extra"
    out.mkdir()
    trades.to_csv(out / "trades.csv", index=False)
    assert validate(open_data(out)).ok


def test_text_times_with_a_utc_offset_are_dated_and_reported(tables, tmp_path, clean_features):
    # the same mornings as text in a CSV, half with their offset, half in UTC ("Z")
    out = tmp_path / "tz_text"
    write_brokerage(tables, out)
    stamps = pd.Series(beijing_morning(tables["trades"].trade_date).to_pandas())
    text = stamps.dt.tz_convert("Asia/Shanghai").dt.strftime("%Y-%m-%dT%H:%M:%S+08:00")
    utc = stamps.dt.strftime("%Y-%m-%d %H:%M:%SZ")
    half = len(text) // 2
    trades = pd.read_parquet(out / "trades.parquet")
    trades["trade_date"] = pd.concat([text.iloc[:half], utc.iloc[half:]]).to_numpy()
    (out / "trades.parquet").unlink()
    trades.to_csv(out / "trades.csv", index=False)
    features, report = features_of(out)
    assert_same(features, clean_features)
    assert notes(report) == [
        f"trades.csv, column 'trade_date': timestamps with a UTC offset: dated in "
        f"Asia/Shanghai (the brokerage's time zone) ({len(trades):,} rows)"
    ]
