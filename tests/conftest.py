"""Shared fixtures: a 20-account brokerage made by the generator, small enough for fast tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from valuemodel.data.generate import generate_brokerage, write_brokerage

TINY_ACCOUNTS = 20


def pytest_configure(config):
    # Records of checked input (valuemodel.data.record) go to a folder of this test session,
    # never to the user's cache; each test gets its own (below), session fixtures share one.
    os.environ["VALUEMODEL_CACHE"] = tempfile.mkdtemp(prefix="valuemodel-cache-")


@pytest.fixture(autouse=True)
def _own_check_records(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("VALUEMODEL_CACHE", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="session")
def tiny_brokerage(tmp_path_factory):
    """A data directory of all seven tables for 20 accounts over two years (seed 5)."""
    out = tmp_path_factory.mktemp("tiny") / "data"
    write_brokerage(generate_brokerage(TINY_ACCOUNTS, "2024-01-01", "2025-12-31", seed=5), out)
    return out


# Tests that train models or drive whole commands take minutes: `make test-fast` leaves them
# out (`-m "not slow"`), `make test` and CI run them. A test is slow when it uses one of these
# fixtures (each trains models through the CLI or the library) or is marked `slow` itself.
SLOW_FIXTURES = {"trained", "first", "loop", "excluded", "real_models"}


def pytest_collection_modifyitems(items):
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start(command: list[str], log: Path, ready: str, env: dict[str, str]) -> subprocess.Popen:
    """Start one Spark daemon in the foreground and wait (up to 90 s) for ``ready`` in its log."""
    handle = log.open("w")
    process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 90
    while ready not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"{command[1]} did not start:\n{log.read_text()[-2000:]}")
        time.sleep(0.2)
    return process


@pytest.fixture(scope="session")
def spark_cluster(tmp_path_factory):
    """A Spark standalone cluster on 127.0.0.1: a master and one worker (2 cores, 1 GB), started
    with the ``spark-class`` launcher that ships with PySpark and stopped at the end, also when
    a test fails. Yields the environment a command needs to run against it (``SPARK_MASTER``)."""
    pyspark = pytest.importorskip(
        "pyspark", reason="pyspark is not installed (pip install .[spark])"
    )
    if shutil.which("java") is None:
        pytest.skip("Java is not installed (PySpark needs a JVM)")
    home = Path(pyspark.__file__).parent
    logs = tmp_path_factory.mktemp("spark-cluster")
    env = {
        **os.environ,
        "SPARK_HOME": str(home),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_LOG_DIR": str(logs),
        "SPARK_WORKER_DIR": str(logs / "work"),
        # the executors' Python workers run this interpreter (the one with valuemodel installed)
        "PYSPARK_PYTHON": sys.executable,
        # a cluster's settings come from Spark's own configuration, as a user's would; two
        # shuffle partitions for a few hundred accounts (200 by default: 200 tasks a stage);
        # the executors' JVMs, which live a minute here, compile with C1 only, as the
        # driver's does (engine.spark_settings; BENCHMARKS.md, "Spark's fixed cost")
        "PYSPARK_SUBMIT_ARGS": (
            "--conf spark.sql.shuffle.partitions=2 "
            "--conf spark.executor.defaultJavaOptions=-XX:TieredStopAtLevel=1 pyspark-shell"
        ),
    }
    launcher = str(home / "bin" / "spark-class")
    port = _free_port()
    master_url = f"spark://127.0.0.1:{port}"
    daemons: list[subprocess.Popen] = []
    try:
        master = [launcher, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1"]
        master += ["--port", str(port), "--webui-port", str(_free_port())]
        daemons.append(_start(master, logs / "master.log", "ALIVE", env))
        worker = [launcher, "org.apache.spark.deploy.worker.Worker", master_url]
        worker += ["--host", "127.0.0.1", "--cores", "2", "--memory", "1g"]
        worker += ["--webui-port", str(_free_port())]
        daemons.append(_start(worker, logs / "worker.log", "Successfully registered", env))
        yield {**env, "SPARK_MASTER": master_url}
    finally:
        for daemon in reversed(daemons):
            daemon.terminate()
            try:
                daemon.wait(timeout=30)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
