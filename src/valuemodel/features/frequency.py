"""Frequency: trades, active trading days and login days per window, their trends, active
months, RFM scores and the loyalty stage.

- ``trading_days_trend`` = active trading days in the last 30 days / (active trading days in
  the 90 days before them / 3): below 1 the account trades less than it used to. Null when the
  denominator is 0. ``login_days_trend`` is the same for login days.
- ``active_months_12m``: how many of the 12 calendar months ending with T's month (up to T)
  had a trade.
- RFM scores are quintiles among the population at the same as-of date, 5 = best:
  ``floor(5 * r / n) + 1`` where ``r`` is the 0-based rank (ties share the lowest rank) and
  ``n`` the population size. Recency ranks ``days_since_last_trade`` (never traded = worst),
  frequency ``trades_365d``, monetary ``commission_365d`` (rounded to 0.000001 so engines
  agree on ties). ``rfm_score`` is their sum (3..15).
- ``loyalty_stage``: ``new`` when tenure < 180 days, else by ``active_months_12m``:
  ``potential`` 0-2, ``regular`` 3-6, ``mature`` 7-10, ``loyal`` 11-12.
- Trades, active trading days and login days are also counted over the short windows
  (default 7 and 14 days). ``buy_sell_balance_{w}d`` = (bought - sold) / (bought + sold) over
  the trades with a known side in the window, for the short and the change windows (-1 = only
  sells: selling down; null without sided trades).
"""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt

from valuemodel.data.reader import DataSet
from valuemodel.features.activity import (
    RFM_WINDOW,
    TREND_BASE,
    TREND_RECENT,
    active_months_source,
    last_trade_source,
    login_window_source,
    side_windows,
    trade_window_source,
)
from valuemodel.features.asof import Spine, day_count, ratio
from valuemodel.features.config import FeatureConfig
from valuemodel.features.parts import Part, Rank, assemble

LOYALTY_STAGES = ("new", "potential", "regular", "mature", "loyal")
NEW_ACCOUNT_DAYS = 180
RFM_SCORES = ("rfm_recency_score", "rfm_frequency_score", "rfm_monetary_score")
NEVER = 1e9  # days since the last trade of an account that never traded, for ranking only


def frequency_part(data: DataSet, spine: Spine, config: FeatureConfig) -> Part:
    """Trades, active days and login days per window, trends, active months, RFM, loyalty."""
    logins = data.has("logins")
    sources = [
        trade_window_source(data, spine),
        active_months_source(data, spine),
        last_trade_source(data, spine),
    ]
    if logins:
        sources.append(login_window_source(data, spine))

    def features(x: ibis.Table) -> dict[str, ibis.Value]:
        out: dict[str, ibis.Value] = {}
        windows = spine.activity_windows
        for w in windows:
            out[f"trades_{w}d"] = x[f"trades_{w}"]
            out[f"active_trading_days_{w}d"] = x[f"days_{w}"]
        if logins:
            out |= {f"login_days_{w}d": x[f"logins_{w}"] for w in windows}
        for w in side_windows(spine):
            sided = x[f"sided_value_{w}"]
            out[f"buy_sell_balance_{w}d"] = ratio(2.0 * x[f"buy_value_{w}"] - sided, sided)
        out["trading_days_trend"] = _trend(x, "days")
        if logins:
            out["login_days_trend"] = _trend(x, "logins")
        out["active_months_12m"] = x.active_months
        scores = {name: x[f"_{name}"] for name in RFM_SCORES}
        out |= scores
        out["rfm_score"] = sum(scores.values())
        out["loyalty_stage"] = _loyalty(day_count(x.as_of, x.open_date), x.active_months)
        return out

    def ranks(x: ibis.Table) -> dict[str, Rank]:
        # NEVER - days rather than -days: no negative zero among the keys.
        days_since = day_count(x.as_of, x.last_trade).fill_null(NEVER)
        return {
            "_rfm_recency_score": Rank(NEVER - days_since, _quintile),
            "_rfm_frequency_score": Rank(x[f"trades_{RFM_WINDOW}"], _quintile),
            "_rfm_monetary_score": Rank(x[f"commission_{RFM_WINDOW}"].round(6), _quintile),
        }

    return Part("frequency", sources, features, ranks)


def frequency_features(data: DataSet, spine: Spine, config: FeatureConfig) -> ibis.Table:
    """Frequency features per (account_id, as_of) of the spine's population."""
    return assemble(spine, [frequency_part(data, spine, config)])


def _trend(x: ibis.Table, measure: str) -> ibis.Value:
    recent = x[f"{measure}_{TREND_RECENT}"]
    before = x[f"{measure}_{TREND_BASE}"] - recent
    return ratio(recent, before / ((TREND_BASE - TREND_RECENT) / TREND_RECENT))


def _quintile(below: ibis.Value, size: ibis.Value) -> ibis.Value:
    """1..5 from the 0-based rank among ``size`` rows (5 = the largest values)."""
    return ((below * 5) / size).floor().cast(dt.float64) + 1.0


def _loyalty(tenure: ibis.Value, months: ibis.Value) -> ibis.Value:
    return ibis.cases(
        (tenure < NEW_ACCOUNT_DAYS, "new"),
        (months <= 2, "potential"),
        (months <= 6, "regular"),
        (months <= 10, "mature"),
        else_="loyal",
    )
