"""The weekly simulation of every account: engagement, dormancy, churn, money in and out.

Each week, vectorised over accounts:

1. holdings move with the market; the account's weekly return feeds a 26-week loss signal;
2. engagement (a latent AR(1) around the account's own level) drifts;
3. active accounts fall dormant (more after losses and in bear markets) and dormant ones
   wake up (more in bull markets);
4. new accounts open with a first deposit and buy in;
5. churn is decided by a weekly hazard: a part driven by visible signals (losses, engagement
   below the account's norm, a commission rate above peers, short tenure, no manager or a
   manager who just left, bear market) and a part that is pure life events. A signal-driven
   churner first disengages for 3-13 weeks (``LEAVING``: less trading and logging in, some
   early withdrawals); then (like a sudden churner at once) it moves 85-100 % of its assets
   out over 1-5 weeks, selling out first or transferring custody, and 40 % close;
6. deposits (regular savers on payday, lumpy ones that chase a hot market) and withdrawals;
7. trades, their commission (charged to the account) and rebalancing towards a cash share;
8. margin borrowing follows the market, with forced sales below the maintenance ratio;
9. logins, monthly margin interest and fund fees, positions at month end, the statement.
"""

from __future__ import annotations

import numpy as np

from valuemodel.data import _synth_activity as activity
from valuemodel.data import _synth_book as books
from valuemodel.data import _synth_ledger as ledger
from valuemodel.data._synth_accounts import Population
from valuemodel.data._synth_calendar import Clock
from valuemodel.data._synth_campaigns import Campaigns
from valuemodel.data._synth_market import (
    BEAR,
    BULL,
    Market,
    weekly_activity,
    weekly_prices,
    weekly_regime,
)
from valuemodel.data._synth_world import (
    ACTIVE,
    CHURNING,
    CLOSED,
    DORMANT,
    GONE,
    LEAVING,
    NOT_OPEN,
    RETURN_WINDOW,
    Recorder,
    State,
    World,
)

_PERSISTENCE, _SHOCK = 0.93, 0.165
_HAZARD_SIGNAL, _HAZARD_LIFE = 0.00095, 0.0006  # weekly (before the campaigns' effect)
_KIND_HAZARD = np.array([0.0, 0.1, -0.3, -0.8])
_TO_DORMANT = np.array([1.0, 0.4, 1.0, 0.3])


def simulate(
    pop: Population,
    market: Market,
    clock: Clock,
    rng: np.random.Generator,
    campaigns: Campaigns | None = None,
) -> tuple[Recorder, np.ndarray]:
    """Run every week; returns the recorded rows and each account's close day (or ``NEVER``).

    ``campaigns``: past retention campaigns, drawn and answered during the run.
    """
    world = World(
        clock=clock,
        market=market,
        pop=pop,
        week_prices=weekly_prices(market, clock.day_week, clock.n_weeks),
        activity=weekly_activity(market, clock.day_week, clock.n_weeks),
        regime=weekly_regime(market, clock.day_week, clock.n_weeks),
        day_number=clock.days.astype(np.int64).astype(np.int32),
        rng=rng,
        campaigns=campaigns,
    )
    state = State.initial(pop, rng)
    book = books.open_book(pop, market, rng)
    _fund_existing(world, state, book)
    recorder = Recorder()
    for week in range(clock.n_weeks):
        _step(week, world, state, book, recorder)
    return recorder, state.close_day


def _fund_existing(world: World, state: State, book: books.Book) -> None:
    """Books of accounts open at the burn-in: invested at the target cash share, on margin."""
    pop, prices = world.pop, world.week_prices[0]
    rows = np.flatnonzero(state.is_open())
    book.cash[rows] = pop.assets0[rows]
    books.rebalance(book, rows, pop.cash_share[rows], 1.0, prices)
    borrowed = pop.leverage[rows] * books.holdings(book, prices)[rows]
    book.debt[rows] += borrowed
    book.cash[rows] += borrowed
    books.invest(book, rows, borrowed, prices)


def _step(week: int, world: World, state: State, book: books.Book, rec: Recorder) -> None:
    _mark_to_market(week, world, state, book)
    _drift_engagement(world, state)
    _switch_dormancy(week, world, state)
    if week < world.clock.first_week:
        return
    opened = _open_accounts(week, world, state, book, rec)
    closed = np.empty(0, dtype=np.int64)
    trades = activity.no_trades()
    if len(world.trading_days(week)):
        started = _advance_leavers(state)
        started = np.concatenate([started, _decide_churn(week, world, state)])
        _start_churn(started, week, world, state, book)
        _everyday_flows(week, world, state, book, rec)
        closed = _churn_flows(week, world, state, book, rec)
        trades = ledger.trade(week, world, state, book, rec, opened, started)
    ledger.margin(week, world, state, book)
    ledger.login(week, world, state, rec, trades, closed)
    ledger.accrue(week, world, state, book)
    ledger.settle(week, world, state, book, rec, closed)
    ledger.statement(week, world, state, book, rec, closed)
    _campaign(week, world, state)


def _campaign(week: int, world: World, state: State) -> None:
    """A retention list drawn at the end of a campaign week, answered from the next week."""
    campaigns, days = world.campaigns, world.trading_days(week)
    if campaigns is None or week not in campaigns.weeks or not len(days):
        return
    rows = np.flatnonzero(np.isin(state.status, (ACTIVE, DORMANT, LEAVING)))
    signal = _HAZARD_SIGNAL * np.exp(_hazard_signals(week, world, state, rows))
    life = _HAZARD_LIFE * np.exp(0.5 * _KIND_HAZARD[world.pop.kind[rows]])
    campaigns.run(week, int(days[-1]), world.pop, state, signal, life)


def _mark_to_market(week: int, world: World, state: State, book: books.Book) -> None:
    """Record each open account's weekly log return (market moves, no flows) in its window."""
    before = books.net_assets(book, world.week_prices[max(week - 1, 0)])
    after = books.net_assets(book, world.week_prices[week])
    ratio = np.divide(after, before, out=np.ones_like(after), where=before > 100.0)
    state.returns[:, week % RETURN_WINDOW] = np.log(np.clip(ratio, 0.05, 20.0))


def _drift_engagement(world: World, state: State) -> None:
    shock = world.rng.standard_normal(world.pop.n).astype(np.float32)
    state.engagement *= _PERSISTENCE
    state.engagement += _SHOCK * shock


def _switch_dormancy(week: int, world: World, state: State) -> None:
    """Active accounts go dormant (losses, bear market); dormant ones reactivate (bull)."""
    pop, rng, regime = world.pop, world.rng, world.regime[week]
    to_dormant = 0.004 * _TO_DORMANT[pop.kind] * np.exp(1.5 * state.loss() - state.engagement)
    to_dormant *= 1.3 if regime == BEAR else 1.0
    to_active = 0.01 * (1.5 if regime == BULL else 1.0) * np.exp(0.5 * state.engagement)
    draw = rng.random(pop.n)
    sleeping = (state.status == ACTIVE) & (draw < to_dormant)
    waking = (state.status == DORMANT) & (draw < to_active)
    state.status[sleeping] = DORMANT
    state.status[waking] = ACTIVE


def _open_accounts(
    week: int, world: World, state: State, book: books.Book, rec: Recorder
) -> np.ndarray:
    """New accounts of this week: status active, the first deposit, invested at once."""
    pop = world.pop
    rows = np.flatnonzero((pop.open_week == week) & (state.status == NOT_OPEN))
    state.status[rows] = ACTIVE
    book.cash[rows] = pop.assets0[rows]
    rec.add("cashflows", acct=rows.astype(np.int32), day=pop.open_day[rows],
            amount=pop.assets0[rows])  # fmt: skip
    return rows


def _hazard_signals(week: int, world: World, state: State, rows: np.ndarray) -> np.ndarray:
    """The visible part of the churn hazard, as a log multiplier per account."""
    pop = world.pop
    tenure = (int(world.clock.friday[week].astype(int)) - pop.open_day[rows]) / 365.25
    departed = (week >= pop.manager_leaves[rows]) & (week < pop.manager_leaves[rows] + 26)
    return (
        2.0 * state.loss()[rows]
        - 1.3 * state.engagement[rows]
        - 0.4 * pop.engagement[rows]
        + 1.0 * pop.rate_excess[rows]
        + 0.8 * (tenure < 1.0)
        + 0.35 * ((tenure >= 1.0) & (tenure < 3.0))
        + 0.35 * (pop.manager[rows] < 0)
        + 1.2 * departed
        + 0.3 * (world.regime[week] == BEAR)
        + _KIND_HAZARD[pop.kind[rows]]
        - 0.3 * (state.status[rows] == DORMANT)
    )


def _decide_churn(week: int, world: World, state: State) -> np.ndarray:
    """Churn decisions; returns sudden churners (life events) that start moving money now."""
    rng = world.rng
    rows = np.flatnonzero((state.status == ACTIVE) | (state.status == DORMANT))
    signal = _HAZARD_SIGNAL * np.exp(_hazard_signals(week, world, state, rows))
    if world.campaigns is not None:
        signal = signal * world.campaigns.factor(week, rows)
    life = _HAZARD_LIFE * np.exp(0.5 * _KIND_HAZARD[world.pop.kind[rows]])
    churn = rng.random(len(rows)) < signal + life
    sudden = rng.random(len(rows)) * (signal + life) < life
    leaving = rows[churn & ~sudden]
    state.status[leaving] = LEAVING
    state.countdown[leaving] = rng.integers(3, 14, len(leaving))
    return rows[churn & sudden]


def _advance_leavers(state: State) -> np.ndarray:
    """Count down the disengaging accounts; returns those that start moving money now."""
    rows = np.flatnonzero(state.status == LEAVING)
    state.countdown[rows] -= 1
    return rows[state.countdown[rows] <= 0]


def _start_churn(
    rows: np.ndarray, week: int, world: World, state: State, book: books.Book
) -> None:
    """Churners repay margin debt, and choose how long, whether to close, what to leave."""
    rng, prices, n = world.rng, world.week_prices[week], len(rows)
    state.status[rows] = CHURNING
    state.countdown[rows] = rng.integers(1, 6, n)
    state.closes[rows] = rng.random(n) < 0.4
    state.selloff[rows] = rng.random(n) < 0.6
    books.deleverage(book, rows, prices)
    tiny = rng.random(n) < 0.5
    left = np.where(tiny, rng.uniform(0.0, 0.01, n), rng.uniform(0.01, 0.15, n))
    left = np.where(state.closes[rows], 0.0, left)
    state.residual[rows] = left * books.net_assets(book, prices)[rows]


def _everyday_flows(
    week: int, world: World, state: State, book: books.Book, rec: Recorder
) -> None:
    """Savings on payday, deposits that chase a hot market, and lumpy withdrawals."""
    pop, rng, status, n = world.pop, world.rng, state.status, world.pop.n
    prices = world.week_prices[week]
    net = books.net_assets(book, prices)
    staying = (status == ACTIVE) | (status == DORMANT)
    saving = staying & pop.saver & world.clock.payday[week]
    chasing = 0.02 * world.activity[week] * np.where(status == DORMANT, 0.3, 1.0)
    lump = staying & (rng.random(n) < chasing)
    deposit = np.where(saving, pop.saving * rng.lognormal(0.0, 0.15, n), 0.0)
    deposit += np.where(lump, np.maximum(net * rng.lognormal(np.log(0.2), 0.8, n), 2000.0), 0.0)
    deposit = np.round(deposit, -2)
    withdrawing = rng.random(n) < np.where(status == LEAVING, 0.15, 0.015 * staying)
    share = np.where(
        status == LEAVING, rng.uniform(0.1, 0.4, n), np.minimum(rng.beta(2.0, 5.0, n), 0.6)
    )
    withdraw = np.round(np.where(withdrawing, net * share, 0.0), -2)
    rows_in, rows_out = np.flatnonzero(deposit > 0), np.flatnonzero(withdraw > 0)
    book.cash[rows_in] += deposit[rows_in]
    taken = books.take(book, rows_out, withdraw[rows_out], prices)
    _record_flows(rec, rows_in, deposit[rows_in], week, world, state)
    _record_flows(rec, rows_out, -taken, week, world, state)


def _churn_flows(
    week: int, world: World, state: State, book: books.Book, rec: Recorder
) -> np.ndarray:
    """Churners move money out; gone accounts sometimes close later. Returns closed rows."""
    rng, prices = world.rng, world.week_prices[week]
    rows = np.flatnonzero(state.status == CHURNING)
    net = books.net_assets(book, prices)[rows]
    left = state.countdown[rows]
    amount = np.clip((net - state.residual[rows]) / np.maximum(left, 1), 0.0, None)
    last = left <= 1
    late = np.flatnonzero((state.status == GONE) & (rng.random(world.pop.n) < 0.01))
    state.countdown[rows] -= 1
    state.status[rows[last & ~state.closes[rows]]] = GONE
    amount = np.where(last & state.closes[rows], net, amount)
    out_rows = np.concatenate([rows, late])
    out = np.concatenate([amount, books.net_assets(book, prices)[late]])
    taken = books.take(book, out_rows, out, prices)
    days = _record_flows(rec, out_rows, -taken, week, world, state)
    closing = np.concatenate([last & state.closes[rows], np.ones(len(late), dtype=bool)])
    _close(out_rows[closing], days[closing], state, book)
    return out_rows[closing]


def _close(rows: np.ndarray, days: np.ndarray, state: State, book: books.Book) -> None:
    state.status[rows] = CLOSED
    state.close_day[rows] = days
    books.clear(book, rows)


def _record_flows(
    rec: Recorder, rows: np.ndarray, amount: np.ndarray, week: int, world: World, state: State
) -> np.ndarray:
    """Record signed cash flows on a trading day of the week; returns their days."""
    days = activity.event_days(rows, week, world, state)
    amount = np.round(amount, 2)
    keep = amount != 0
    rec.add("cashflows", acct=rows[keep].astype(np.int32), day=days[keep], amount=amount[keep])
    return days
