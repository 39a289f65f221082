"""A problem found in the input: a broken rule, a warning or a normalisation, as reported."""

from __future__ import annotations

from dataclasses import dataclass

MAX_EXAMPLES = 5
"""Offending values shown per problem."""


@dataclass(frozen=True)
class Problem:
    """One broken rule: where, what, how often, and a few of the offending values."""

    file: str
    column: str | None
    rule: str
    count: int | None
    examples: tuple[str, ...] = ()

    def __str__(self) -> str:
        where = f"{self.file}, column '{self.column}'" if self.column else self.file
        text = f"{where}: {self.rule}"
        if self.count is not None:
            text += f" ({self.count:,} row{'s' if self.count != 1 else ''})"
        if self.examples:
            text += "; e.g. " + "; ".join(self.examples)
        return text
