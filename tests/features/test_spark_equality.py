"""The same feature and label definitions give the same frames on PySpark and DuckDB."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from valuemodel.data.reader import open_data
from valuemodel.features import build_features, build_labels
from valuemodel.features.build import _features
from valuemodel.features.sample import AccountSample

pytestmark = [pytest.mark.spark, pytest.mark.filterwarnings("ignore::FutureWarning")]
DATES = ["2025-03-31", "2025-06-30"]
END = "2025-06-30"


@pytest.fixture(scope="module")
def spark_con():
    pytest.importorskip("pyspark", reason="pyspark is not installed (pip install .[spark])")
    if shutil.which("java") is None:
        pytest.skip("Java is not installed (PySpark needs a JVM)")
    import ibis
    from pyspark.sql import SparkSession

    from valuemodel.engine import spark_settings

    session = (
        SparkSession.builder.master("local[1]")
        .appName("valuemodel-tests")
        # the settings of the sessions the command line builds (Arrow, the driver's JIT)
        .config(map=spark_settings("local[1]"))
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.default.parallelism", "1")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    yield ibis.pyspark.connect(session)
    session.stop()


def assert_same(spark: pd.DataFrame, duck: pd.DataFrame) -> None:
    assert list(spark.columns) == list(duck.columns)
    pd.testing.assert_frame_equal(
        spark, duck, check_exact=False, rtol=1e-9, atol=1e-12, check_categorical=True
    )


def test_features_are_equal_on_spark_and_duckdb(spark_con, generated_dir, full_features):
    spark = build_features(open_data(generated_dir, con=spark_con), DATES)
    assert len(spark) > 0
    trading_days = {"trading_days_since_last_login", "trades_5td", "login_days_10td"}
    assert trading_days <= set(spark.columns)  # the session joins and windows, on Spark too
    assert_same(spark, full_features)


def test_labels_are_equal_on_spark_and_duckdb(spark_con, generated_dir):
    # the second on an account sample: both engines keep the same accounts (MD5 of the ID)
    for definition, sample in (("assets", None), ("inactivity", AccountSample(0.5, seed=3))):
        args = (DATES[0], 30, 60, definition)
        spark = build_labels(
            open_data(generated_dir, con=spark_con), *args, end=END, sample=sample
        )
        duck = build_labels(open_data(generated_dir), *args, end=END, sample=sample)
        assert_same(spark, duck)
        if sample is not None:
            assert len(duck) > 10 and duck["account_id"].map(sample.kept).all()


def test_spark_reads_each_table_from_its_files_once_for_the_features(spark_con, generated_dir):
    # Spark reuses only identical subplans: without the cache, the feature plan read and
    # normalised the same files 54 times (cashflows 17) for one as-of date
    data = open_data(generated_dir, con=spark_con)
    expr = _features(data.until(END), DATES, None)
    spark_con._run_pre_execute_hooks(expr)
    query = spark_con._session.sql(spark_con.compile(expr))
    plan = query._jdf.queryExecution().executedPlan().toString()
    from_files = plan.count("FileScan") - plan.count("InMemoryTableScan")
    assert from_files <= len(data.files)
    assert "BatchEvalPython" not in plan and "ArrowEvalPython" not in plan
