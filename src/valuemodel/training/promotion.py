"""Whether a newly trained version becomes ``champion`` (pure logic, no MLflow).

Rule: the new version is promoted when its metric (churn: ROC-AUC; value: normalized Gini) is
at least the current champion's on the *same, new* data, when there is no champion yet, when
the champion cannot score the new features (its schema no longer matches), or when ``force``
is set. Otherwise it is registered as ``challenger``. The data is the held-out half of the
validation accounts (see ``frames.hold_out``): the new model was tuned, stopped early and
calibrated on the other half, so scoring it on rows it was selected on would favour it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

PROMOTION_METRIC = {"churn": "roc_auc", "clv": "normalized_gini"}
"""The metric that decides the promotion, per model kind."""


@dataclass(frozen=True)
class Decision:
    """The outcome and its reason, as recorded on the model version and in the run."""

    promoted: bool
    alias: str
    reason: str
    metric: str
    new_score: float
    champion_version: str | None = None
    champion_score: float | None = None
    forced: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


def _fmt(x: float | None) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.4f}"


def decide(
    metric: str,
    new_score: float,
    champion_version: str | None,
    champion_score: float | None,
    *,
    force: bool = False,
    champion_error: str | None = None,
    on: str = "the new validation data",
) -> Decision:
    """Apply the promotion rule (see the module docstring); ``on`` names the rows compared."""
    args = dict(
        metric=metric,
        new_score=new_score,
        champion_version=champion_version,
        champion_score=champion_score,
        forced=force,
    )
    new, old = _fmt(new_score), _fmt(champion_score)
    if force:
        reason = (
            f"forced: promoted without comparison (champion v{champion_version}: {metric} {old},"
            f" new {new})"
            if champion_version
            else f"forced: first model ({metric} {new})"
        )
        return Decision(True, "champion", reason, **args)
    if champion_version is None:
        return Decision(True, "champion", f"first model: no champion yet ({metric} {new})", **args)
    if champion_error is not None:
        reason = f"champion v{champion_version} cannot score the new data ({champion_error})"
        return Decision(True, "champion", reason, **args)
    better = (
        new_score is not None
        and not math.isnan(new_score)
        and (champion_score is None or math.isnan(champion_score) or new_score >= champion_score)
    )
    if better:
        reason = f"{metric} {new} >= champion v{champion_version}'s {old} on {on}"
        return Decision(True, "champion", reason, **args)
    reason = (
        f"{metric} {new} < champion v{champion_version}'s {old} on {on}; "
        f"champion v{champion_version} kept (train with --force to promote anyway)"
    )
    return Decision(False, "challenger", reason, **args)
