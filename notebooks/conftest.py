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


def pytest_xdist_make_scheduler(config, log):
    """Under ``--dist loadscope`` (``make test``), the notebooks are one unit of work: they
    read one workspace, which the first of them builds; on separate workers the others would
    only wait for that build (a file lock, ``valuemodel.workspace``) while holding a worker."""
    if config.getoption("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class NotebooksTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if nodeid.startswith("notebooks/"):
                return "notebooks"
            return super()._split_scope(nodeid)

    return NotebooksTogether(config, log)
