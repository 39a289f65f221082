"""Recency: days since the last trade, login, deposit and withdrawal, and tenure.

Every ``days_since_*`` is ``T - date of the latest event on or before T`` in days (0 when the
event happened on ``T``), null when there was none. ``tenure_days`` is ``T - open_date``
(the first activity when there is no ``accounts`` table).
"""

from __future__ import annotations

import ibis

from valuemodel.data.reader import DataSet
from valuemodel.features.activity import last_event_source, last_trade_source
from valuemodel.features.asof import Spine, day_count
from valuemodel.features.config import FeatureConfig
from valuemodel.features.parts import Part, assemble


def recency_part(data: DataSet, spine: Spine, config: FeatureConfig) -> Part:
    """Columns: days_since_last_trade, days_since_last_login (with logins),
    days_since_last_deposit, days_since_last_withdrawal (with cashflows), tenure_days."""
    sources = [last_trade_source(data, spine)]
    if data.has("logins"):
        sources.append(last_event_source("login", data.table("logins"), "date", spine))
    if data.has("cashflows"):
        flows = data.table("cashflows")
        deposits, withdrawals = flows.filter(flows.amount > 0), flows.filter(flows.amount < 0)
        sources.append(last_event_source("deposit", deposits, "date", spine))
        sources.append(last_event_source("withdrawal", withdrawals, "date", spine))
    events = [s.name.removeprefix("last_") for s in sources]

    def features(x: ibis.Table) -> dict[str, ibis.Value]:
        out = {f"days_since_last_{n}": day_count(x.as_of, x[f"last_{n}"]) for n in events}
        out["tenure_days"] = day_count(x.as_of, x.open_date)
        return out

    return Part("recency", sources, features)


def recency_features(data: DataSet, spine: Spine, config: FeatureConfig) -> ibis.Table:
    """Recency features per (account_id, as_of) of the spine's population."""
    return assemble(spine, [recency_part(data, spine, config)])
