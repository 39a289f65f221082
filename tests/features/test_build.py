"""build_features / feature_expr: shape, dtypes, order, and many as-of dates in one plan."""

from __future__ import annotations

import ibis
import pandas as pd
import pytest

from tests.features.conftest import frame
from valuemodel.data.reader import open_data
from valuemodel.errors import InputError
from valuemodel.features import build_features, feature_expr

DATES = ["2025-03-31", "2025-06-30"]


def test_columns_dtypes_and_order(full_features):
    df = full_features
    assert list(df.columns[:2]) == ["account_id", "as_of"]
    assert df.account_id.dtype == "str" or pd.api.types.is_string_dtype(df.account_id)
    assert df.as_of.dtype == "datetime64[ns]"
    kinds = {str(t) for t in df.dtypes.iloc[2:]}
    assert kinds == {"float64", "category"}
    assert df.equals(df.sort_values(["as_of", "account_id"]).reset_index(drop=True))
    assert not df.duplicated(["account_id", "as_of"]).any()
    assert set(df.as_of) == {pd.Timestamp(d) for d in DATES}


def test_many_as_of_dates_equal_one_at_a_time(generated_dir, full_features):
    data = open_data(generated_dir)
    singles = [build_features(data, d) for d in DATES]
    # RFM and percentile ranks are within each as-of date, so they agree too
    pd.testing.assert_frame_equal(
        pd.concat(singles, ignore_index=True), full_features, check_categorical=False
    )


def test_feature_expr_is_an_unexecuted_ibis_table(generated_dir):
    expr = feature_expr(open_data(generated_dir), DATES)
    assert isinstance(expr, ibis.Table)
    assert "trades_30d" in expr.columns


def test_csv_and_parquet_inputs_give_the_same_features(make_data):
    trades = frame(
        [("a", "2025-06-01", 10.0, 1.0), ("b", "2025-01-01", 20.0, 2.0)],
        "account_id trade_date amount commission",
    )
    parquet = build_features(make_data(trades=trades), "2025-06-30")
    csv = build_features(make_data(fmt="csv", trades=trades), "2025-06-30")
    pd.testing.assert_frame_equal(parquet, csv)


def test_bad_as_of_dates_are_rejected(make_data):
    data = make_data(
        trades=frame([("a", "2025-06-01", 1.0, 0.0)], "account_id trade_date amount commission")
    )
    with pytest.raises(InputError, match="cannot read 'soon' as a date"):
        build_features(data, "soon")
    with pytest.raises(InputError, match="at least one as-of date"):
        build_features(data, [])


def test_to_frame_sorts_arrow_rows_and_maps_categories_like_the_pandas_path():
    from datetime import date

    import numpy as np
    import pyarrow as pa

    from valuemodel.features.build import to_frame

    table = pa.table(
        {
            "account_id": ["b", "a", "c", "a"],
            "as_of": pa.array(
                [date(2025, 1, 31), date(2025, 1, 31), date(2024, 12, 31), date(2024, 12, 31)]
            ),
            "trades_30d": pa.array([3, None, 1, 2], pa.int64()),
            "gender": ["F", "M", None, "X"],  # X is not a known category
            "branch": ["north", "south", "north", None],  # categories: the observed values
        }
    )
    out = to_frame(table, release=True)
    assert out.account_id.tolist() == ["a", "c", "a", "b"]
    assert out.as_of.dt.strftime("%Y-%m-%d").tolist() == [
        "2024-12-31",
        "2024-12-31",
        "2025-01-31",
        "2025-01-31",
    ]
    assert out.trades_30d.dtype == "float64"
    np.testing.assert_array_equal(out.trades_30d.to_numpy(), [2.0, 1.0, np.nan, 3.0])
    assert out.gender.isna().tolist() == [True, True, False, False]  # X and a null
    assert out.gender.tolist()[2:] == ["M", "F"]
    assert list(out.branch.cat.categories) == ["north", "south"]
    pd.testing.assert_frame_equal(out, to_frame(table.to_pandas()))
