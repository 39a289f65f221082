"""The one place that executes engine queries.

Everything else in the package builds Ibis expressions (pure functions of tables); this module
connects to an engine and runs them. DuckDB is the embedded default; any Ibis backend that
supports window functions (PySpark in local mode is tested) can be passed instead.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Any

import duckdb
import ibis
import pandas as pd

from valuemodel.cores import usable_cores


def connect(threads: int | None = None, memory_limit: str | None = None) -> Any:
    """An embedded in-memory DuckDB connection (through Ibis).

    ``threads`` defaults to the ``VALUEMODEL_THREADS`` environment variable, else DuckDB's own
    default (one per core).
    """
    config: dict[str, Any] = {}
    threads = threads or int(os.environ.get("VALUEMODEL_THREADS", "0")) or None
    if threads:
        config["threads"] = threads
    if memory_limit:
        config["memory_limit"] = memory_limit
    con = ibis.duckdb.connect(**config)
    # Library code stays quiet: DuckDB's own progress bar would print over the CLI's. Inside
    # Jupyter DuckDB refuses to touch the setting without ipywidgets; there it prints no
    # terminal bar anyway, so the refusal is harmless.
    with contextlib.suppress(duckdb.Error):
        con.raw_sql("SET enable_progress_bar = false")
    # Hand memory freed by finished operators back to the OS within about a second; without
    # it DuckDB's allocator keeps the query's peak (2.2 GB at 100k accounts, 12 as-of dates)
    # while pandas converts the result, and the two add up.
    con.raw_sql("SET allocator_background_threads = true")
    return con


def connect_spark() -> Any:
    """A PySpark connection (through Ibis) the way Spark users expect to get one.

    Inside ``spark-submit`` or ``pyspark`` the active session is used with its settings;
    otherwise a session is built with master ``$SPARK_MASTER``, else ``local[*]``, and
    :func:`spark_settings`.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the installation
        hint = "pip install 'valuemodel[spark]'"
        raise RuntimeError(f"--engine spark needs pyspark ({hint})") from exc
    session = SparkSession.getActiveSession()
    if session is None:
        master = os.environ.get("SPARK_MASTER", "local[*]")
        if master.startswith("local"):
            # The Python workers run scoring's batches and need this interpreter's packages;
            # PySpark reads the variable when the context starts (a cluster's executors need
            # valuemodel installed in their own Python: docs/scaling.md).
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        builder = SparkSession.builder.appName("valuemodel").master(master)
        session = builder.config(map=spark_settings(master)).getOrCreate()
        session.sparkContext.setLogLevel("ERROR")
    return ibis.pyspark.connect(session)


def spark_settings(master: str) -> dict[str, str]:
    """The settings :func:`connect_spark` builds a session with on ``master`` (settings given
    to ``spark-submit``, in ``PYSPARK_SUBMIT_ARGS``, take precedence over these)."""
    settings = {"spark.ui.showConsoleProgress": "false"}
    # Adaptive execution (Spark's default since 3.2, said here so an older default cannot
    # turn it off): shuffle partitions coalesced to the data's size, skewed joins split.
    for key in ("enabled", "coalescePartitions.enabled", "skewJoin.enabled"):
        settings[f"spark.sql.adaptive.{key}"] = "true"
    # ... cached results included: else a small cached aggregate keeps the 200 shuffle
    # partitions of a cluster's default, and every read of it runs 200 tasks
    settings["spark.sql.optimizer.canChangeCachedPlanOutputPartitioning"] = "true"
    # The small tables made in Python (the as-of calendar, window offsets) go to the JVM
    # as Arrow: without it they are pickled rows that every executor must unpickle in a
    # Python worker, started per task, for each of the plan's dozen uses.
    settings["spark.sql.execution.arrow.pyspark.enabled"] = "true"
    # The driver's JVM compiles its hot code with the quick compiler only (C1): the run of a
    # command is too short for the optimising one (C2) to pay for itself. C2's compiler
    # threads took 38 s of the JVM's 83 s of CPU in a 300-account validate + features (of two
    # cores), and C1 alone took validate from 23 to 13 s, features from 49 to 34 s and the
    # session's start from 10 to 5.5 s (local[*], twice each, interleaved); at 3,000
    # accounts the features still took 75 s of CPU instead of 104-116 s. In local mode the
    # driver's JVM is the executors' too. Spark puts the user's own
    # spark.driver.extraJavaOptions after these, so a -XX:TieredStopAtLevel there wins.
    settings["spark.driver.defaultJavaOptions"] = "-XX:TieredStopAtLevel=1"
    if master.startswith("local"):
        # local mode's one JVM is the driver and the executors: Spark's default heap of
        # 1 GB ran out while scoring caches the features, the scores and the list (4,000
        # accounts); a cluster's executors are sized in its own configuration
        settings["spark.driver.memory"] = "2g"
        # Spark's default of 200 shuffle partitions is meant for clusters; on one machine
        # it costs more in task overhead than the work (a cluster's setting is kept).
        settings["spark.sql.shuffle.partitions"] = str(usable_cores())
        settings["spark.ui.enabled"] = "false"
    return settings


def set_timezone(con: Any, timezone: str) -> None:
    """Run the session of ``con`` in ``timezone``: a time-zone-aware timestamp cast to a date
    then takes the date it has in that zone (DuckDB and Spark alike)."""
    if con.name == "duckdb":
        quoted = timezone.replace("'", "''")
        con.raw_sql(f"SET TimeZone = '{quoted}'")
    elif con.name == "pyspark":
        con._session.conf.set("spark.sql.session.timeZone", timezone)
    else:  # pragma: no cover - other Ibis backends keep their own setting
        raise ValueError(f"cannot set the time zone of a {con.name} connection")


@ibis.udf.scalar.builtin(name="isfinite")
def _isfinite(x: float) -> bool:  # DuckDB's own function
    """False for NaN and the infinities."""


def non_finite(col: ibis.Value, backend: str) -> ibis.Value:
    """Whether a floating-point value is NaN or infinite, answered correctly on ``backend``.

    DuckDB (2.0) folds ``isnan(x)`` to false when the parquet file's statistics give the
    column a finite range, but parquet writers leave NaN out of those statistics, so a NaN
    in the file would pass unseen; its ``isfinite`` reads every value.
    """
    if backend == "duckdb":
        return ~_isfinite(col)
    return col.isnan() | col.isinf()


def execute(expr: ibis.Expr) -> pd.DataFrame | pd.Series | Any:
    """Run an expression on its backend and return pandas (a frame, a column or a scalar)."""
    return expr.execute()


def to_pyarrow(expr: ibis.Table):
    """Run a table expression and return an Arrow table (no pandas copy)."""
    return expr.to_pyarrow()


def materialize(con: Any, name: str, expr: ibis.Table) -> ibis.Table:
    """Compute ``expr`` once into a temporary table on ``con`` and return it.

    A table of the same name is replaced. On DuckDB a temporary table; on Spark the result is
    cached (``persist``, memory and disk: computed by the first query that reads it, then read
    from the executors' cache by the others) until :func:`drop_temporary`. Ibis 12 cannot drop
    a Spark table, nor a DuckDB 2.0 one (``drop_table(..., force=True)`` emits ``DROP TABLE IF
    EXISTS`` without the name), so this module drops them itself.
    """
    if con.name == "pyspark":
        drop_temporary(con, name)
        cached = _SPARK_CACHED[(id(con), name)] = expr.cache()
        return cached
    if con.name != "duckdb":
        return expr
    drop_temporary(con, name)
    return con.create_table(name, expr, temp=True)


_SPARK_CACHED: dict[tuple[int, str], ibis.Table] = {}
"""The tables :func:`materialize` cached on a Spark connection, by (connection, name)."""


def drop_temporary(con: Any, name: str) -> None:
    """Drop the temporary table ``name`` of :func:`materialize`, if it exists."""
    if con.name == "duckdb":
        quoted = '"' + name.replace('"', '""') + '"'
        con.raw_sql(f"DROP TABLE IF EXISTS temp.main.{quoted}")
    cached = _SPARK_CACHED.pop((id(con), name), None)
    if cached is not None:
        cached.release()


# --- Spark: work that stays on the executors ------------------------------------------------
# Scoring with --engine spark keeps every per-account row on the executors: the functions
# below hand the driver only what is bounded by the cluster or the configuration (one number
# per partition, a few per tier, the list's first rows), never one row per account.

SPARK_QUANTILE_ACCURACY = 1_000_000
"""``percentile_approx``'s accuracy: the rank it returns is within n / accuracy of the exact
one (exact below a million non-null values; within 20 ranks at 20 million)."""


def spark_frame(expr: ibis.Table) -> Any:
    """The Spark DataFrame of an Ibis table expression on a PySpark connection (not run)."""
    con = expr._find_backend()
    con._run_pre_execute_hooks(expr)
    return con._session.sql(con.compile(expr))


def spark_persist(frame: Any) -> Any:
    """``frame`` kept on the executors (memory, spilling to disk) once first computed."""
    from pyspark import StorageLevel

    return frame.persist(StorageLevel.MEMORY_AND_DISK)


def spark_broadcast(frame: Any, value: Any) -> Any:
    """``value`` sent once to every executor (read in a task with ``.value``)."""
    return frame.sparkSession.sparkContext.broadcast(value)


def spark_count_known(frame: Any, columns: list[str]) -> dict[str, int]:
    """How many rows of ``frame`` hold a number (not null, not NaN) in each of ``columns``."""
    from pyspark.sql import functions as F

    if not columns:
        return {}
    row = frame.agg(*(F.count(_known(c)).alias(c) for c in columns)).first()
    return {c: int(row[c]) for c in columns}


def _known(column: str) -> Any:
    from pyspark.sql import functions as F

    value = F.col(column).cast("double")
    return F.when(~F.isnan(value), value)


def spark_order_statistics(frame: Any, wanted: dict[str, list[int]], counts: dict[str, int]):
    """The ``k``-th smallest number (0-based, nulls and NaN left out) of each column of
    ``wanted`` (``{column: [k, ...]}``), by ``percentile_approx`` at ``(k + 0.5) / n``: Spark
    returns the smallest value with at least that share of values at or below it, which is
    the ``k``-th exactly when the accuracy reaches ``n`` (``SPARK_QUANTILE_ACCURACY``)."""
    from pyspark.sql import functions as F

    aggs = []
    for column, ks in wanted.items():
        n = counts[column]
        shares = F.array(*(F.lit((k + 0.5) / n) for k in ks))
        aggs.append(
            F.percentile_approx(_known(column), shares, SPARK_QUANTILE_ACCURACY).alias(column)
        )
    if not aggs:
        return {}
    row = frame.agg(*aggs).first()
    return {c: [float(v) for v in row[c]] for c in wanted}


def spark_ranked(frame: Any, order: list[tuple[str, bool]], name: str = "rank") -> Any:
    """``frame`` sorted globally and numbered 1..n in that order (column ``name``), persisted.

    A window over the whole frame would move every row into one task; instead the sort
    range-partitions the rows, each row's place in its partition comes from
    ``monotonically_increasing_id`` (partition index << 33 plus the row's position), and the
    rank adds the rows of the partitions before it: one count per partition reaches the
    driver. ``order``: ``(column, ascending)`` pairs; a column named ``~c`` sorts nulls of
    ``c`` (``c is not null``) first.
    """
    from pyspark.sql import functions as F

    keys = []
    for column, ascending in order:
        key = F.col(column[1:]).isNotNull() if column.startswith("~") else F.col(column)
        keys.append(key.asc() if ascending else key.desc())
    parts = frame.orderBy(*keys).select(
        "*",
        F.spark_partition_id().alias("_part"),
        F.monotonically_increasing_id().alias("_row"),
    )
    parts = spark_persist(parts)
    sizes = sorted((r["_part"], r["count"]) for r in parts.groupBy("_part").count().collect())
    offsets, start = [], 0
    for part, size in sizes:
        offsets += [F.lit(part), F.lit(start)]
        start += size
    if not offsets:
        return parts.withColumn(name, F.lit(0).cast("long")).drop("_part", "_row")
    offset = F.element_at(F.create_map(*offsets), F.col("_part"))
    within = F.col("_row") - F.shiftleft(F.col("_part").cast("long"), 33)
    return parts.withColumn(name, (offset + within + 1).cast("long")).drop("_part", "_row")


def spark_collect(frame: Any) -> pd.DataFrame:
    """A small Spark result (aggregates, a bounded sample) as pandas, through Arrow."""
    return frame.toPandas()


def spark_write_parts(frame: Any, directory: str, fmt: str) -> list[Path]:
    """``frame`` written by the executors as part files under ``directory`` (``text``: its one
    string column, a line per row; ``parquet``), returned in partition order."""
    writer = frame.write.mode("overwrite")
    if fmt == "text":
        writer.text(directory)
    else:
        writer.option("compression", "zstd").parquet(directory)
    return sorted(p for p in Path(directory).glob("part-*") if p.is_file())
