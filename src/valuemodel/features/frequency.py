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
  (default 7 and 14 days), and over the last ``w`` sessions of the exchange calendar for each
  session window (``trades_5td``, default 5 and 10 trading days; see ``sessions``).
  ``buy_sell_balance_{w}d`` = (bought - sold) / (bought + sold) over
  the trades with a known side in the window, for the short and the change windows (-1 = only
  sells: selling down; null without sided trades).
"""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt

from valuemodel.features.activity import (
    RFM_WINDOW,
    TREND_BASE,
    TREND_RECENT,
    active_months_source,
    last_trade_source,
    login_session_source,
    login_window_source,
    trade_session_source,
    trade_window_source,
)
from valuemodel.features.asof import day_count, ratio
from valuemodel.features.config import FeatureConfig
from valuemodel.features.definition import Family, Feature, PerWindow, rank_column
from valuemodel.features.parts import Rank

LOYALTY_STAGES = ("new", "potential", "regular", "mature", "loyal")
NEW_ACCOUNT_DAYS = 180
RFM_SCORES = ("rfm_recency_score", "rfm_frequency_score", "rfm_monetary_score")
NEVER = 1e9  # days since the last trade of an account that never traded, for ranking only


def _trend(x: ibis.Table, measure: str) -> ibis.Value:
    recent = x[f"{measure}_{TREND_RECENT}"]
    before = x[f"{measure}_{TREND_BASE}"] - recent
    return ratio(recent, before / ((TREND_BASE - TREND_RECENT) / TREND_RECENT))


def _buy_sell_balance(x: ibis.Table, w: int) -> ibis.Value:
    sided = x[f"sided_value_{w}"]
    return ratio(2.0 * x[f"buy_value_{w}"] - sided, sided)


def _quintile(below: ibis.Value, size: ibis.Value) -> ibis.Value:
    """1..5 from the 0-based rank among ``size`` rows (5 = the largest values)."""
    return ((below * 5) / size).floor().cast(dt.float64) + 1.0


def _recency_rank(x: ibis.Table, config: FeatureConfig) -> Rank:
    # NEVER - days rather than -days: no negative zero among the keys.
    days_since = day_count(x.as_of, x.last_trade).fill_null(NEVER)
    return Rank(NEVER - days_since, _quintile)


def _frequency_rank(x: ibis.Table, config: FeatureConfig) -> Rank:
    return Rank(x[f"trades_{RFM_WINDOW}"], _quintile)


def _monetary_rank(x: ibis.Table, config: FeatureConfig) -> Rank:
    return Rank(x[f"commission_{RFM_WINDOW}"].round(6), _quintile)


def _loyalty(x: ibis.Table) -> ibis.Value:
    tenure, months = day_count(x.as_of, x.open_date), x.active_months
    return ibis.cases(
        (tenure < NEW_ACCOUNT_DAYS, "new"),
        (months <= 2, "potential"),
        (months <= 6, "regular"),
        (months <= 10, "mature"),
        else_="loyal",
    )


_TRADES = ("trades",)
_ACTIVITY = ("windows", "short_windows")
_SESSIONS = ("session_windows",)


def _counts(suffix: str, window_sets: tuple[str, ...], trades, logins) -> tuple:
    """Trades, trading days and login days per window: ``{w}d`` in calendar days, or
    ``{w}td`` in trading days of the exchange calendar (``suffix``). ``trades`` and
    ``logins`` are the windows' sources; their columns end in ``"s"`` for sessions."""
    column = "s" if suffix == "td" else ""

    def count(name: str, unit: str, requires: tuple[str, ...], source, measure: str):
        return Feature(
            f"{name}_{{w}}{suffix}",
            unit=unit,
            requires=requires,
            risk_direction="lower",
            window_sets=window_sets,
            sources=(source,),
            expression=lambda x, w: x[f"{measure}_{w}{column}"],
        )

    return (
        PerWindow(
            (
                count("trades", "trades", _TRADES, trades, "trades"),
                count("active_trading_days", "days", _TRADES, trades, "days"),
            )
        ),
        count("login_days", "days", ("logins",), logins, "logins"),
    )


FREQUENCY = Family(
    "frequency",
    (
        *_counts("d", _ACTIVITY, trade_window_source, login_window_source),
        *_counts("td", _SESSIONS, trade_session_source, login_session_source),
        Feature(
            "buy_sell_balance_{w}d",
            unit="share -1..1",
            requires=_TRADES,
            risk_direction="lower",
            window_sets=("short_windows", "change_windows"),
            sources=(trade_window_source,),
            expression=_buy_sell_balance,
        ),
        Feature(
            "trading_days_trend",
            unit="ratio",
            requires=_TRADES,
            risk_direction="lower",
            sources=(trade_window_source,),
            expression=lambda x: _trend(x, "days"),
        ),
        Feature(
            "login_days_trend",
            unit="ratio",
            requires=("logins",),
            risk_direction="lower",
            sources=(login_window_source,),
            expression=lambda x: _trend(x, "logins"),
        ),
        Feature(
            "active_months_12m",
            unit="months",
            requires=_TRADES,
            risk_direction="lower",
            sources=(active_months_source,),
            expression=lambda x: x.active_months,
        ),
        Feature(
            "rfm_recency_score",
            unit="score 1-5",
            requires=_TRADES,
            risk_direction="lower",
            sources=(last_trade_source,),
            rank=_recency_rank,
        ),
        Feature(
            "rfm_frequency_score",
            unit="score 1-5",
            requires=_TRADES,
            risk_direction="lower",
            sources=(trade_window_source,),
            rank=_frequency_rank,
        ),
        Feature(
            "rfm_monetary_score",
            unit="score 1-5",
            requires=_TRADES,
            risk_direction="lower",
            sources=(trade_window_source,),
            rank=_monetary_rank,
        ),
        Feature(
            "rfm_score",
            unit="score 3-15",
            requires=_TRADES,
            risk_direction="lower",
            expression=lambda x: sum(x[rank_column(name)] for name in RFM_SCORES),
        ),
        Feature(
            "loyalty_stage",
            unit="category",
            requires=_TRADES,
            risk_direction="none",
            kind="category",
            categories=LOYALTY_STAGES,
            sources=(active_months_source,),
            expression=_loyalty,
        ),
    ),
)
"""The frequency features, in output order."""
