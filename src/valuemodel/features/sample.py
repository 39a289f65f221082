"""A seeded share of the accounts, drawn by the engine before any row reaches Python.

Training reads the features and labels of every account at about twenty snapshot dates. At
100,000 accounts that is 2.3 million rows and about 12 GB in memory; a brokerage ten times
larger cannot bring them to one machine, and on Spark the driver must hold no per-account data
it does not need. :class:`AccountSample` keeps a share of the accounts instead: the engine
filters the finished feature (and label) table, so each kept account's values are exactly those
of a full build (the RFM quintiles and percentile ranks are still taken among the whole
population at each date), and all of a kept account's snapshots stay together (the held-out
half, the refit and the campaigns read an account across dates).

An account is kept when the first 8 hex digits of ``md5(account_id + "#" + seed)`` fall below
``share`` of the range: the same accounts on DuckDB and Spark (both compute MD5 as lowercase
hex), on every run, whatever the row order or partitioning. The sample is by account, not
stratified by label: a label belongs to an account at a date, and splitting an account's
snapshots between kept and dropped would break the out-of-time split. The share of churners
in the sample is the population's within sampling error (see the training notes).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import ibis

DIGITS = 8
_RANGE = 16**DIGITS


@dataclass(frozen=True)
class AccountSample:
    """Keep a ``share`` (0 < share < 1) of the accounts, chosen by a hash with ``seed``."""

    share: float
    seed: int

    def __post_init__(self) -> None:
        if not 0 < self.share < 1:
            raise ValueError(f"an account sample's share must be in (0, 1), got {self.share}")

    @property
    def _threshold(self) -> str:
        return f"{max(1, int(self.share * _RANGE)):0{DIGITS}x}"

    def keeps(self, account_id: ibis.Value) -> ibis.BooleanValue:
        """Whether each account is in the sample (an engine expression)."""
        salted = account_id.cast("string") + f"#{self.seed}"
        return salted.hexdigest("md5").substr(0, DIGITS) < self._threshold

    def filter(self, table: ibis.Table) -> ibis.Table:
        """The rows of ``table`` (with an ``account_id`` column) whose account is kept."""
        return table.filter(self.keeps(table.account_id))

    def kept(self, account_id: str) -> bool:
        """:meth:`keeps` for one account, in Python (the same accounts)."""
        digest = hashlib.md5(f"{account_id}#{self.seed}".encode()).hexdigest()
        return digest[:DIGITS] < self._threshold


def sample_for(rows: int, cap: int, seed: int) -> AccountSample | None:
    """The sample that brings ``rows`` (accounts x dates) to about ``cap``; None when they fit."""
    return AccountSample(cap / rows, seed) if rows > cap else None
