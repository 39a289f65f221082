"""Who the brokerage's customers are: account types, demographics, service and pricing.

Four kinds of account: retail (about 75 %), active traders (15 %), high-net-worth (8 %) and
institutions (2 %). Most accounts were opened before the recorded period (spread over earlier
years); about a fifth open during it, more of them when the market is hot. Demographics,
suitability (risk level C1..C5, investor type), branch, account manager, acquisition channel,
negotiated commission rate and starting assets all depend on the kind. Everything here is
static; how accounts behave over time is in ``_synth_simulation``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from valuemodel.data._synth_calendar import Clock

RETAIL, ACTIVE, HNW, INSTITUTION = 0, 1, 2, 3
KIND_SHARE = np.array([0.75, 0.15, 0.08, 0.02])
NEW_KIND_SHARE = np.array([0.82, 0.13, 0.045, 0.005])
NEW_SHARE = 0.20
N_BRANCHES, N_MANAGERS, N_DEPARTING = 12, 60, 5
ACCOUNT_CHANNELS = ("app", "web", "branch", "partner")
LOGIN_CHANNELS = ("app", "pc", "web")
INVESTOR_TYPES = ("ordinary", "professional", "institution")
RISK_LEVELS = ("C1", "C2", "C3", "C4", "C5")
NEVER = np.iinfo(np.int32).max

# By kind: median and log-sd of assets for accounts already open, and of a new account's
# first deposit (CNY).
_ASSETS = np.array([[50e3, 1.1], [150e3, 1.0], [2.5e6, 0.6], [30e6, 1.0]])
_FIRST_DEPOSIT = np.array([[20e3, 1.0], [80e3, 1.0], [1.5e6, 0.5], [10e6, 0.8]])
# By kind: commission-rate range for negotiated accounts (log-uniform).
_RATE_RANGE = np.array([[1.5e-4, 8e-4], [1e-4, 3e-4], [1e-4, 2.5e-4], [1e-4, 2e-4]])
_LEGACY_RATE_RANGE = (1e-3, 2.5e-3)
_NO_MANAGER = np.array([0.50, 0.35, 0.05, 0.0])
_SLOTS = np.array([[1, 5], [3, 8], [5, 15], [10, 24]])
MAX_SLOTS = 24


@dataclass
class Population:
    """Static attributes of every account (arrays of length ``n``, ordered by open date).

    Dates are epoch days (``int32``); ``open_week`` is the clock week of opening (0 for an
    account open before the burn-in); ``manager_leaves`` is the week the account's manager
    leaves the firm (``NEVER`` if not). Categorical attributes are small integer codes, -1
    for null.
    """

    kind: np.ndarray
    is_new: np.ndarray
    open_day: np.ndarray
    open_week: np.ndarray
    birth_year: np.ndarray
    gender: np.ndarray
    risk: np.ndarray
    investor_type: np.ndarray
    branch: np.ndarray
    manager: np.ndarray
    manager_leaves: np.ndarray
    channel: np.ndarray
    login_channel: np.ndarray
    rate: np.ndarray
    rate_excess: np.ndarray
    margin_rate: np.ndarray
    assets0: np.ndarray
    cash_share: np.ndarray
    margin: np.ndarray
    leverage: np.ndarray
    options_ok: np.ndarray
    repo_ok: np.ndarray
    fund_lover: np.ndarray
    n_slots: np.ndarray
    saver: np.ndarray
    saving: np.ndarray
    engagement: np.ndarray

    @property
    def n(self) -> int:
        return len(self.kind)


def make_population(
    n: int, clock: Clock, activity: np.ndarray, rng: np.random.Generator
) -> Population:
    """Draw ``n`` accounts; ``activity`` (per week) sets when new accounts arrive."""
    n_new = int(round(NEW_SHARE * n))
    is_new = np.arange(n) >= n - n_new
    kind = np.where(
        is_new, rng.choice(4, n, p=NEW_KIND_SHARE), rng.choice(4, n, p=KIND_SHARE)
    ).astype(np.int8)
    open_day, open_week = _open_dates(is_new, clock, activity, rng)
    order = np.argsort(open_day, kind="stable")
    kind, is_new, open_day, open_week = (
        kind[order],
        is_new[order],
        open_day[order],
        open_week[order],
    )
    tenure_years = (clock.start.astype(int) - open_day) / 365.25
    people = _demographics(kind, is_new, tenure_years, clock, rng)
    service = _service(kind, is_new, clock, rng)
    money = _money(kind, is_new, tenure_years, service["manager"], rng)
    return Population(
        kind=kind, is_new=is_new, open_day=open_day, open_week=open_week,
        **people, **service, **money,
    )  # fmt: skip


def _open_dates(
    is_new: np.ndarray, clock: Clock, activity: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Epoch open day and open week; new accounts arrive faster in a hot market."""
    n = len(is_new)
    start = clock.start.astype(int)
    tenure = np.clip(rng.gamma(1.3, 3.2, n) * 365.25, 20, 25 * 365.25).astype(np.int64)
    weekday = np.busday_offset(
        (start - tenure).astype("datetime64[D]"), 0, roll="backward"
    ).astype(np.int32)
    weeks = np.arange(clock.first_week, clock.n_weeks)
    n_days = clock.week_stop[weeks] - clock.week_first[weeks]
    weight = activity[weeks] ** 1.5 * n_days
    week = rng.choice(weeks, n, p=weight / weight.sum())
    pick = clock.week_first[week] + (rng.random(n) * n_days[week - clock.first_week]).astype(int)
    new_day = clock.days[np.minimum(pick, len(clock.days) - 1)].astype(np.int32)
    open_day = np.where(is_new, new_day, weekday).astype(np.int32)
    return open_day, np.where(is_new, week, 0).astype(np.int32)


def _demographics(
    kind: np.ndarray,
    is_new: np.ndarray,
    tenure_years: np.ndarray,
    clock: Clock,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Birth year, gender and suitability (risk level, investor type)."""
    n = len(kind)
    person = kind != INSTITUTION
    mean_age = np.array([44.0, 38.0, 52.0, 0.0])[kind] - 9.0 * is_new
    age = np.clip(rng.normal(mean_age, 11.0), 18.0 + np.maximum(tenure_years, 0.0), 88.0)
    birth_year = np.where(person, int(str(clock.start.astype("datetime64[Y]"))) - age, np.nan)
    male = rng.random(n) < np.array([0.54, 0.68, 0.60, 0.0])[kind]
    gender = np.where(person, np.where(male, 0, 1), -1).astype(np.int8)
    appetite = np.array([0.0, 1.0, 0.5, 1.3])[kind] - 0.03 * np.nan_to_num(age - 40.0)
    appetite = appetite + rng.normal(0.0, 1.0, n)
    risk = np.searchsorted([-1.4, -0.6, 0.3, 1.1], appetite).astype(np.int8)
    professional = rng.random(n) < np.array([0.02, 0.10, 0.40, 0.0])[kind]
    investor_type = np.where(kind == INSTITUTION, 2, professional.astype(int)).astype(np.int8)
    return {
        "birth_year": np.floor(birth_year),
        "gender": gender,
        "risk": risk,
        "investor_type": investor_type,
    }


def _service(
    kind: np.ndarray, is_new: np.ndarray, clock: Clock, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Branch, account manager (and when that manager leaves), acquisition and login channel."""
    n = len(kind)
    branch_weight = rng.dirichlet(np.full(N_BRANCHES, 3.0))
    manager_branch = np.concatenate(
        [np.arange(N_BRANCHES), rng.choice(N_BRANCHES, N_MANAGERS - N_BRANCHES, p=branch_weight)]
    )
    branch = rng.choice(N_BRANCHES, n, p=branch_weight).astype(np.int16)
    manager = _pick_manager(branch, manager_branch, rng)
    no_manager = rng.random(n) < _NO_MANAGER[kind] + 0.15 * is_new
    manager = np.where(no_manager, -1, manager).astype(np.int16)
    leaves = np.full(N_MANAGERS + 1, NEVER, dtype=np.int32)
    departing = rng.choice(N_MANAGERS, N_DEPARTING, replace=False)
    leaves[departing] = rng.integers(clock.first_week, clock.n_weeks, N_DEPARTING)
    existing_mix, new_mix = [0.35, 0.15, 0.40, 0.10], [0.70, 0.05, 0.10, 0.15]
    channel = np.where(is_new, rng.choice(4, n, p=new_mix), rng.choice(4, n, p=existing_mix))
    channel = np.where(kind == INSTITUTION, np.where(rng.random(n) < 0.8, 2, 1), channel)
    login_channel = rng.choice(3, n, p=[0.65, 0.25, 0.10])
    login_channel = np.where(kind == INSTITUTION, 1, login_channel)
    return {
        "branch": branch,
        "manager": manager,
        "manager_leaves": leaves[manager],
        "channel": channel.astype(np.int8),
        "login_channel": login_channel.astype(np.int8),
    }


def _pick_manager(
    branch: np.ndarray, manager_branch: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """A manager of the account's own branch, chosen uniformly."""
    order = np.argsort(manager_branch, kind="stable")
    first = np.searchsorted(manager_branch[order], np.arange(N_BRANCHES))
    count = np.bincount(manager_branch, minlength=N_BRANCHES)
    offset = (rng.random(len(branch)) * count[branch]).astype(int)
    return order[first[branch] + offset]


def _money(
    kind: np.ndarray,
    is_new: np.ndarray,
    tenure_years: np.ndarray,
    manager: np.ndarray,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Assets, commission pricing, margin, product permissions, saving habit and engagement."""
    n = len(kind)
    median = np.where(is_new, _FIRST_DEPOSIT[kind, 0], _ASSETS[kind, 0])
    spread = np.where(is_new, _FIRST_DEPOSIT[kind, 1], _ASSETS[kind, 1])
    assets0 = np.round(rng.lognormal(np.log(median), spread), -2)
    assets0 = np.clip(assets0, 2000.0, None)
    assets0 = np.where((kind == HNW) & ~is_new, np.maximum(assets0, 1e6), assets0)
    rate, rate_excess = _commission_rates(kind, is_new, tenure_years, manager, assets0, rng)
    margin = (rng.random(n) < np.array([0.03, 0.20, 0.15, 0.0])[kind]) & (assets0 >= 50e3)
    slots_low, slots_high = _SLOTS[kind, 0], _SLOTS[kind, 1]
    return {
        "rate": rate,
        "rate_excess": rate_excess,
        "margin_rate": np.round(rng.uniform(0.06, 0.0835, n), 4),
        "assets0": assets0,
        "cash_share": rng.beta(
            *np.array([[2.0, 6.0], [1.5, 8.0], [2.0, 5.0], [2.0, 5.0]])[kind].T
        ),
        "margin": margin,
        "leverage": np.where(margin, rng.uniform(0.1, 0.45, n), 0.0),
        "options_ok": (kind != RETAIL) & (assets0 >= 5e5) & (rng.random(n) < 0.25),
        "repo_ok": rng.random(n) < np.array([0.05, 0.05, 0.30, 0.50])[kind],
        "fund_lover": rng.random(n) < np.array([0.12, 0.03, 0.15, 0.0])[kind],
        "n_slots": rng.integers(slots_low, slots_high + 1).astype(np.int8),
        "saver": rng.random(n) < np.array([0.25, 0.10, 0.0, 0.0])[kind],
        "saving": np.round(rng.lognormal(np.log(2000.0), 0.6, n), -2),
        "engagement": rng.normal(0.0, 0.55, n).astype(np.float32),
    }


def _commission_rates(
    kind: np.ndarray,
    is_new: np.ndarray,
    tenure_years: np.ndarray,
    manager: np.ndarray,
    assets: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Negotiated rates (lower for large and newly won accounts), some legacy rates above peers.

    Returns the rate and its excess over the kind's median rate (``log`` ratio, >= 0).
    """
    n = len(kind)
    low, high = np.log(_RATE_RANGE[kind, 0]), np.log(_RATE_RANGE[kind, 1])
    low = np.where(is_new, np.log(1e-4), low)
    high = np.where(is_new, np.log(2.5e-4), high)
    rate = np.exp(rng.uniform(low, high))
    size_discount = np.clip((assets / 50e3) ** -0.12, 0.5, 1.3)
    rate = np.where(kind == RETAIL, rate * size_discount, rate)
    legacy = (tenure_years > 5.0) & (kind <= ACTIVE) & (manager < 0) & (rng.random(n) < 0.25)
    legacy_rate = np.exp(rng.uniform(*np.log(_LEGACY_RATE_RANGE), n))
    rate = np.round(np.clip(np.where(legacy, legacy_rate, rate), 1e-4, 2.5e-3), 5)
    peer = np.array([np.median(rate[kind == k]) if np.any(kind == k) else 1.0 for k in range(4)])
    excess = np.clip(np.log(rate / peer[kind]), 0.0, None).astype(np.float32)
    return rate, excess
