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
