"""Progress on stderr for the ``valuemodel`` console script: a bar on a terminal, else lines."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

err = Console(stderr=True, soft_wrap=True)


class _Bar:
    """What a library function's ``progress`` callback drives: a stage name or a count.

    On a terminal it is a rich bar whose text names the stage under way. Elsewhere (a log
    file, a scheduler, ``make demo > log``) a bar would be lost, so each new stage is one line
    with the time since the command's work began: the last line says where a run is, the
    differences where its time went.
    """

    def __init__(self, bar: Progress, task: Any, description: str, lines: bool):
        self.bar, self.task, self.description, self.lines = bar, task, description, lines
        self.started, self.shown = time.monotonic(), None

    def stage(self, label: str) -> None:
        """One more stage done, named ``label`` (the generator's callback)."""
        self.bar.update(self.task, advance=1, description=f"{self.description}: {label}")
        self._line(label)

    def count(self, done: int, total: int, stage: str | None = None) -> None:
        """``done`` of ``total`` steps, ``stage`` under way (training's and scoring's callback)."""
        text = f"{self.description}: {stage}" if stage else self.description
        self.bar.update(self.task, completed=done, total=total, description=text)
        if stage:
            self._line(stage)

    def _line(self, label: str) -> None:
        if self.lines and label != self.shown:
            self.shown = label
            elapsed = time.monotonic() - self.started
            err.print(f"[{elapsed:7.1f} s] {self.description}: {label}", highlight=False)

    def close(self) -> None:
        if self.lines:
            self.shown = None
            self._line("finished")


@contextlib.contextmanager
def progress_bar(description: str, total: int | None = None) -> Iterator[_Bar]:
    """A rich progress bar on stderr; one line per stage when stderr is not a terminal."""
    columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn()]
    lines = not err.is_terminal
    with Progress(*columns, console=err, transient=True, disable=lines) as bar:
        tracker = _Bar(bar, bar.add_task(description, total=total), description, lines)
        yield tracker
        tracker.close()
