"""What a training run tells its ``progress`` callback: how far it is and what it is doing.

The callback is ``progress(done, total, stage)``, where ``stage`` names the work under way
("churn: trial 3/10", "value: fitting tweedie, two_part on 48,311 rows", "churn: report and
registering"); a callback of two parameters, ``progress(done, total)``, is still called
with the counts only.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any


def _takes_stage(progress: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(progress).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature: counts only
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 3 or any(p.kind == p.VAR_POSITIONAL for p in params)


class Stages:
    """Counts the ``total`` steps of a run and names the stage under way."""

    def __init__(self, progress: Callable[..., Any] | None, total: int):
        self.progress, self.total, self.done, self.stage = progress, total, 0, ""
        self._with_stage = progress is not None and _takes_stage(progress)

    def begin(self, stage: str) -> None:
        """Work named ``stage`` starts (no step is counted)."""
        self.stage = stage
        if self._with_stage:  # a counts-only callback hears of counted steps only
            self._tell()

    def step(self, then: str | None = None) -> None:
        """One step done; ``then`` names the stage that follows it."""
        self.done = min(self.done + 1, self.total)
        self.stage = then or self.stage
        self._tell()

    def trials(self, kind: str, trials: int, then: str) -> Callable[[], None]:
        """The per-trial callback of a study of ``trials`` trials for model ``kind``: names the
        first trial now, each next one as a trial ends, and ``then`` after the last."""
        if trials == 0:
            self.begin(then)
            return lambda: None
        self.begin(f"{kind}: trial 1/{trials}")
        count = iter(range(2, trials + 2))

        def trial_done() -> None:
            k = next(count, trials + 1)
            self.step(f"{kind}: trial {k}/{trials}" if k <= trials else then)

        return trial_done

    def _tell(self) -> None:
        if self.progress is None:
            return
        if self._with_stage:
            self.progress(self.done, self.total, self.stage)
        else:
            self.progress(self.done, self.total)
