"""Recency: days since the last trade, login, deposit and withdrawal, and tenure.

Every ``days_since_*`` is ``T - date of the latest event on or before T`` in days (0 when the
event happened on ``T``), null when there was none. ``tenure_days`` is ``T - open_date``
(the first activity when there is no ``accounts`` table). ``trading_days_since_*`` counts
the same gap in sessions of the exchange calendar (see ``sessions``): the sessions after the
event up to the last session on or before ``T``, so that it does not move over a weekend or
a holiday.
"""

from __future__ import annotations

from valuemodel.data.reader import DataSet
from valuemodel.features.activity import last_event_source, last_trade_source
from valuemodel.features.asof import Spine, day_count
from valuemodel.features.definition import Family, Feature, SourceFunction
from valuemodel.features.parts import Source
from valuemodel.features.sessions import as_of_session_source, sessions_since


def _last_login(data: DataSet, spine: Spine) -> Source:
    return last_event_source("login", data.table("logins"), "date", spine)


def _last_deposit(data: DataSet, spine: Spine) -> Source:
    flows = data.table("cashflows")
    return last_event_source("deposit", flows.filter(flows.amount > 0), "date", spine)


def _last_withdrawal(data: DataSet, spine: Spine) -> Source:
    flows = data.table("cashflows")
    return last_event_source("withdrawal", flows.filter(flows.amount < 0), "date", spine)


def _trading_days_since(name: str, requires: str, risk: str, source: SourceFunction) -> Feature:
    return Feature(
        f"trading_days_since_last_{name}",
        unit="trading days",
        requires=(requires,),
        risk_direction=risk,
        sources=(source, as_of_session_source),
        expression=lambda x: sessions_since(x, name),
    )


_EVENTS = (
    ("trade", "trades", "higher", last_trade_source),
    ("login", "logins", "higher", _last_login),
    ("deposit", "cashflows", "higher", _last_deposit),
    ("withdrawal", "cashflows", "lower", _last_withdrawal),
)

RECENCY = Family(
    "recency",
    (
        Feature(
            "days_since_last_trade",
            unit="days",
            requires=("trades",),
            risk_direction="higher",
            sources=(last_trade_source,),
            expression=lambda x: day_count(x.as_of, x.last_trade),
        ),
        Feature(
            "days_since_last_login",
            unit="days",
            requires=("logins",),
            risk_direction="higher",
            sources=(_last_login,),
            expression=lambda x: day_count(x.as_of, x.last_login),
        ),
        Feature(
            "days_since_last_deposit",
            unit="days",
            requires=("cashflows",),
            risk_direction="higher",
            sources=(_last_deposit,),
            expression=lambda x: day_count(x.as_of, x.last_deposit),
        ),
        Feature(
            "days_since_last_withdrawal",
            unit="days",
            requires=("cashflows",),
            risk_direction="lower",
            sources=(_last_withdrawal,),
            expression=lambda x: day_count(x.as_of, x.last_withdrawal),
        ),
        Feature(
            "tenure_days",
            unit="days",
            requires=("trades",),
            risk_direction="lower",
            expression=lambda x: day_count(x.as_of, x.open_date),
        ),
        *(_trading_days_since(*event) for event in _EVENTS),
    ),
)
"""The recency features, in output order."""
