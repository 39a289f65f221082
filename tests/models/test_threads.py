"""LightGBM's thread count under ``num_threads: auto`` and the OpenMP wait policy."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from valuemodel.models.boosting import ROWS_PER_THREAD, fits_at_once, side_by_side, threads_for


def _child(code: str, env: dict[str, str] | None = None) -> str:
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    return run.stdout.strip()


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs Linux CPU affinity")
def test_auto_threads_never_exceed_the_cores_the_process_may_use():
    # A child limited to one core (as `taskset -c 0` or a container's cpuset) gets one
    # LightGBM thread however large the data; this process keeps its cores.
    first = min(os.sched_getaffinity(0))
    code = (
        "import os; from valuemodel.training.config import TrainingConfig; "
        f"os.sched_setaffinity(0, {{{first}}}); "
        "print(TrainingConfig().lightgbm.threads(10_000_000))"
    )
    assert _child(code) == "1"
    assert threads_for("auto", 10_000_000) == len(os.sched_getaffinity(0))


def test_auto_threads_take_one_thread_for_small_fits_and_a_number_pins_them():
    assert threads_for("auto", 0) == 1
    assert threads_for("auto", ROWS_PER_THREAD - 1) == 1
    assert threads_for("auto", 2 * ROWS_PER_THREAD) == min(2, len(os.sched_getaffinity(0)))
    assert threads_for(3, 10) == 3


def test_the_training_config_accepts_auto_or_a_positive_count_and_names_the_key():
    from valuemodel.training import parse_config

    assert parse_config({"lightgbm": {"num_threads": 4}}).lightgbm.threads(10) == 4
    assert parse_config({}).lightgbm.num_threads == "auto"
    with pytest.raises(Exception, match="num_threads"):
        parse_config({"lightgbm": {"num_threads": 0}})


@pytest.mark.parametrize(("given", "expected"), [(None, "PASSIVE"), ("ACTIVE", "ACTIVE")])
def test_importing_valuemodel_makes_openmp_wait_passively_unless_told_otherwise(given, expected):
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if given is not None:
        env["OMP_WAIT_POLICY"] = given
    code = "import os, valuemodel.models.boosting; print(os.environ['OMP_WAIT_POLICY'])"
    assert _child(code, env) == expected


def test_independent_fits_run_side_by_side_only_under_auto_and_keep_their_order():
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert fits_at_once("auto", 100) == cores  # one thread each: one fit per core
    assert fits_at_once("auto", 10_000_000) == 1  # each fit takes every core
    assert fits_at_once(1, 100) == 1  # a pinned count also bounds the cores taken
    assert side_by_side([lambda k=k: k * k for k in range(5)], 2) == [0, 1, 4, 9, 16]
