"""Retrain the churn and value models from a config file (a thin entry point).

    python training/retrain.py --config training/default.yaml --data DIR --as-of YYYY-MM-DD \
        [--tracking-uri URI] [--force]

All logic lives in ``valuemodel.training.train``; this script parses arguments, prints the
summary and maps errors to exit codes (2: rejected input or model, 1: anything else).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from valuemodel.data import open_data, validate
from valuemodel.errors import InputError, ModelError
from valuemodel.training import format_train_summary, load_config, train

DEFAULT_CONFIG = Path(__file__).resolve().parent / "default.yaml"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(DEFAULT_CONFIG), help="training config YAML")
    parser.add_argument("--data", required=True, help="data directory (docs/data-contract.md)")
    parser.add_argument("--as-of", required=True, help="training as-of date, YYYY-MM-DD")
    parser.add_argument("--tracking-uri", default=None, help="MLflow tracking URI")
    parser.add_argument("--force", action="store_true", help="promote even if not better")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        data = open_data(args.data)
        validate(data).raise_for_errors()  # the same checks as `valuemodel train`, before work
        result = train(
            data,
            args.as_of,
            config=load_config(args.config),
            tracking_uri=args.tracking_uri,
            force=args.force,
        )
    except (InputError, ModelError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(format_train_summary(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
