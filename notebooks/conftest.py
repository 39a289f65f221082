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
    The units of ``LONGEST_FIRST`` start first, then the others by their number of tests."""
    if config.getoption("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class LongestFirst(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if nodeid.startswith("notebooks/"):
                return "notebooks"
            return super()._split_scope(nodeid)

        def schedule(self) -> None:
            if self.collection is None and self.registered_collections:
                collections = self.registered_collections
                ordered = _longest_first(next(iter(collections.values())), self._split_scope)
                for node, collection in collections.items():
                    if sorted(collection) == sorted(ordered):  # else xdist reports the mismatch
                        collections[node] = ordered
                self.config.option.loadscopereorder = False  # keep this order
            super().schedule()

    return LongestFirst(config, log)


def _longest_first(collection, scope_of) -> list[str]:
    scopes: dict[str, list[str]] = {}
    for nodeid in collection:
        scopes.setdefault(scope_of(nodeid), []).append(nodeid)

    def key(item):
        scope, nodeids = item
        known = LONGEST_FIRST.index(scope) if scope in LONGEST_FIRST else len(LONGEST_FIRST)
        return known, -len(nodeids)

    return [nodeid for _, nodeids in sorted(scopes.items(), key=key) for nodeid in nodeids]
