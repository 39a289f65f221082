"""Retrain the churn and value models: ``valuemodel train`` under the name of a script.

    python training/retrain.py --config training/default.yaml --data DIR --as-of YYYY-MM-DD \
        [--tracking-uri URI] [--force]

Every option of ``valuemodel train`` works here (``--help`` lists them; without ``--config``
the packaged defaults, which ``training/default.yaml`` links to, apply). The command does the
work: it validates the data, calls ``valuemodel.training.train``, prints the summary and exits
0 on success, 2 on rejected input or models, 1 on anything else.
"""

from __future__ import annotations

import sys

from valuemodel.cli import run_command


def main(argv: list[str] | None = None) -> None:
    run_command("train", sys.argv[1:] if argv is None else argv, prog_name="retrain.py")


if __name__ == "__main__":
    main()
