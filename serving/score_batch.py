"""Batch scoring entry point: the ranked retention list from ``serving/scoring.yaml``.

    python serving/score_batch.py                      # everything from scoring.yaml
    python serving/score_batch.py --as-of 2025-12-31 --out lists/2025-12-31.xlsx --top 500

Command-line options override the config file. The data is validated first; exit code 0 on
success, 2 on rejected input or models (nothing written), 1 on any other failure. All logic
lives in ``valuemodel.serving``; this script only parses arguments and prints.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from valuemodel.data import open_data, validate
from valuemodel.errors import InputError, ModelError
from valuemodel.serving import format_score_summary, load_scoring_config, score

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=HERE / "scoring.yaml")
    parser.add_argument("--data", type=Path)
    parser.add_argument("--as-of")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--top", type=int)
    parser.add_argument("--tiers", type=Path)
    parser.add_argument("--lang", choices=("en", "zh"))
    parser.add_argument("--control-share", type=float)
    parser.add_argument("--control-seed", type=int)
    parser.add_argument("--compare")
    args = parser.parse_args(argv)
    try:
        config = load_scoring_config(args.config)
        overrides = {k: v for k, v in vars(args).items() if k != "config" and v is not None}
        config = config.model_copy(update=overrides)
        data = open_data(config.data)
        validate(data).raise_for_errors()  # once: scoring reuses the checked data set
        result = score(
            data,
            config.as_of,
            config.out,
            top=config.top,
            tracking_uri=config.tracking_uri,
            model_alias=config.model_alias,
            tiers=config.tiers,
            lang=config.lang,
            control_share=config.control_share,
            control_seed=config.control_seed,
            compare=config.compare,
        )
    except (InputError, ModelError) as exc:
        print(f"rejected: {exc}", file=sys.stderr)
        return 2
    print(format_score_summary(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
