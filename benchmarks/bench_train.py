"""Benchmark training: out-of-time quality vs baselines, wall time and peak memory.

    python benchmarks/bench_train.py [--accounts 100000] [--trials 20] [--seed 2027]
                                     [--workdir benchmarks/_data] [--write]

Generates a data set (2024-01-01..2025-12-31) with a seed never used in development (in a
child process, so that the peak memory measured is that of training), trains both models as
of 2025-12-31 into a fresh MLflow store, and prints a Markdown section; ``--write`` puts it
under ``## Training`` in BENCHMARKS.md. Targets: under 10 minutes for 100,000 accounts and 20
trials; churn ROC-AUC at least 0.05 above the recency rule; value normalized Gini above
last-period revenue.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2025-12-31"


def generate(accounts: int, seed: int, out: Path) -> float:
    """Write the data set in a child process; returns seconds (0 when already there)."""
    if (out / "trades.parquet").exists():
        return 0.0
    code = (
        "import sys; from valuemodel.data.generate import generate_brokerage, write_brokerage;"
        "write_brokerage(generate_brokerage(int(sys.argv[1]), seed=int(sys.argv[2])), sys.argv[3])"
    )
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, str(accounts), str(seed), str(out)], check=True)
    return time.perf_counter() - start


def run(accounts: int, trials: int, seed: int, workdir: Path) -> dict:
    from valuemodel.training import train

    data = workdir / f"brokerage-{accounts}-{seed}"
    gen_seconds = generate(accounts, seed, data)
    store = workdir / f"mlflow-{accounts}-{trials}"
    shutil.rmtree(store, ignore_errors=True)
    store.mkdir(parents=True)
    start = time.perf_counter()
    result = train(data, AS_OF, trials=trials, tracking_uri=f"sqlite:///{store / 'mlflow.db'}")
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"result": result, "seconds": seconds, "peak_mb": peak_mb, "gen_seconds": gen_seconds}


def _row(name: str, values: dict, keys: tuple[str, ...]) -> str:
    cells = [f"{values[k]:.4f}" if k in values else "-" for k in keys]
    return f"| {name} | " + " | ".join(cells) + " |"


def report(out: dict, accounts: int, trials: int, seed: int) -> str:
    r = out["result"]
    churn, clv = r.churn, r.clv
    ck = ("roc_auc", "pr_auc", "brier", "ece", "lift_top_decile", "capture_top_decile")
    vk = ("normalized_gini", "spearman", "decile_mape", "aggregate_error")
    auc_gain = churn.metrics["roc_auc"] - churn.baseline_metrics["recency"]["roc_auc"]
    gini_gain = (
        clv.metrics["normalized_gini"] - clv.baseline_metrics["last_revenue"]["normalized_gini"]
    )
    cc = churn.counts
    lines = [
        "## Training",
        "",
        f"`python benchmarks/bench_train.py --accounts {accounts} --trials {trials} "
        f"--seed {seed}`: generated data 2024-01-01..2025-12-31 (seed {seed}, never used in "
        f"development), trained as of {AS_OF} ({r.churn_definition} churn within "
        f"{churn.horizon_days} days, value over {clv.horizon_days} days); "
        f"{platform.machine()}, {os.cpu_count()} cores (shared), Python "
        f"{platform.python_version()}.",
        "",
        f"- Training time (`train`, features to registered models): **{out['seconds']:.0f} s** "
        f"(target < 600 s); peak memory (max RSS) **{out['peak_mb']:.0f} MB**.",
        f"- Churn: {cc['train_rows']:,} training rows ({cc['train_accounts']:,} accounts, "
        f"{cc['train_snapshots']} snapshots), {cc['valid_rows']:,} validation rows "
        f"({cc['valid_snapshots']} "
        f"snapshots, {churn.gap_rule} gap). ROC-AUC gain over the recency rule: "
        f"**{auc_gain:+.4f}** (target >= +0.05).",
        "",
        "| churn | " + " | ".join(ck) + " |",
        "|---" * (len(ck) + 1) + "|",
        _row(f"model ({churn.structure})", churn.metrics, ck),
        *[_row(f"baseline: {k}", v, ck) for k, v in churn.baseline_metrics.items()],
        "",
        f"- Value: {clv.counts['train_rows']:,} training rows, {clv.counts['valid_rows']:,} "
        f"validation rows ({clv.gap_rule} gap); kept structure **{clv.structure}**. Normalized "
        f"Gini gain over last-period revenue: **{gini_gain:+.4f}** (target > 0).",
        "",
        "| value | " + " | ".join(vk) + " |",
        "|---" * (len(vk) + 1) + "|",
        _row(f"model ({clv.structure})", clv.metrics, vk),
        *[_row(f"baseline: {k}", v, vk) for k, v in clv.baseline_metrics.items()],
        "",
        *[f"- Note: {n}" for n in r.notes],
    ]
    return "\n".join(lines) + "\n"


def write_section(text: str, path: Path = ROOT / "BENCHMARKS.md") -> None:
    """Replace (or append) the ``## Training`` section, keeping other sections."""
    current = path.read_text() if path.exists() else "# Benchmarks\n"
    lines = current.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.strip() == "## Training"), None)
    if start is None:
        body = current.rstrip("\n") + "\n\n" + text
    else:
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
        )
        body = (
            "".join(lines[:start])
            + text
            + ("\n" + "".join(lines[end:]) if end < len(lines) else "")
        )
    path.write_text(body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--workdir", type=Path, default=ROOT / "benchmarks" / "_data")
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    out = run(args.accounts, args.trials, args.seed, args.workdir)
    text = report(out, args.accounts, args.trials, args.seed)
    print(text)
    if out["gen_seconds"]:
        print(f"(data generation: {out['gen_seconds']:.0f} s, not included)")
    if args.write:
        write_section(text)


if __name__ == "__main__":
    main()
