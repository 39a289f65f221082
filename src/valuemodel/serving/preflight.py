"""What ``score`` checks before any work: its arguments, the tiers file and the models.

All of it needs no data, so ``valuemodel score`` runs it before the data's checks (seconds on a
large directory): a malformed date, an unknown alias or a bad tiers file is rejected at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from valuemodel.errors import InputError
from valuemodel.serving.config import load_tiers
from valuemodel.serving.control import check_share
from valuemodel.serving.writers import check_format, check_own_summary


def check_scoring(
    alias: str, compare: str | None, tracking_uri: str | None, tiers: str | Path | None
) -> None:
    """The checks that need no data: the tiers file, and that the models exist under the
    aliases (nothing is loaded or written; ``ModelError`` lists the aliases that exist)."""
    from valuemodel.models.tracking import scoring_aliases

    if compare is not None and compare == alias:
        raise InputError(f"--compare {compare!r} is the alias being scored; name another one")
    if tiers is not None:
        load_tiers(tiers)
    scoring_aliases(alias, compare, tracking_uri)


def check_arguments(
    out: str | Path, as_of: Any, top: int | None, lang: str
) -> tuple[Path, str, str]:
    """The list's path, the as-of date as ``YYYY-MM-DD`` and the format; ``InputError`` for
    a bad one, or when the list would replace another list's summary."""
    out = Path(out)
    fmt = check_format(out)
    check_own_summary(out)
    if lang not in ("en", "zh"):
        raise InputError(f"lang must be 'en' or 'zh', got {lang!r}")
    if top is not None and top < 1:
        raise InputError(f"top must be >= 1, got {top}")
    return out, as_of_text(as_of), fmt


def check_loop(share: float, seed: int, compare: str | None, alias: str) -> dict[str, Any]:
    """The control draw's settings; ``InputError`` for a bad share or comparing an alias with
    itself."""
    if compare is not None and compare == alias:
        raise InputError(f"--compare {compare!r} is the alias being scored; name another one")
    return {"share": check_share(share), "seed": seed}


def as_of_text(value: Any) -> str:
    try:
        return pd.Timestamp(value).date().isoformat()
    except (ValueError, TypeError):
        raise InputError(f"as-of date {value!r} is not a date (expected YYYY-MM-DD)") from None
