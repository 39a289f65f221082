"""The package's thread pools size themselves by the cores the process may use."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from valuemodel.cores import usable_cores


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs Linux CPU affinity")
def test_usable_cores_follows_the_cpu_affinity_not_the_machine():
    # One core allowed out of the machine's (as `taskset -c 0` or a container's cpuset would),
    # in a child process so this one keeps its cores.
    first = min(os.sched_getaffinity(0))
    code = (
        "import os; from valuemodel.cores import usable_cores; "
        f"os.sched_setaffinity(0, {{{first}}}); print(usable_cores(), os.cpu_count())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    allowed, machine = map(int, out.stdout.split())
    assert allowed == 1
    assert machine == os.cpu_count()
    assert usable_cores() == len(os.sched_getaffinity(0))
