"""Turning the simulation's numpy chunks into the contract's eight tables.

``account_id`` and the accounts' attributes become pandas ``str`` columns (Arrow-backed); the
activity tables' few-valued text (side, product, symbol, channel, kind) becomes ``category``,
which keeps 100,000 accounts well under the memory budget. Dates are ``datetime64[ns]`` at
midnight, money ``float64`` rounded to cents. Column names and order come from the schema.
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa

from valuemodel.data._synth_accounts import (
    ACCOUNT_CHANNELS,
    INVESTOR_TYPES,
    LOGIN_CHANNELS,
    N_BRANCHES,
    N_MANAGERS,
    NEVER,
    RISK_LEVELS,
    Population,
)
from valuemodel.data._synth_activity import BUY, SELL
from valuemodel.data._synth_campaigns import Campaigns, contacts_frame
from valuemodel.data._synth_ledger import REVENUE_KINDS
from valuemodel.data._synth_market import PRODUCT_NAMES
from valuemodel.data._synth_world import Recorder
from valuemodel.data.schema import TABLES

_SIDES = {BUY: "buy", SELL: "sell"}
# Simulation column -> contract column, per table.
_RENAME = {
    "trades": {"acct": "account_id", "day": "trade_date"},
    "balances": {
        "acct": "account_id",
        "day": "date",
        "total": "total_assets",
        "stock": "stock_value",
        "fund": "fund_value",
        "bond": "bond_value",
        "debt": "margin_debt",
    },  # fmt: skip
    "cashflows": {"acct": "account_id", "day": "date"},
    "positions": {
        "acct": "account_id",
        "day": "date",
        "value": "market_value",
        "cost": "cost_basis",
    },  # fmt: skip
    "logins": {"acct": "account_id", "day": "date"},
    "revenue": {"acct": "account_id", "day": "date"},
}
_LABELS = {
    ("trades", "side"): [_SIDES[k] for k in sorted(_SIDES)],
    ("trades", "product"): list(PRODUCT_NAMES),
    ("logins", "channel"): list(LOGIN_CHANNELS),
    ("revenue", "kind"): list(REVENUE_KINDS),
}
_INTEGERS = {"quantity": np.int64}
_RECORDED = {
    "trades": ("acct", "day", "amount", "commission", "side", "product", "symbol", "quantity",
               "price"),
    "balances": ("acct", "day", "total", "cash", "stock", "fund", "bond", "debt"),
    "cashflows": ("acct", "day", "amount"),
    "positions": ("acct", "day", "symbol", "value", "cost"),
    "logins": ("acct", "day", "channel"),
    "revenue": ("acct", "day", "amount", "kind"),
}  # fmt: skip


def account_ids(n: int, rng: np.random.Generator) -> pa.Array:
    """Pseudonymous ids ``A0000123``, increasing with the opening date, with gaps."""
    numbers = 100 + np.cumsum(rng.integers(1, 6, n))
    return pa.array(np.char.add("A", np.char.zfill(numbers.astype(str), 7)))


def text(codes: np.ndarray, labels: pa.Array | list[str]) -> pd.api.extensions.ExtensionArray:
    """Labels looked up by integer code (``-1`` = null), as a pandas ``str`` array."""
    labels = labels if isinstance(labels, pa.Array) else pa.array(labels)
    codes = np.asarray(codes)
    indices = pa.array(codes.astype(np.int32), mask=codes < 0)
    return pd.array(labels.take(indices), dtype="str")


def categories(codes: np.ndarray, labels: pa.Array | list[str]) -> pd.Categorical:
    """Labels looked up by integer code, as a ``category`` column (1-2 bytes a row)."""
    labels = labels.to_pylist() if isinstance(labels, pa.Array) else list(labels)
    dtype = pd.CategoricalDtype(pd.Index(labels, dtype="str"))
    return pd.Categorical.from_codes(np.asarray(codes).astype(np.int16), dtype=dtype)


def dates(days: np.ndarray) -> np.ndarray:
    """Epoch days as ``datetime64[ns]`` (``NEVER`` becomes ``NaT``)."""
    out = np.asarray(days).astype("datetime64[D]").astype("datetime64[ns]")
    out[np.asarray(days) == NEVER] = np.datetime64("NaT")
    return out


def accounts_frame(pop: Population, close_day: np.ndarray, ids: pa.Array) -> pd.DataFrame:
    """The ``accounts`` table."""
    managers = [f"M{k:03d}" for k in range(1, N_MANAGERS + 1)]
    branches = [f"BR{k:02d}" for k in range(1, N_BRANCHES + 1)]
    columns = {
        "account_id": pd.array(ids, dtype="str"),
        "open_date": dates(pop.open_day),
        "close_date": dates(close_day),
        "birth_year": pd.array(
            np.where(np.isnan(pop.birth_year), None, pop.birth_year), dtype="Int32"
        ),
        "gender": text(pop.gender, ["M", "F"]),
        "risk_level": text(pop.risk, list(RISK_LEVELS)),
        "investor_type": text(pop.investor_type, list(INVESTOR_TYPES)),
        "branch": text(pop.branch, branches),
        "manager_id": text(pop.manager, managers),
        "channel": text(pop.channel, list(ACCOUNT_CHANNELS)),
    }
    return _frame("accounts", columns)


def activity_frame(table: str, rec: Recorder, ids: pa.Array, symbols: pa.Array) -> pd.DataFrame:
    """One of the recorded tables; the recorder's chunks of it are consumed."""
    rename = _RENAME[table]
    columns = {}
    for name in _RECORDED[table]:
        values = rec.column(table, name)
        target = rename.get(name, name)
        if name == "acct":
            columns[target] = text(values, ids)
        elif name == "day":
            columns[target] = dates(values)
        elif name == "symbol":
            columns[target] = categories(values, symbols)
        elif (table, name) in _LABELS:
            columns[target] = categories(values, _LABELS[table, name])
        else:
            columns[target] = values.astype(_INTEGERS.get(name, np.float64))
    rec.chunks.pop(table, None)
    return _frame(table, columns)


def build_tables(
    pop: Population,
    close_day: np.ndarray,
    rec: Recorder,
    ids: pa.Array,
    symbols: np.ndarray,
    progress: Callable[[str], None],
    campaigns: Campaigns,
) -> dict[str, pd.DataFrame]:
    """All eight tables (``contacts`` only when a campaign ran), in the schema's order;
    ``progress`` is told each table's name."""
    progress("accounts")
    tables = {"accounts": accounts_frame(pop, close_day, ids)}
    symbol_labels = pa.array(symbols)
    for table in ("trades", "balances", "cashflows", "positions", "logins", "revenue"):
        progress(table)
        tables[table] = activity_frame(table, rec, ids, symbol_labels)
        _return_freed_memory()
    progress("contacts")
    contacts = contacts_frame(campaigns, ids, dates, text)
    if len(contacts):  # a period too short for a campaign has no contacts table
        tables["contacts"] = contacts
    return {name: tables[name] for name in TABLES if name in tables}


def _frame(table: str, columns: dict) -> pd.DataFrame:
    """The columns in the contract's order; a column the simulation lacks is an error."""
    ordered = {c.name: columns[c.name] for c in TABLES[table].columns}
    return pd.DataFrame(ordered, copy=False)


def _return_freed_memory() -> None:
    """Hand freed heap pages back to the operating system.

    The simulation's many week-sized chunks are freed while the tables are built, but glibc
    keeps the pages; trimming keeps the peak near the size of the finished tables.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None
