"""The data contract as data: which tables exist, their columns, types and value rules.

Everything that reads or checks a data directory takes its facts from here, so the contract
(``docs/data-contract.md``) is stated once in code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["id", "date", "number", "text"]


@dataclass(frozen=True)
class Column:
    """One column of a contract table.

    ``minimum`` with ``strict`` expresses "> minimum" (strict) or ">= minimum"; ``allowed``
    lists the accepted values of a categorical text column (nulls are always allowed in an
    optional column).
    """

    name: str
    kind: Kind
    required: bool = False
    minimum: float | None = None
    strict: bool = False
    allowed: tuple[str, ...] | None = None

    @property
    def rule(self) -> str | None:
        if self.minimum is None:
            return None
        return f"{self.name} {'>' if self.strict else '>='} {self.minimum:g}"


@dataclass(frozen=True)
class Table:
    """A contract table: its name, whether it must exist, its date column and its columns.

    ``unique_key``: at most one row per key (an exact repeat of a row is kept once, two
    different rows for one key are an error); ``lot_key``: rows of one key are lots, summed.
    """

    name: str
    required: bool
    date_column: str | None
    columns: tuple[Column, ...]
    unique_key: tuple[str, ...] | None = None
    lot_key: tuple[str, ...] | None = None
    description: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)


SIDES = ("buy", "sell")
PRODUCTS = ("stock", "fund", "bond", "option", "other")
GENDERS = ("M", "F")
RISK_LEVELS = ("C1", "C2", "C3", "C4", "C5")
INVESTOR_TYPES = ("ordinary", "professional", "institution")
GROUPS = ("treated", "control")
FLAGS = ("true", "false")

_ID = Column("account_id", "id", required=True)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "trades",
            required=True,
            date_column="trade_date",
            description="one row per trade (or per account and day)",
            columns=(
                _ID,
                Column("trade_date", "date", required=True),
                Column("amount", "number", required=True, minimum=0, strict=True),
                Column("commission", "number", required=True, minimum=0),
                Column("side", "text", allowed=SIDES),
                Column("product", "text", allowed=PRODUCTS),
                Column("symbol", "text"),
                Column("quantity", "number"),
                Column("price", "number", minimum=0),
            ),
        ),
        Table(
            "accounts",
            required=False,
            date_column="open_date",
            unique_key=("account_id",),
            description="one row per account",
            columns=(
                _ID,
                Column("open_date", "date", required=True),
                Column("close_date", "date"),
                Column("birth_year", "number", minimum=1900),
                Column("gender", "text", allowed=GENDERS),
                Column("risk_level", "text", allowed=RISK_LEVELS),
                Column("investor_type", "text", allowed=INVESTOR_TYPES),
                Column("branch", "text"),
                Column("manager_id", "text"),
                Column("channel", "text"),
            ),
        ),
        Table(
            "balances",
            required=False,
            date_column="date",
            unique_key=("account_id", "date"),
            description="asset snapshots at any frequency",
            columns=(
                _ID,
                Column("date", "date", required=True),
                Column("total_assets", "number", required=True, minimum=0),
                Column("cash", "number"),
                Column("stock_value", "number", minimum=0),
                Column("fund_value", "number", minimum=0),
                Column("bond_value", "number", minimum=0),
                Column("margin_debt", "number", minimum=0),
            ),
        ),
        Table(
            "cashflows",
            required=False,
            date_column="date",
            description="signed transfers: > 0 money in, < 0 money out",
            columns=(
                _ID,
                Column("date", "date", required=True),
                Column("amount", "number", required=True),
            ),
        ),
        Table(
            "positions",
            required=False,
            date_column="date",
            lot_key=("account_id", "date", "symbol"),
            description="holdings snapshots (several lots of one symbol are summed)",
            columns=(
                _ID,
                Column("date", "date", required=True),
                Column("symbol", "text", required=True),
                Column("market_value", "number", required=True, minimum=0),
                Column("cost_basis", "number"),
            ),
        ),
        Table(
            "logins",
            required=False,
            date_column="date",
            description="one row per login (or login day)",
            columns=(_ID, Column("date", "date", required=True), Column("channel", "text")),
        ),
        Table(
            "revenue",
            required=False,
            date_column="date",
            description="revenue booked per account: commission, margin interest, fees",
            columns=(
                _ID,
                Column("date", "date", required=True),
                Column("amount", "number", required=True),
                Column("kind", "text"),
            ),
        ),
        Table(
            "contacts",
            required=False,
            date_column="date",
            unique_key=("account_id", "date"),
            description="one row per account per retention campaign (the day its list was drawn)",
            columns=(
                _ID,
                Column("date", "date", required=True),
                Column("group", "text", required=True, allowed=GROUPS),
                Column("action", "text"),
                Column("contacted", "text", allowed=FLAGS),
            ),
        ),
    )
}

CAMPAIGN_TABLES: frozenset[str] = frozenset({"contacts"})
"""Tables that record what the brokerage did, not what the accounts did: they create no
account, and do not extend the data's date range."""

TABLE_ORDER: tuple[str, ...] = tuple(TABLES)
