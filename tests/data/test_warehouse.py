"""``--data spark:DB``: the contract's tables registered in a Spark catalog."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from typer.testing import CliRunner

from valuemodel.cli import app
from valuemodel.data import open_data
from valuemodel.data.generate import generate_brokerage, write_brokerage
from valuemodel.errors import InputError
from valuemodel.features import build_features

AS_OF = "2024-09-30"


def test_warehouse_tables_need_the_spark_engine(tmp_path):
    with pytest.raises(InputError, match=r"--data spark:broker: warehouse tables need --engine"):
        open_data("spark:broker")


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    pytest.importorskip("pyspark", reason="pyspark is not installed (pip install .[spark])")
    if shutil.which("java") is None:
        pytest.skip("Java is not installed (PySpark needs a JVM)")
    from pyspark.sql import SparkSession

    from valuemodel.engine import spark_settings

    warehouse = tmp_path_factory.mktemp("warehouse")
    session = (
        SparkSession.builder.master("local[1]")
        .appName("valuemodel-warehouse-test")
        # the settings of the sessions the command line builds (Arrow, the driver's JIT)
        .config(map=spark_settings("local[1]"))
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.warehouse.dir", str(warehouse))
        .getOrCreate()
    )
    yield session
    session.stop()


@pytest.mark.spark
def test_features_from_a_spark_database_equal_the_files(spark, tmp_path):
    files = tmp_path / "files"
    write_brokerage(generate_brokerage(60, start="2024-01-01", end="2024-12-31", seed=5), files)
    spark.sql("CREATE DATABASE IF NOT EXISTS broker")
    for path in files.glob("*.parquet"):
        spark.read.parquet(str(path)).write.mode("overwrite").saveAsTable(f"broker.{path.stem}")

    out = tmp_path / "features.parquet"
    args = ["features", "--engine", "spark", "--data", "spark:broker", "--as-of", AS_OF]
    result = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    expected = build_features(open_data(files).until(AS_OF), AS_OF)
    pd.testing.assert_frame_equal(
        pd.read_parquet(out), expected, check_exact=False, rtol=1e-9, atol=1e-12
    )

    missing = CliRunner().invoke(app, ["validate", "--engine", "spark", "--data", "spark:nope"])
    assert missing.exit_code == 2
    assert "spark:nope" in missing.output
