"""Errors that the command line turns into exit codes.

``InputError`` means the user's input was rejected (exit 2, nothing written); anything else
that escapes a command is a failure of ours or of the environment (exit 1).
"""

from __future__ import annotations

from collections.abc import Sequence


class ValuemodelError(Exception):
    """Base class of the package's own errors."""


class InputError(ValuemodelError):
    """Input that breaks the data contract or a configuration rule (exit code 2)."""


class ProblemReport(InputError):
    """One or more validation problems, each naming file, column, rule, count and examples."""

    def __init__(self, problems: Sequence[object]):
        self.problems = list(problems)
        lines = [f"{len(self.problems)} problem(s) in the input:"]
        lines += [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))


class ModelError(ValuemodelError):
    """A registered model is missing, corrupt or does not match the features (exit code 2)."""
