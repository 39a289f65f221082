"""Past retention campaigns: lists drawn every quarter, a random control group, and an effect
of contact on churn that differs from account to account.

At each campaign (the last trading week of every 13th week after the first half year), the
brokerage lists about half of its holding accounts, more often those with visible warning
signs, and holds a random ``CONTROL_SHARE`` of the list out of contact. A treated account's
response is a log-multiplier on the visible part of its churn hazard for the next 13 weeks
(the churn horizon), and a disengaging account (already leaving) may be won back. The
response is partly visible in behaviour and partly not:

- a commission rate above peers: a rate review keeps a price-sensitive account (strong);
- no account manager, or one who left in the last half year: a call replaces the contact;
- losses: a portfolio review helps an anxious loser (moderate);
- a long-dormant account (dormant, more than three years open) is reminded that it exists,
  and leaves (negative);
- institutions follow their own plans (little effect either way);
- plus an invisible part (noise around it).

Life-event churn is never prevented. The generator knows each account's true effect: the
fall in the probability of churning within the horizon, ``p_control - p_treated``,
for every holding account at every campaign (listed or not). :func:`truth_frame` returns it;
it never enters the data tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from valuemodel.data._synth_world import ACTIVE, DORMANT, LEAVING, State

EVERY_WEEKS = 13
FIRST_WEEK = 26  # after the burn-in: half a year of history before the first list
HORIZON_WEEKS = 13
LISTED_SHARE = 0.5
CONTROL_SHARE = 0.3
WIN_BACK = 0.85  # the share of a leaving account's response that turns it back
VISIBLE = 0.4  # the share of churn decided within the horizon that also completes in it
# (a decided churner disengages for 3-13 weeks, then moves its assets out over 1-5)
INSTITUTION = 3


@dataclass
class Campaigns:
    """The campaign schedule and, during a campaign's horizon, each treated account's effect."""

    weeks: frozenset[int]
    rng: np.random.Generator
    effect: np.ndarray
    until: np.ndarray
    rows: list[dict[str, np.ndarray]] = field(default_factory=list)
    truth: list[dict[str, np.ndarray]] = field(default_factory=list)

    @classmethod
    def schedule(cls, first_week: int, n_weeks: int, n: int, rng: np.random.Generator):
        weeks = range(first_week + FIRST_WEEK, n_weeks, EVERY_WEEKS)
        return cls(
            weeks=frozenset(weeks),
            rng=rng,
            effect=np.zeros(n, dtype=np.float32),
            until=np.full(n, -1, dtype=np.int32),
        )

    def factor(self, week: int, rows: np.ndarray) -> np.ndarray:
        """The multiplier on the visible churn hazard of ``rows`` in ``week``."""
        live = self.until[rows] >= week
        return np.where(live, np.exp(-self.effect[rows]), 1.0)

    def run(self, week: int, day: int, pop, state: State, signal, life) -> None:
        """Draw this week's list (if a campaign week); treated accounts respond.

        ``signal`` and ``life`` are the weekly visible and life-event hazards of the holding
        accounts (``ACTIVE``, ``DORMANT`` or ``LEAVING``), in the order of their rows.
        """
        if week not in self.weeks:
            return
        rng = self.rng
        rows = np.flatnonzero(np.isin(state.status, (ACTIVE, DORMANT, LEAVING)))
        effect = response(week, day, pop, state, rows, rng)
        warning = np.log(signal) + (state.status[rows] == LEAVING)
        score = warning + rng.gumbel(0.0, 1.0, len(rows))
        listed = score >= np.quantile(score, 1.0 - LISTED_SHARE) if len(rows) else score > 0
        control = listed & (rng.random(len(rows)) < CONTROL_SHARE)
        treated = listed & ~control
        p_control, p_treated = _probabilities(state.status[rows], signal, life, effect)
        _win_back(rows[treated], effect[treated], state, rng)
        self.effect[rows[treated]] = effect[treated]
        self.until[rows[treated]] = week + HORIZON_WEEKS
        group = np.where(treated, 0, np.where(control, 1, -1)).astype(np.int8)
        days = np.full(len(rows), day, dtype=np.int32)
        self.rows.append({"acct": rows[listed], "day": days[listed], "group": group[listed]})
        self.truth.append(
            {"acct": rows, "day": days, "group": group, "effect": effect,
             "p_control": p_control, "p_treated": p_treated}
        )  # fmt: skip


def response(
    week: int, day: int, pop, state: State, rows: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Each account's log-reduction of its visible churn hazard if contacted (< 0: harm)."""
    tenure = (day - pop.open_day[rows]) / 365.25
    departed = (week >= pop.manager_leaves[rows]) & (week < pop.manager_leaves[rows] + 26)
    no_manager = (pop.manager[rows] < 0) | departed
    sleeping = (state.status[rows] == DORMANT) & (tenure > 3.0)
    effect = (
        0.2
        + 2.5 * np.minimum(pop.rate_excess[rows], 0.6)
        + 0.4 * no_manager
        + 2.5 * state.loss()[rows]
        - 2.2 * sleeping
        + rng.normal(0.0, 0.3, len(rows))
    )
    return np.where(pop.kind[rows] == INSTITUTION, 0.1 * effect, effect).astype(np.float32)


def _probabilities(
    status: np.ndarray, signal: np.ndarray, life: np.ndarray, effect: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The chance of churning within the horizon without and with contact: a leaving account
    churns unless won back; a staying one decides to churn at its weekly hazard, and
    ``VISIBLE`` of those decisions complete within the horizon."""
    p_control = VISIBLE * (1.0 - np.exp(-HORIZON_WEEKS * (signal + life)))
    p_treated = VISIBLE * (1.0 - np.exp(-HORIZON_WEEKS * (signal * np.exp(-effect) + life)))
    leaving = status == LEAVING
    back = WIN_BACK * (1.0 - np.exp(-np.maximum(effect, 0.0)))
    p_control = np.where(leaving, 1.0, p_control)
    p_treated = np.where(leaving, 1.0 - back, p_treated)
    return p_control, p_treated


def _win_back(rows: np.ndarray, effect: np.ndarray, state: State, rng) -> None:
    """Treated accounts that were already leaving turn back with a chance set by their effect."""
    leaving = state.status[rows] == LEAVING
    back = WIN_BACK * (1.0 - np.exp(-np.maximum(effect, 0.0)))
    turned = rows[leaving & (rng.random(len(rows)) < back)]
    state.status[turned] = ACTIVE
    state.countdown[turned] = 0


def contacts_frame(campaigns: Campaigns, ids, dates, text) -> pd.DataFrame:
    """The ``contacts`` table: one row per listed account per campaign."""
    rows = campaigns.rows
    acct = np.concatenate([r["acct"] for r in rows]) if rows else np.empty(0, np.int64)
    day = np.concatenate([r["day"] for r in rows]) if rows else np.empty(0, np.int32)
    group = np.concatenate([r["group"] for r in rows]) if rows else np.empty(0, np.int8)
    return pd.DataFrame(
        {
            "account_id": text(acct, ids),
            "date": dates(day),
            "group": text(group, ["treated", "control"]),
            "action": pd.array(np.where(group == 0, "retention call", None), dtype="str"),
            "contacted": group == 0,
        }
    )


def truth_frame(campaigns: Campaigns, ids, dates, text) -> pd.DataFrame:
    """Every holding account at every campaign: its group (``treated``, ``control`` or
    ``none``), its effect and its true uplift ``p_control - p_treated``."""
    parts = campaigns.truth
    if not parts:
        columns = ["account_id", "date", "group", "effect", "p_control", "p_treated", "uplift"]
        return pd.DataFrame(columns=columns)
    col = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    return pd.DataFrame(
        {
            "account_id": text(col["acct"], ids),
            "date": dates(col["day"]),
            "group": text(np.where(col["group"] < 0, 2, col["group"]),
                          ["treated", "control", "none"]),
            "effect": col["effect"],
            "p_control": col["p_control"],
            "p_treated": col["p_treated"],
            "uplift": col["p_control"] - col["p_treated"],
        }
    )  # fmt: skip
