"""Shared fixtures: a 20-account brokerage made by the generator, small enough for fast tests."""

from __future__ import annotations

import pytest

from valuemodel.data.generate import generate_brokerage, write_brokerage

TINY_ACCOUNTS = 20


@pytest.fixture(scope="session")
def tiny_brokerage(tmp_path_factory):
    """A data directory of all seven tables for 20 accounts over two years (seed 5)."""
    out = tmp_path_factory.mktemp("tiny") / "data"
    write_brokerage(generate_brokerage(TINY_ACCOUNTS, "2024-01-01", "2025-12-31", seed=5), out)
    return out
