"""Batch scoring entry point: the ranked retention list from ``serving/scoring.yaml``.

    python serving/score_batch.py                      # everything from scoring.yaml
    python serving/score_batch.py --as-of 2025-12-31 --out lists/2025-12-31.xlsx --top 500

The config's keys are the options of ``valuemodel score`` (same names), and this script runs
that command with them; options given here (any of ``valuemodel score``'s) override the file.
The command validates the data and scores; exit code 0 on success, 2 on rejected input or
models (nothing written), 1 on any other failure.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from valuemodel.cli import run_command
from valuemodel.errors import InputError
from valuemodel.serving import ScoringConfig, load_scoring_config

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--config", type=Path, default=HERE / "scoring.yaml")
    args, overrides = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    try:
        config = load_scoring_config(args.config)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    run_command("score", [*_options(config), *overrides], prog_name="score_batch.py")


def _options(config: ScoringConfig) -> list[str]:
    """``--as-of 2024-06-28 --out ...``: the keys set in the config as command options."""
    given = config.model_dump(exclude_none=True).items()
    return [word for key, value in given for word in (f"--{key.replace('_', '-')}", str(value))]


if __name__ == "__main__":
    main()
