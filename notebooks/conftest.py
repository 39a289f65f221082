"""The notebooks run on a small workspace of their own, never on `make demo`'s."""

import os
import shutil
import tempfile

WORKDIR = "VALUEMODEL_NOTEBOOK_WORKDIR"
_made: list[str] = []


def pytest_configure(config):
    if not os.environ.get(WORKDIR):
        os.environ[WORKDIR] = tempfile.mkdtemp(prefix="valuemodel-notebooks-")
        _made.append(os.environ[WORKDIR])


def pytest_unconfigure(config):
    for path in _made:
        shutil.rmtree(path, ignore_errors=True)
        os.environ.pop(WORKDIR, None)


# The work units that took longest in CI (BENCHMARKS.md, "The test suite"), longest first: a
# Spark JVM or notebook kernels each, and few tests, so xdist's own order (most tests first)
# left them to the end, where one of them ran alone while the other worker sat idle.
LONGEST_FIRST = (
    "tests/test_cli.py",  # the standalone Spark cluster test and a training
    "tests/data/test_warehouse.py",
    "notebooks",
    "tests/features/test_spark_equality.py",
    "tests/test_cli_evaluate.py",
    "tests/test_cli_manager.py",
)


def pytest_xdist_make_scheduler(config, log):
    """Under ``--dist loadscope`` (``make test``), the notebooks are one unit of work: they
    read one workspace, which the first of them builds; on separate workers the others would
    only wait for that build (a file lock, ``valuemodel.workspace``) while holding a worker.
    The units of ``LONGEST_FIRST`` start first, then the others by their number of tests.

    Only the queue of units is reordered, never a worker's collection: the scheduler sends a
    worker the places of its tests in that worker's own collection."""
    if config.getoption("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class LongestFirst(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if nodeid.startswith("notebooks/"):
                return "notebooks"
            return super()._split_scope(nodeid)

        def _assign_work_unit(self, node) -> None:
            _longest_first(self.workqueue)
            super()._assign_work_unit(node)

    return LongestFirst(config, log)


def _longest_first(workqueue) -> None:
    """Move the known long units to the front of xdist's queue (an ``OrderedDict`` of scopes),
    in the order of ``LONGEST_FIRST``."""
    for scope in reversed(LONGEST_FIRST):
        if scope in workqueue:
            workqueue.move_to_end(scope, last=False)
