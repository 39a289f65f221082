"""What happened to the accounts of a past ranked list: reading the list back, and its outcomes.

A list written by ``score`` (``.csv``, ``.parquet`` or an ``.xlsx`` workbook: every sheet but
``Summary``) is read with the scoring summary beside it (``<stem>.summary.json``), which records
the as-of date ``T``, the models' horizons and churn definition, the control draw and the
expected performance. Outcomes are the training labels
(:func:`valuemodel.features.labels.build_labels`, same definition, same horizons), computed for
every horizon whose window ``(T, T + H]`` is covered by the table its label reads (balances
for asset churn, trades for inactivity, revenue for value); the others are reported as not
yet complete, naming that table and its last date.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from valuemodel.errors import InputError
from valuemodel.serving.words import COLUMNS_ZH, SUMMARY_SHEETS, to_english

LIST_FORMATS = (".csv", ".parquet", ".xlsx")
REQUIRED = ("rank", "account_id", "as_of", "churn_probability", "clv")


@dataclass(frozen=True)
class Horizon:
    """One label window: ``days`` after ``T``, complete when ``T + days`` is on or before
    both the data's end and the last date of ``table``, the table the label reads."""

    name: str
    days: int
    until: date
    complete: bool
    table: str | None = None
    table_end: date | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {"days": self.days, "until": self.until.isoformat(), "complete": self.complete}
        if self.table is not None:
            out |= {"table": self.table, "table_end": _iso(self.table_end)}
        return out

    @property
    def lagging(self) -> bool:
        """Whether the window is open only because its own table stops before it ends."""
        return self.table_end is not None and self.table_end < self.until


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


@dataclass
class PastList:
    """A ranked list read back: ``frame`` sorted by ``rank``, its ``summary`` and ``as_of``."""

    path: Path
    frame: pd.DataFrame
    summary: dict[str, Any]
    as_of: date
    notes: list[str] = field(default_factory=list)


def summary_path(list_path: Path) -> Path:
    return list_path.with_name(f"{list_path.stem}.summary.json")


def read_list(path: str | Path) -> PastList:
    """Read a ranked list and its summary; ``InputError`` naming what is wrong with either."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in LIST_FORMATS:
        raise InputError(f"--list {path}: not a ranked list file (use {', '.join(LIST_FORMATS)})")
    if not path.is_file():
        raise InputError(f"--list {path}: no such file")
    try:
        frame = _read_frame(path, suffix)
    except Exception as exc:  # noqa: BLE001 - any reader failure means an unreadable file
        raise InputError(f"--list {path}: cannot be read as {suffix} ({exc})") from None
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise InputError(
            f"--list {path}: missing column(s) {', '.join(missing)}; "
            "expected a ranked list written by valuemodel score"
        )
    frame = _typed(frame, path)
    dates = frame["as_of"].dropna().unique()
    if len(dates) != 1:
        raise InputError(f"--list {path}: expected one as_of date, found {len(dates)}")
    as_of = date.fromisoformat(str(dates[0]))
    summary = _read_summary(summary_path(path), as_of)
    written_with = summary.get("list")  # absent from summaries written before it was kept
    if written_with is not None and written_with != path.name:
        raise InputError(
            f"{summary_path(path)}: this summary was written with the list {written_with!r}, "
            f"not {path.name!r} (a list scored later to another format replaced it); score "
            f"{path.name!r} again or evaluate {written_with!r}"
        )
    return PastList(path, frame.sort_values("rank", kind="mergesort"), summary, as_of)


def _read_frame(path: Path, suffix: str) -> pd.DataFrame:
    """The list with the contract's names (a ``--lang zh`` list is read back to them)."""
    ids = {c: str for c in ("account_id", "manager_id", "branch")}
    ids |= {COLUMNS_ZH[c]: str for c in list(ids)}
    if suffix == ".csv":
        return to_english(pd.read_csv(path, dtype=ids))
    if suffix == ".parquet":
        return pd.read_parquet(path)
    sheets = pd.read_excel(path, sheet_name=None, dtype=ids)
    summaries = set(SUMMARY_SHEETS.values())
    parts = [to_english(rows) for name, rows in sheets.items() if name not in summaries]
    parts = [rows for rows in parts if len(rows)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(REQUIRED))


def _typed(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    frame = frame.copy()
    frame["account_id"] = frame["account_id"].astype(str)
    if frame["account_id"].duplicated().any():
        raise InputError(f"--list {path}: an account_id appears more than once")
    for column in ("rank", "churn_probability", "clv"):
        values = pd.to_numeric(frame[column], errors="coerce")
        if values.isna().any():
            raise InputError(f"--list {path}: column {column!r} has empty or non-numeric values")
        frame[column] = values
    frame["as_of"] = pd.to_datetime(frame["as_of"].astype(str)).dt.strftime("%Y-%m-%d")
    if "control" in frame.columns:
        text = frame["control"].astype(str).str.strip().str.lower()
        frame["control"] = text.isin(("true", "1", "1.0", "yes"))
    return frame


def _read_summary(path: Path, as_of: date) -> dict[str, Any]:
    if not path.is_file():
        raise InputError(
            f"{path}: the scoring summary is missing; evaluate needs the summary JSON that "
            "valuemodel score writes beside the list (it records the models and horizons)"
        )
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise InputError(f"{path}: not valid JSON ({exc})") from None
    if summary.get("as_of") != as_of.isoformat():
        raise InputError(
            f"{path}: the summary is for as-of {summary.get('as_of')!r}, the list for {as_of}"
        )
    for kind in ("churn", "clv"):
        if not summary.get("models", {}).get(kind, {}).get("horizon_days"):
            raise InputError(f"{path}: models.{kind}.horizon_days is missing")
    return summary


def label_horizons(
    summary: dict[str, Any],
    as_of: date,
    end: date,
    tables: dict[str, tuple[str, date | None, Any]] | None = None,
) -> dict[str, Horizon]:
    """The churn and value windows of the list's models and whether each is covered by
    ``end`` and by the table its label reads (``tables``: per label, the table and its last
    date, as :func:`valuemodel.features.labels.label_ends` gives them)."""
    out = {}
    for name, kind in (("churn", "churn"), ("value", "clv")):
        days = int(summary["models"][kind]["horizon_days"])
        until = as_of + timedelta(days=days)
        table, last = (tables or {}).get(name, (None, None, None))[:2]
        complete = until <= end and (table is None or (last is not None and until <= last))
        out[name] = Horizon(name, days, until, complete, table, last)
    return out


def churn_definition(summary: dict[str, Any]) -> tuple[str, str | None]:
    """The churn definition the churn model was trained with, and a note when it is unknown."""
    recorded = summary["models"]["churn"].get("churn_definition")
    if recorded:
        return str(recorded), None
    return "auto", (
        "the summary does not record the churn definition (a list scored before it was "
        "recorded): 'auto' is used, as training does by default"
    )


def outcomes(
    data: Any,
    as_of: date,
    horizons: dict[str, Horizon],
    definition: str,
    end: date,
) -> pd.DataFrame:
    """Per account of the population at ``as_of``: ``account_id``, ``churn`` (0/1), ``value``
    (revenue over the value horizon), ``revenue`` (over the churn horizon) and ``assets`` (the
    share of its total assets at ``T`` still held at ``T + H``, capped at 1 so that market gains
    do not swamp it; 0 once closed; only with balances); NaN where a window is not complete.
    """
    from valuemodel.features.labels import build_labels

    churn_h, value_h = horizons["churn"].days, horizons["value"].days
    labels = build_labels(data, as_of, churn_h, value_h, definition, end=end)
    short = build_labels(data, as_of, churn_h, churn_h, definition, end=end)
    frame = labels[["account_id", "churn", "value"]].merge(
        short[["account_id", "value"]].rename(columns={"value": "revenue"}), on="account_id"
    )
    frame["account_id"] = frame["account_id"].astype(str)
    balances_end = data.table_end("balances") if data.has("balances") else None
    until = horizons["churn"].until
    if horizons["churn"].complete and balances_end is not None and until <= balances_end:
        before = _assets_at(data, as_of).rename(columns={"assets": "before"})
        after = _assets_at(data, until)
        frame = frame.merge(before, on="account_id", how="left").merge(
            after, on="account_id", how="left"
        )
        ratio = frame["assets"].fillna(0.0) / frame["before"].where(frame["before"] > 0)
        frame["assets"] = ratio.clip(0.0, 1.0)
        frame = frame.drop(columns="before")
    return frame


def _assets_at(data: Any, day: date) -> pd.DataFrame:
    """``account_id``, ``assets``: the latest ``total_assets`` on or before ``day``; 0 when the
    account closed on or before it."""
    import ibis

    from valuemodel import engine

    b = data.table("balances")
    b = b.filter(b.date <= ibis.literal(day))
    latest = b.group_by("account_id").aggregate(last=b.date.max())
    j = b.join(latest, (b.account_id == latest.account_id) & (b.date == latest["last"]))
    held = engine.execute(j.select(b.account_id, assets=b.total_assets.cast("float64")))
    held = held.groupby("account_id", as_index=False)["assets"].sum()
    accounts = data.table("accounts")
    closed = engine.execute(
        accounts.filter(accounts.close_date.notnull() & (accounts.close_date <= day)).select(
            "account_id"
        )
    )
    held.loc[held["account_id"].isin(set(closed["account_id"])), "assets"] = 0.0
    held["account_id"] = held["account_id"].astype(str)
    return held


def read_contacted(path: str | Path) -> set[str]:
    """The account ids in a ``--contacted`` file: ``.csv``/``.parquet`` with an ``account_id``
    column, or ``.txt`` with one id per line."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"--contacted {path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".txt":
        ids = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
        return {i for i in ids if i}
    if suffix not in (".csv", ".parquet"):
        raise InputError(f"--contacted {path}: use .csv, .parquet or .txt")
    frame = pd.read_csv(path, dtype=str) if suffix == ".csv" else pd.read_parquet(path).astype(str)
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    if "account_id" not in frame.columns:
        raise InputError(f"--contacted {path}: no account_id column")
    return set(frame["account_id"].dropna().astype(str).str.strip())


def realised_share(values: pd.Series) -> float:
    """Share of rows with a known outcome."""
    return float(np.mean(values.notna())) if len(values) else 0.0
