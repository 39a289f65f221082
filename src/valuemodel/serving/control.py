"""Control groups: who is held out of contact, and what contacting did (treated vs control).

The draw (``score --control-share S``): within every service segment (accounts without one form
their own group) the accounts are ordered by a key, ``SHA-256(seed | as_of | account_id)``,
and the first ``round(S * n)`` are ``control``. The key is a hash, not a random number
generator, so the same accounts, as-of date and seed always give the same group, whatever the
order of the rows; each segment holds exactly ``round(S * n)`` control accounts.

The comparison (``evaluate``): treated minus control, for the churn rate, the revenue booked
over the churn horizon per account ("retained revenue", CNY) and the share of the assets held
at ``T`` still there at the end of the churn horizon ("retained assets", capped at 1), each
with a bootstrap percentile interval (fixed seed, so a re-run gives the same interval). The
overall difference is stratified by service segment (the draw's strata). A negative churn
difference and positive revenue and asset differences mean that contacting helped.

Without a record of who was contacted (intent to treat) the treated group is "accounts on the
list to contact", never "contacted accounts". An effect on churn is stated only when Fisher's
exact test gives p < 0.05; per service segment and per recommended action, p-values are
adjusted for the number of groups (Benjamini-Hochberg). Groups with fewer than ``MIN_GROUP``
accounts with a known outcome on either side are reported as too small, never as an effect.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import false_discovery_control, fisher_exact

from valuemodel.errors import InputError

DEFAULT_SEED = 20240101
MIN_GROUP = 30
"""Fewest accounts in each of the treated and control groups before an interval is shown."""
BOOTSTRAP_SAMPLES = 2000
CONFIDENCE = 0.95
ALPHA = 0.05
"""An effect is stated when its (adjusted) p-value is below this."""
INTENT_TO_TREAT = "accounts on the list to contact"
AS_TREATED = "contacted accounts"
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
    strata: tuple[Any, Any] = (None, None),
) -> tuple[float, float, float]:
    """``mean(treated) - mean(control)`` and its bootstrap percentile interval (low, high).

    Each group is resampled with replacement on its own (the groups were drawn independently).
    With ``strata`` (the stratum of each treated and each control value), the difference is
    stratified: the per-stratum differences weighted by the stratum's share of the accounts,
    over the strata that hold both groups, each resampled within its stratum. The control
    draw holds ``round(S * n)`` accounts per segment, so control shares differ by segment, and
    a pooled difference would mix the segments' own churn rates into the effect.
    """
    treated, control = np.asarray(treated, float), np.asarray(control, float)
    if strata[0] is not None:
        return _stratified(treated, control, strata, samples, confidence, seed)
    diffs = _draws(treated, control, samples, seed)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(diffs, [alpha, 1 - alpha])
    return float(treated.mean() - control.mean()), float(low), float(high)


def _draws(treated: np.ndarray, control: np.ndarray, samples: int, seed: int) -> np.ndarray:
    """``samples`` bootstrap differences of the means, each group resampled on its own."""
    rng = np.random.default_rng(seed)
    diffs = np.empty(samples)
    chunk = max(1, 2_000_000 // max(len(treated) + len(control), 1))
    for start in range(0, samples, chunk):
        m = min(chunk, samples - start)
        t = treated[rng.integers(0, len(treated), (m, len(treated)))].mean(axis=1)
        c = control[rng.integers(0, len(control), (m, len(control)))].mean(axis=1)
        diffs[start : start + m] = t - c
    return diffs


def _stratified(treated, control, strata, samples, confidence, seed):
    s_t, s_c = (np.asarray(x).astype(str) for x in strata)
    both = sorted(set(s_t) & set(s_c))
    sizes = np.array([(s_t == k).sum() + (s_c == k).sum() for k in both], float)
    weights = sizes / sizes.sum()
    point, draws = 0.0, np.zeros(samples)
    for i, (key, w) in enumerate(zip(both, weights, strict=True)):
        t, c = treated[s_t == key], control[s_c == key]
        point += w * (t.mean() - c.mean())
        draws += w * _draws(t, c, samples, seed + i)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(draws, [alpha, 1 - alpha])
    return float(point), float(low), float(high)


def compare_groups(
    frame: pd.DataFrame, min_group: int = MIN_GROUP, treated: str = INTENT_TO_TREAT
) -> dict[str, Any]:
    """Treated vs control for one group of accounts.

    ``frame``: ``treated`` (bool) and the outcome columns ``churn`` (0/1), ``revenue`` and
    ``assets`` (NaN where unknown; an outcome column may be absent); optionally ``stratum``
    (the service segment), in which case each difference is the stratified one (see
    :func:`bootstrap_difference`). ``treated`` names the treated group in the verdict.
    Returns the group sizes, ``conclusive`` (both groups have at least ``min_group`` accounts
    with a known churn outcome), a ``verdict`` in words, the churn ``p_value`` (Fisher's exact
    test, two-sided) and per outcome in ``OUTCOMES``: treated and control means, the
    difference and its interval.
    """
    is_treated = frame["treated"].astype(bool).to_numpy()
    strata = frame["stratum"].to_numpy() if "stratum" in frame.columns else None
    out: dict[str, Any] = {"treated": int(is_treated.sum()), "control": int((~is_treated).sum())}
    out["conclusive"] = False
    for name, column in OUTCOMES.items():
        if column not in frame.columns:
            continue
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(float)
        known = ~np.isnan(values)
        t, c = values[is_treated & known], values[~is_treated & known]
        entry: dict[str, Any] = {
            "treated_mean": _mean(t),
            "control_mean": _mean(c),
            "with_outcome": [int(len(t)), int(len(c))],
            "difference": None,
            "interval": None,
        }
        enough = min(len(t), len(c)) >= min_group
        if enough:
            s_t = strata[is_treated & known] if strata is not None else None
            s_c = strata[~is_treated & known] if strata is not None else None
            diff, low, high = bootstrap_difference(t, c, strata=(s_t, s_c))
            entry |= {"difference": diff, "interval": [low, high]}
        if name == "churn_rate":
            out["conclusive"] = enough
            out["p_value"] = _fisher(t, c) if enough else None
        out[name] = entry
    out["verdict"] = _verdict(out, min_group, treated)
    return out


def _fisher(t: np.ndarray, c: np.ndarray) -> float:
    """Two-sided p-value of Fisher's exact test on the 2x2 table churned/stayed x group."""
    table = [[int(t.sum()), int(len(t) - t.sum())], [int(c.sum()), int(len(c) - c.sum())]]
    return float(fisher_exact(table).pvalue)


def adjust_verdicts(
    groups: dict[str, dict[str, Any]], min_group: int = MIN_GROUP, treated: str = INTENT_TO_TREAT
) -> dict[str, dict[str, Any]]:
    """The verdicts of one family of comparisons (the service segments, or the recommended
    actions) corrected for their number: Benjamini-Hochberg adjusted p-values
    (``p_adjusted``, false discovery rate 5 %) over the conclusive groups; a group's effect is
    stated only when its adjusted p-value is below 0.05."""
    judged = [k for k, g in groups.items() if g.get("p_value") is not None]
    if not judged:
        return groups
    adjusted = false_discovery_control([groups[k]["p_value"] for k in judged], method="bh")
    for key, p in zip(judged, adjusted, strict=True):
        g = groups[key]
        g["p_adjusted"] = float(p)
        g["verdict"] = _verdict(g, min_group, treated, comparisons=len(judged))
    return groups


def _mean(values: np.ndarray) -> float | None:
    return float(values.mean()) if len(values) else None


def _verdict(
    result: dict[str, Any], min_group: int, treated: str, comparisons: int | None = None
) -> str:
    churn = result.get("churn_rate", {})
    counts = churn.get("with_outcome", [result["treated"], result["control"]])
    if not result["conclusive"]:
        return (
            f"too small to conclude: {counts[0]} treated and {counts[1]} control accounts "
            f"with a known outcome (each group needs at least {min_group})"
        )
    if churn.get("interval") is None:
        return "no churn outcome to compare"
    low, high = churn["interval"]
    pct = f"{churn['difference']:+.1%} ({low:+.1%} to {high:+.1%}, 95% interval)"
    p = result["p_value"] if comparisons is None else result["p_adjusted"]
    tested = (
        f"p = {p:.3g}"
        if comparisons is None
        else f"p = {p:.3g} after the Benjamini-Hochberg correction for {comparisons} groups"
    )
    if p < ALPHA and churn["difference"] < 0:
        return f"{treated} churned less than control: churn rate {pct}; {tested}"
    if p < ALPHA and churn["difference"] > 0:
        return f"{treated} churned more than control: churn rate {pct}; {tested}"
    return f"no effect on churn can be told from chance: churn rate {pct}; {tested}"
