"""Who can be saved, in the list: ``uplift``, ``saved_value``, the ranking, "do not contact".

With a registered uplift model (``valuemodel-uplift``, see :mod:`valuemodel.training.uplift`)
``score`` adds, per account:

- ``uplift``: the predicted fall in churn probability within the churn horizon if the
  account is contacted (negative: contact is predicted to do harm), 6 decimals, kept within
  ``[-(1 - p), p]`` for the account's churn probability ``p`` (:func:`bounded`);
- ``saved_value`` = ``uplift * clv`` as written (not rounded again, like ``value_at_risk``);
- ``uplift_reasons``: the two strongest drivers of the predicted effect, in words;
- ``recommended_action`` "do not contact" where the uplift is clearly negative
  (at most ``DO_NOT_CONTACT``, -2 percentage points).

``--rank-by saved_value`` makes ``priority_score`` saved value x tier weights (instead of
value at risk x tier weights); accounts with negative saved value then rank last among the
non-excluded ones. The default is what the model's out-of-time validation decided
(``default_rank_by`` in its metadata), ``value_at_risk`` without an uplift model.

:func:`contacts_from_lists` builds the ``contacts`` table from past lists' ``control`` column.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from valuemodel.errors import InputError, ModelError
from valuemodel.models.shap_values import top_drivers
from valuemodel.serving.ranking import priority_score
from valuemodel.serving.reasons import phrase_drivers

RANK_BY = ("saved_value", "value_at_risk")
DO_NOT_CONTACT = -0.02
UPLIFT_DECIMALS = 6
DO_NOT_CONTACT_ACTION = {
    "en": "Do not contact: contact is predicted to raise this account's churn risk",
    "zh": "请勿联系：预计联系会提高该客户的流失风险",
}
_JOIN = {"en": "; ", "zh": "；"}


def load_uplift(alias: str, tracking_uri: str | None) -> Any | None:
    """The uplift model behind ``alias``, or None when none is registered."""
    from valuemodel.models.tracking import Tracker

    tracker = Tracker(tracking_uri, read_only=True)
    if tracker.alias_version("uplift", alias) is None:
        return None
    return tracker.load("uplift", alias)


def resolve_rank_by(rank_by: str | None, model: Any | None) -> tuple[str, str]:
    """The ranking to use and why (``InputError`` for saved_value without an uplift model)."""
    if rank_by is not None and rank_by not in RANK_BY:
        raise InputError(f"--rank-by must be one of {', '.join(RANK_BY)}, got {rank_by!r}")
    if model is None:
        if rank_by == "saved_value":
            raise ModelError(
                "--rank-by saved_value needs an uplift model (valuemodel-uplift), and none is "
                "registered: train with a contacts table of past campaigns first"
            )
        return "value_at_risk", "no uplift model is registered: ranked by value_at_risk"
    if rank_by is not None:
        return rank_by, f"--rank-by {rank_by} given"
    why = str(model.metadata.get("why", ""))
    return model.default_rank_by, f"the uplift model's validation decided: {why}"


def add_uplift(scored: pd.DataFrame, model: Any, rank_by: str, config: Any) -> pd.DataFrame:
    """``scored`` (``score_features`` output) with ``uplift`` and ``saved_value``, and the
    priority by saved value when ``rank_by`` says so."""
    effect = model.predict(scored) if len(scored) else np.array([])
    uplift = np.round(bounded(effect, scored["churn_probability"]), UPLIFT_DECIMALS)
    saved = uplift * scored["clv"].to_numpy(dtype=float)
    out = scored.assign(uplift=uplift, saved_value=saved)
    if rank_by == "saved_value":
        out["priority_score"] = priority_score(out.assign(value_at_risk=saved), config)
    return out


def bounded(effect, churn_probability) -> np.ndarray:
    """The effect within what the churn probability ``p`` allows: contact cannot lower the
    churn probability by more than ``p``, nor raise it by more than ``1 - p``. Most of a
    meta-learner's error for a low-risk account is cut off here, where it would otherwise be
    multiplied by a large clv into the top of the list."""
    p = np.asarray(churn_probability, dtype=float)
    return np.clip(np.asarray(effect, dtype=float), -(1.0 - p), p)


def uplift_reasons(
    ranked: pd.DataFrame, model: Any, registry: Any = None, lang: str = "en"
) -> pd.Series:
    """The two strongest drivers of each account's predicted effect, in words: what raises
    it for an account that contact helps, what lowers it for one it harms."""
    if not len(ranked):
        return pd.Series([], dtype="object", index=ranked.index)
    X = model.prepare(ranked)
    contrib = model.contributions(X)
    sign = np.where(ranked["uplift"].to_numpy(dtype=float) < 0, -1.0, 1.0)
    drivers = top_drivers(contrib.mul(sign, axis=0), k=2)
    words = phrase_drivers(drivers, ranked, registry, lang)
    texts = [_JOIN[lang].join(p for p in pair if p) or None for pair in zip(*words, strict=True)]
    return pd.Series(texts, index=ranked.index, dtype="object")


def mark_do_not_contact(written: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """``recommended_action`` (and ``action_id``) "do not contact" where uplift is clearly
    negative."""
    if "uplift" not in written.columns:
        return written
    harm = written["uplift"].to_numpy(dtype=float) <= DO_NOT_CONTACT
    written = written.copy()
    written.loc[harm, "recommended_action"] = DO_NOT_CONTACT_ACTION[lang]
    if "action_id" in written.columns:
        written.loc[harm, "action_id"] = "do_not_contact"
    return written


def uplift_summary(scored: pd.DataFrame, model: Any, rank_by: str, why: str) -> dict[str, Any]:
    """The uplift part of ``<stem>.summary.json``."""
    out: dict[str, Any] = {"rank_by": rank_by, "why": why}
    if model is None:
        return out
    uplift = scored["uplift"].to_numpy(dtype=float)
    return out | {
        "model": {"name": "valuemodel-uplift", "version": model.version, "run_id": model.run_id},
        "method": model.metadata.get("method"),
        "mean_uplift": round(float(np.mean(uplift)), 6) if len(uplift) else None,
        "do_not_contact": int((uplift <= DO_NOT_CONTACT).sum()),
        "saved_value_total": round(float(np.clip(scored["saved_value"], 0, None).sum()), 2),
    }


def contacts_from_lists(paths: list[Path]) -> pd.DataFrame:
    """The ``contacts`` table from past ranked lists scored with ``--control-share``.

    One row per listed account per list: ``account_id``, ``date`` (the list's ``as_of``),
    ``group`` (``control`` where ``control`` is true, else ``treated``) and ``action`` (the
    list's ``recommended_action`` for treated accounts). ``InputError`` naming the file for a
    list without a ``control`` column, and for one account listed twice on one date.
    """
    if not paths:
        raise InputError("--lists: give at least one ranked list")
    frames = [_campaign(Path(p)) for p in paths]
    table = pd.concat(frames, ignore_index=True)
    twice = table.duplicated(["account_id", "date"], keep=False)
    if twice.any():
        ex = table.loc[twice, ["account_id", "date"]].drop_duplicates().head(5)
        shown = "; ".join(f"account_id={a!r}, date={d!r}" for a, d in ex.itertuples(index=False))
        raise InputError(
            f"--lists: {int(twice.sum()):,} rows give one account twice on one date (two lists "
            f"of the same as-of date?); e.g. {shown}"
        )
    return table.sort_values(["date", "account_id"], kind="stable").reset_index(drop=True)


def _campaign(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise InputError(f"--lists {path}: no such file")
    try:
        frame = (
            pd.read_parquet(path)
            if path.suffix == ".parquet"
            else pd.read_csv(path, dtype={"account_id": str})
        )
    except Exception as exc:  # noqa: BLE001 - any reader failure means an unreadable file
        raise InputError(f"--lists {path}: cannot be read ({exc})") from None
    missing = [c for c in ("account_id", "as_of", "control") if c not in frame.columns]
    if missing:
        hint = (
            " (score with --control-share to hold a control group out of contact)"
            if "control" in missing
            else ""
        )
        raise InputError(
            f"--lists {path}: column {', '.join(repr(c) for c in missing)} missing{hint}; "
            "a campaign needs account_id, as_of and control"
        )
    control = frame["control"].astype(str).str.strip().str.lower()
    bad = ~control.isin(["true", "false", "1", "0"])
    if bad.any():
        raise InputError(
            f"--lists {path}, column 'control': value not true/false ({int(bad.sum()):,} rows)"
        )
    held = control.isin(["true", "1"])
    action = frame.get("recommended_action", pd.Series(None, index=frame.index))
    return pd.DataFrame(
        {
            "account_id": frame["account_id"].astype(str),
            "date": pd.to_datetime(frame["as_of"]).dt.strftime("%Y-%m-%d"),
            "group": np.where(held, "control", "treated"),
            "action": pd.Series(np.where(held, None, action.astype(object)), dtype="object"),
        }
    )
