"""Training snapshots: which as-of dates to learn from, and the out-of-time split.

Dates. All snapshots of a training run lie on one grid stepping back from ``end``, the
training as-of date (or the data's last date, if earlier), by whole steps of the configured
frequency (monthly by default; month ends from a month end), each moved to the same phase of
the exchange calendar (``snapshots.calendar``, XSHG by default) as ``end``: the same number of
days after the latest trading day (see ``grid``). The model is trained on the calendar phase
it will score on. A snapshot ``T`` can carry a churn
label when ``T + H <= end`` and a value label when ``T + V <= end``. Each snapshot also needs
``min_history_days`` of data before it; when that leaves fewer than two snapshots, the history
requirement is lowered (never below 30 days, or ``min_history_days`` if smaller) to the most
that still gives two, and a note says so. At most ``max_snapshots`` (the latest) are kept.

Split. The latest ``validation_fraction`` of snapshot dates (at least one, leaving at least
one) validate. Gap rule ``strict``: a training snapshot ``T`` is kept only when its label window
has closed by the first validation snapshot ``T_v`` (``T + H <= T_v``), so no training label
looks at the period the validation features already see. When that leaves no training
snapshot (a long horizon on a short history: a 365-day value horizon on two years of data),
the split falls back to ``relaxed`` (``T < T_v``, label windows may overlap the validation
period, which shares market-wide shocks) and a note says so. ``gap: relaxed`` forces it.
The snapshots the strict rule leaves out (``gap_dates``) are still labelled by ``end``: the
final churn model is refitted on them too (see ``training/refit.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from valuemodel.data.calendar import latest_session
from valuemodel.errors import InputError
from valuemodel.training.config import SnapshotConfig

_STEPS = {
    "weekly": pd.DateOffset(weeks=1),
    "biweekly": pd.DateOffset(weeks=2),
    "monthly": pd.DateOffset(months=1),
    "quarterly": pd.DateOffset(months=3),
}
_HISTORY_FLOOR = 30


@dataclass(frozen=True)
class SnapshotPlan:
    """Snapshot dates of one label (``churn`` or ``value``) and their out-of-time split."""

    label: str
    horizon_days: int
    train_dates: tuple[date, ...]
    valid_dates: tuple[date, ...]
    gap_rule: str
    history_days: int
    notes: tuple[str, ...] = ()
    gap_dates: tuple[date, ...] = ()

    @property
    def dates(self) -> tuple[date, ...]:
        return self.train_dates + self.valid_dates

    @property
    def labelled_dates(self) -> tuple[date, ...]:
        """Every snapshot labelled by the as-of date: training, gap and validation."""
        return tuple(sorted({*self.train_dates, *self.gap_dates, *self.valid_dates}))


def grid(anchor: date, start: date, frequency: str, calendar: str | None = None) -> list[date]:
    """Dates stepping back from ``anchor`` while on or after ``start``, ascending.

    Whole steps of ``frequency``; from a month's last day, monthly and quarterly steps land
    on month ends. With an exchange ``calendar``, each date then takes the calendar phase of
    ``anchor``: as many days after the latest trading day on or before it as ``anchor`` is
    after its own (a Sunday two days after Friday's close gives dates two days after a
    close; a trading day gives trading days), so that every "days since" and short window
    of a snapshot reads as it will on the day the model scores.
    """
    step, out, k = _step(anchor, frequency), [], 0
    offset = (anchor - latest_session(calendar, anchor)).days if calendar else 0
    while True:
        d = (pd.Timestamp(anchor) - step * k).date()
        if calendar and k:
            d = latest_session(calendar, d) + timedelta(days=offset)
        if d < start:
            return sorted(set(out))
        out.append(d)
        k += 1


def _step(anchor: date, frequency: str) -> pd.DateOffset:
    month_end = (pd.Timestamp(anchor) + pd.Timedelta(days=1)).day == 1
    if month_end and frequency in ("monthly", "quarterly"):
        return pd.offsets.MonthEnd(1 if frequency == "monthly" else 3)
    return _STEPS[frequency]


def _with_history(
    dates: list[date], start: date, wanted: int, label: str
) -> tuple[list[date], int, list[str]]:
    kept = [d for d in dates if (d - start).days >= wanted]
    if len(kept) >= 2:
        return kept, wanted, []
    floor = min(wanted, _HISTORY_FLOOR)
    usable = [d for d in dates if (d - start).days >= floor]
    if len(usable) < 2:
        return kept or usable, wanted, []
    history = (usable[-2] - start).days
    kept = [d for d in usable if (d - start).days >= min(history, wanted)]
    note = (
        f"{label}: only {len([d for d in dates if (d - start).days >= wanted])} snapshot(s) "
        f"have {wanted} days of history; using {len(kept)} snapshot(s) with at least "
        f"{min(history, wanted)} days of history ({kept[0]} .. {kept[-1]})"
    )
    return kept, min(history, wanted), [note]


def plan_snapshots(
    *,
    label: str,
    horizon_days: int,
    start: date,
    end: date,
    anchor_horizon: int,
    config: SnapshotConfig,
) -> SnapshotPlan:
    """Choose and split the snapshot dates of one label (see the module docstring)."""
    last = end - timedelta(days=horizon_days)
    dates = [d for d in grid(end, start, config.frequency, config.calendar) if d <= last]
    if not dates:
        raise InputError(
            f"no {label} snapshot can be labelled: the data run from {start} to {end}, and a "
            f"{horizon_days}-day horizon needs a snapshot on or before {last}; use a shorter "
            f"{label} horizon or more history"
        )
    dates, history, notes = _with_history(dates, start, config.min_history_days, label)
    notes = [*_phase_note(label, end, config), *notes]
    if len(dates) < 2:
        raise InputError(
            f"only one {label} snapshot ({dates[0] if dates else last}) can be labelled with a "
            f"{horizon_days}-day horizon on data from {start} to {end}; an out-of-time split "
            "needs at least two: use a shorter horizon, more history or a finer "
            "snapshots.frequency"
        )
    dates = dates[-config.max_snapshots :]
    train, valid, rule, split_notes = split_dates(dates, horizon_days, config)
    notes += [f"{label}: {n}" for n in split_notes]
    gap = tuple(d for d in dates if d not in train and d not in valid)
    return SnapshotPlan(label, horizon_days, train, valid, rule, history, tuple(notes), gap)


def _phase_note(label: str, end: date, config: SnapshotConfig) -> list[str]:
    if not config.calendar:
        return []
    after = (end - latest_session(config.calendar, end)).days
    phase = "on trading days" if after == 0 else f"{after} day(s) after a trading day"
    return [
        f"{label}: snapshot dates step back from {end} by whole {config.frequency} steps, "
        f"{phase} as {end} is ({config.calendar} calendar)"
    ]


def split_dates(
    dates: list[date], horizon_days: int, config: SnapshotConfig
) -> tuple[tuple[date, ...], tuple[date, ...], str, list[str]]:
    """Out-of-time split of ascending ``dates``: (train, valid, gap rule used, notes)."""
    n_valid = min(max(1, math.ceil(config.validation_fraction * len(dates))), len(dates) - 1)
    valid, earlier = dates[-n_valid:], dates[:-n_valid]
    first_valid = valid[0]
    if config.gap == "strict":
        strict = [d for d in earlier if d + timedelta(days=horizon_days) <= first_valid]
        if strict:
            return tuple(strict), tuple(valid), "strict", []
        note = (
            f"no training snapshot's {horizon_days}-day label window closes by the first "
            f"validation snapshot {first_valid}; using the relaxed gap rule (training "
            "snapshots before it, label windows overlapping the validation period)"
        )
        return tuple(earlier), tuple(valid), "relaxed", [note]
    return tuple(earlier), tuple(valid), "relaxed", []
