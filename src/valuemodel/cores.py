"""How many threads the package's own thread pools start."""

from __future__ import annotations

import os


def usable_cores() -> int:
    """The cores this process may use: its CPU affinity where the OS tells it (a container or
    ``taskset`` may allow fewer than the machine has), else all of the machine's."""
    if hasattr(os, "sched_getaffinity"):  # Linux
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
