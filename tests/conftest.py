"""Shared fixtures: a 20-account brokerage made by the generator, small enough for fast tests."""

from __future__ import annotations

import os
import tempfile

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
