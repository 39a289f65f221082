"""Control groups: who is held out of contact, and what contacting did (treated vs control).

The draw (``score --control-share S``): within every service segment (accounts without one form
their own group) the accounts are ordered by a key, ``SHA-256(seed | as_of | account_id)``,
and the first ``round(S * n)`` are ``control``. The key is a hash, not a random number
generator, so the same accounts, as-of date and seed always give the same group, whatever the
order of the rows; each segment holds exactly ``round(S * n)`` control accounts.

The comparison (``evaluate``): treated minus control, for the churn rate, the revenue booked
over the churn horizon per account ("retained revenue", CNY) and the share of the assets held
at ``T`` still there at the end of the churn horizon ("retained assets", capped at 1), each
with a bootstrap percentile interval (fixed seed, so a re-run gives the same interval). A
negative churn difference and positive revenue and asset differences mean that contacting
helped. Groups too small to conclude are reported as such, never as an effect.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pandas as pd

from valuemodel.errors import InputError

DEFAULT_SEED = 20240101
MIN_GROUP = 30
"""Fewest accounts in each of the treated and control groups before an interval is shown."""
BOOTSTRAP_SAMPLES = 2000
CONFIDENCE = 0.95
OUTCOMES = {
    "churn_rate": "churn",
    "retained_revenue": "revenue",
    "retained_assets": "assets",
}
"""Reported name -> outcome column of the frame given to :func:`compare_groups`."""


def check_share(share: float) -> float:
    """``0 <= share < 1`` (``InputError`` otherwise)."""
    if not isinstance(share, int | float) or isinstance(share, bool) or not 0 <= share < 1:
        raise InputError(f"--control-share must be at least 0 and below 1, got {share!r}")
    return float(share)


def draw_keys(account_ids: pd.Series, as_of: str, seed: int) -> np.ndarray:
    """A uniform key in [0, 1) per account: ``SHA-256(seed | as_of | account_id)``."""
    keys = np.empty(len(account_ids))
    for i, account in enumerate(account_ids.astype(str).tolist()):
        digest = hashlib.sha256(f"{seed}|{as_of}|{account}".encode()).digest()
        keys[i] = int.from_bytes(digest[:8], "big") / 2.0**64
    return keys


def draw_control(
    account_ids: pd.Series,
    segments: pd.Series,
    as_of: str,
    share: float,
    seed: int = DEFAULT_SEED,
) -> pd.Series:
    """``control`` (bool) per account: the ``round(share * n)`` lowest keys of each segment.

    ``account_ids`` and ``segments`` (the ``service_segment`` column, nulls their own group)
    share one index, which the result keeps.
    """
    share = check_share(share)
    out = pd.Series(False, index=account_ids.index, name="control")
    if share == 0 or not len(account_ids):
        return out
    frame = pd.DataFrame(
        {
            "key": draw_keys(account_ids, as_of, seed),
            "account_id": account_ids.astype(str).to_numpy(),
            "group": segments.astype("object").fillna("(none)").astype(str).to_numpy(),
        },
        index=account_ids.index,
    ).sort_values(["group", "key", "account_id"], kind="mergesort")
    position = frame.groupby("group", sort=False).cumcount()
    size = frame.groupby("group", sort=False)["key"].transform("size")
    chosen = position < np.floor(share * size + 0.5)
    out.loc[frame.index[chosen.to_numpy()]] = True
    return out


def control_counts(frame: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Per service segment: ``{"accounts": n, "control": c}`` (``frame``: ``service_segment``,
    ``control``)."""
    keys = frame["service_segment"].astype("object").fillna("(null)").astype(str)
    grouped = frame["control"].astype(bool).groupby(keys)
    return {
        str(k): {"accounts": int(v.size), "control": int(v.sum())}
        for k, v in sorted(grouped, key=lambda kv: kv[0])
    }


def bootstrap_difference(
    treated: np.ndarray,
    control: np.ndarray,
    samples: int = BOOTSTRAP_SAMPLES,
    confidence: float = CONFIDENCE,
    seed: int = 0,
) -> tuple[float, float, float]:
    """``mean(treated) - mean(control)`` and its bootstrap percentile interval (low, high).

    Each group is resampled with replacement on its own (the groups were drawn independently).
    """
    treated, control = np.asarray(treated, float), np.asarray(control, float)
    rng = np.random.default_rng(seed)
    diffs = np.empty(samples)
    chunk = max(1, 2_000_000 // max(len(treated) + len(control), 1))
    for start in range(0, samples, chunk):
        m = min(chunk, samples - start)
        t = treated[rng.integers(0, len(treated), (m, len(treated)))].mean(axis=1)
        c = control[rng.integers(0, len(control), (m, len(control)))].mean(axis=1)
        diffs[start : start + m] = t - c
    alpha = (1 - confidence) / 2
    low, high = np.quantile(diffs, [alpha, 1 - alpha])
    return float(treated.mean() - control.mean()), float(low), float(high)


def compare_groups(frame: pd.DataFrame, min_group: int = MIN_GROUP) -> dict[str, Any]:
    """Treated vs control for one group of accounts.

    ``frame``: ``treated`` (bool) and the outcome columns ``churn`` (0/1), ``revenue`` and
    ``assets`` (NaN where unknown; an outcome column may be absent). Returns the group sizes,
    ``conclusive`` (both groups have at least ``min_group`` accounts), a ``verdict`` in words,
    and per outcome in ``OUTCOMES``: treated and control means, the difference and its interval.
    """
    treated = frame["treated"].astype(bool).to_numpy()
    out: dict[str, Any] = {"treated": int(treated.sum()), "control": int((~treated).sum())}
    small = min(out["treated"], out["control"]) < min_group
    out["conclusive"] = not small
    for name, column in OUTCOMES.items():
        if column not in frame.columns:
            continue
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(float)
        known = ~np.isnan(values)
        t, c = values[treated & known], values[~treated & known]
        entry: dict[str, Any] = {
            "treated_mean": _mean(t),
            "control_mean": _mean(c),
            "difference": None,
            "interval": None,
        }
        if len(t) and len(c) and not small:
            diff, low, high = bootstrap_difference(t, c)
            entry |= {"difference": diff, "interval": [low, high]}
        out[name] = entry
    out["verdict"] = _verdict(out, min_group)
    return out


def _mean(values: np.ndarray) -> float | None:
    return float(values.mean()) if len(values) else None


def _verdict(result: dict[str, Any], min_group: int) -> str:
    if not result["conclusive"]:
        return (
            f"too small to conclude: {result['treated']} treated and {result['control']} "
            f"control accounts (each group needs at least {min_group})"
        )
    churn = result.get("churn_rate", {})
    if churn.get("interval") is None:
        return "no churn outcome to compare"
    low, high = churn["interval"]
    pct = f"{churn['difference']:+.1%} ({low:+.1%} to {high:+.1%}, 95% interval)"
    if high < 0:
        return f"contacted accounts churned less: churn rate {pct}"
    if low > 0:
        return f"contacted accounts churned more: churn rate {pct}"
    return f"no effect on churn can be told from chance: churn rate {pct}"
