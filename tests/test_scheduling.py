"""`make test`'s scheduler (notebooks/conftest.py): the known long units start first, and a
module still runs on one worker, so its module-scoped fixtures (trained models) are built once."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[1]


def _scheduler_module():
    spec = importlib.util.spec_from_file_location("_nb_conftest", ROOT / "notebooks/conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MODULE = """
import os, time
import pytest

@pytest.fixture(scope="module")
def built():
    with open(os.environ["BUILT_LOG"], "a") as log:
        log.write(f"{__name__} {os.environ.get('PYTEST_XDIST_WORKER')}\\n")

@pytest.mark.parametrize("i", range(TESTS))
def test_one(built, i):
    time.sleep(0.01)
"""


def test_every_module_runs_on_one_worker_and_the_long_units_first(pytester, tmp_path, monkeypatch):
    pytest.importorskip("xdist")
    scheduler = _scheduler_module()
    path = str(ROOT / "notebooks/conftest.py")
    pytester.makeconftest(
        "import importlib.util\n"
        f"spec = importlib.util.spec_from_file_location('s', {path!r})\n"
        "s = importlib.util.module_from_spec(spec); spec.loader.exec_module(s)\n"
        "pytest_xdist_make_scheduler = s.pytest_xdist_make_scheduler\n"
    )
    # The long units have few tests, so xdist's own order (most tests first) would queue them last.
    long_units = [Path(s).stem for s in scheduler.LONGEST_FIRST if s.count("/") == 1]
    names = {"test_many_a": 12, "test_many_b": 11, "test_many_c": 10, "test_few": 2}
    names |= dict.fromkeys(long_units, 2)
    tests = pytester.mkpydir("tests")
    for name, count in names.items():
        (tests / f"{name}.py").write_text(MODULE.replace("TESTS", str(count)))
    log = tmp_path / "built.log"
    monkeypatch.setenv("BUILT_LOG", str(log))
    result = pytester.runpytest_subprocess(
        "-n", "2", "--dist", "loadscope", "-p", "no:randomly", "-p", "no:nbmake", "tests"
    )  # fmt: skip
    result.assert_outcomes(passed=sum(names.values()))
    built = [line.split() for line in log.read_text().splitlines()]
    modules = [module for module, _ in built]
    assert sorted(modules) == sorted(f"tests.{name}" for name in names)  # each fixture once
    first = {worker: module for module, worker in reversed(built)}
    began = sorted(f"tests.{name}" for name in long_units[:2])
    assert sorted(first.values()) == began  # each worker began with one of the long units
