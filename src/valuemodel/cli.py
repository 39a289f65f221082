"""The ``valuemodel`` console script: argument parsing, progress and messages only.

Exit codes (README, "Commands"): 0 success, 2 rejected input (message on stderr, nothing
written), 1 any other failure.
"""

from __future__ import annotations

import contextlib
import enum
import functools
import os
import sys
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from valuemodel.cli_options import (
    INPUT_OPTIONS,
    AsOfOpt,
    ChurnDefinition,
    DataOpt,
    Input,
    TrackingOpt,
    reads_data,
)
from valuemodel.cli_progress import err, progress_bar
from valuemodel.errors import InputError, ModelError

# MLflow's INFO lines (database migrations, run links) are noise to an analyst at a terminal;
# warnings still show. An explicit MLFLOW_LOGGING_LEVEL wins.
os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")

app = typer.Typer(
    name="valuemodel",
    help="Churn risk and customer value for securities brokerages.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(soft_wrap=True)


def _command(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the package's errors into messages and exit codes."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (InputError, ModelError) as exc:
            err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
            raise typer.Exit(2) from None
        except typer.Exit:
            raise
        except KeyboardInterrupt:
            err.print("interrupted; nothing was written")
            raise typer.Exit(1) from None
        except Exception as exc:  # noqa: BLE001 - the last line of defence of a CLI
            if os.environ.get("VALUEMODEL_DEBUG"):
                raise
            err.print(f"[bold red]failed:[/] {type(exc).__name__}: {escape(str(exc))}")
            err.print("(set VALUEMODEL_DEBUG=1 to see the traceback)")
            raise typer.Exit(1) from None

    return wrapper


def parse_date(value: str, option: str = "--as-of") -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{option} {value!r}: not a date (expected YYYY-MM-DD)") from None


def load_valid(source: Path | Input, reuse: bool = True) -> tuple[Any, Any]:
    """Open and validate a data directory; reject it (exit 2) before any work if it is bad.

    Returns the data set (quarantined rows left out, normalisations applied) and the report.
    With ``reuse`` (and without ``--recheck``), input that passed the checks before and has
    not changed since is not checked again (``valuemodel.data.record``).
    """
    from valuemodel.data import open_data, record, validate
    from valuemodel.data.settings import ReadSettings

    source = source if isinstance(source, Input) else Input(source)
    settings = ReadSettings.load(source.timezone, source.encoding, source.labels)
    con = _connect(source.engine)
    data = open_data(source.path, con=con, settings=settings)
    key = record.input_key(data, source.max_bad_share)
    found = None
    if key is not None and reuse and not source.recheck and source.quarantine is None:
        found = record.load(data, key)
    if found is not None:
        report = found.report
        err.print(
            f"[green]checked:[/] {escape(str(source.path))} passed the checks at "
            f"{found.checked_at} and its files have not changed since: not checked again "
            "(--recheck to check)",
            highlight=False,
        )
    else:
        with progress_bar("Checking the data"):
            report = validate(data, source.quarantine, source.max_bad_share)
    for note in report.normalised:
        err.print(f"[yellow]normalised:[/] {escape(str(note))}", highlight=False)
    for warning in report.warnings:
        err.print(f"[yellow]warning:[/] {escape(str(warning))}", highlight=False)
    report.raise_for_errors()
    for file, count in report.quarantined.items():
        err.print(
            f"[yellow]quarantined:[/] {count:,} row{'s' if count != 1 else ''} of {file} -> "
            f"{source.quarantine / (Path(file).stem + '.parquet')}",
            highlight=False,
        )
    if key is not None and found is None:
        record.save(data, key, report)
    return data, report


def check_as_of(dataset: Any, day: date) -> None:
    """Reject an as-of date outside the data's range (exit 2, with the range)."""
    from valuemodel.data.span import check_as_of as check

    check(dataset, day)


def _connect(engine_name: str) -> Any:
    from valuemodel import engine

    return engine.connect() if engine_name == "duckdb" else engine.connect_spark()


@app.command()
@_command
@reads_data
def validate(data: DataOpt, source: Input = INPUT_OPTIONS) -> None:
    """Check a data directory against the data contract (exit 2 when it breaks a rule)."""
    _, report = load_valid(source, reuse=False)
    for name, rows in report.rows.items():
        out.print(f"  {name}: {rows:,} rows")
    out.print(f"[green]ok[/]: {data} follows the data contract ({len(report.warnings)} warnings)")


@app.command()
@_command
@reads_data
def features(
    data: DataOpt,
    as_of: AsOfOpt,
    out_file: Annotated[Path, typer.Option("--out", help="Output file (.csv or .parquet).")],
    source: Input = INPUT_OPTIONS,
) -> None:
    """One row per account in the population at the as-of date: account_id, as_of, features."""
    from valuemodel.features import build_features
    from valuemodel.io import check_table_path, write_table

    path = check_table_path(out_file)
    day = parse_date(as_of)
    dataset, _ = load_valid(source)
    check_as_of(dataset, day)
    with progress_bar("Building features"):
        frame = build_features(dataset.until(day), day)
    write_table(frame, path)
    out.print(f"wrote {len(frame):,} accounts x {frame.shape[1] - 2} features to {path}")


@app.command()
@_command
@reads_data
def train(
    data: DataOpt,
    as_of: AsOfOpt,
    churn_horizon: Annotated[
        int | None, typer.Option("--churn-horizon", min=1, help="H in days (default 90).")
    ] = None,
    value_horizon: Annotated[
        int | None, typer.Option("--value-horizon", min=1, help="V in days (default 365).")
    ] = None,
    churn_definition: Annotated[
        ChurnDefinition | None,
        typer.Option("--churn-definition", help="auto: assets with balances, else inactivity."),
    ] = None,
    trials: Annotated[
        int | None,
        typer.Option(
            "--trials",
            min=1,
            help="Optuna trials per model (default: tuning.trials of the training config, 10).",
        ),
    ] = None,
    config: Annotated[Path | None, typer.Option("--config", help="Training YAML.")] = None,
    tracking_uri: TrackingOpt = None,
    experiment: Annotated[
        str | None,
        typer.Option(
            "--experiment", help="MLflow experiment to log the runs in (default: valuemodel)."
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            metavar="",
            help="A flag: register both new models as champion even if not better.",
        ),
    ] = False,
    source: Input = INPUT_OPTIONS,
) -> None:
    """Train, validate out of time, tune, log to MLflow and register both models."""
    from valuemodel.training import format_train_summary, load_config
    from valuemodel.training import train as run_training

    day = parse_date(as_of)
    cfg = load_config(config) if config else None
    dataset, _ = load_valid(source)
    check_as_of(dataset, day)
    with progress_bar("Training churn and value models") as bar:
        result = run_training(
            dataset,
            day,
            churn_horizon=churn_horizon,
            value_horizon=value_horizon,
            churn_definition=churn_definition.value if churn_definition else None,
            trials=trials,
            config=cfg,
            tracking_uri=tracking_uri,
            experiment=experiment,
            force=force,
            progress=bar.count,
        )
    out.print(format_train_summary(result), markup=False, highlight=False)
    out.print("\n".join(_report_lines(result)), markup=False, highlight=False)


def _report_lines(result: Any) -> list[str]:
    """Where each model's training report went (an MLflow artifact of its run)."""
    from valuemodel.models.tracking import Tracker

    tracker = Tracker(result.tracking_uri)
    where = {m.kind: tracker.artifact_path(m.run_id, "report.html") for m in result.models}
    return [f"{kind} training report: {path}" for kind, path in where.items()]


class Lang(enum.StrEnum):
    en = "en"
    zh = "zh"


class RankBy(enum.StrEnum):
    saved_value = "saved_value"
    value_at_risk = "value_at_risk"


@app.command()
@_command
@reads_data
def score(
    data: DataOpt,
    as_of: AsOfOpt,
    out_file: Annotated[
        Path, typer.Option("--out", help="Ranked list (.csv, .parquet or .xlsx workbook).")
    ],
    top: Annotated[int | None, typer.Option("--top", min=1, help="Keep the top K.")] = None,
    tracking_uri: TrackingOpt = None,
    model_alias: Annotated[
        str,
        typer.Option(
            "--model-alias", help="Score with the models under this alias (e.g. challenger)."
        ),
    ] = "champion",
    tiers: Annotated[Path | None, typer.Option("--tiers", help="Tier rules YAML.")] = None,
    lang: Annotated[Lang, typer.Option("--lang", help="Reasons and actions: en or zh.")] = Lang.en,
    source: Input = INPUT_OPTIONS,
    control_share: Annotated[
        float,
        typer.Option(
            "--control-share",
            help="Hold this share (0 <= S < 1) of every service segment out of contact.",
        ),
    ] = 0.0,
    control_seed: Annotated[
        int | None,
        typer.Option("--control-seed", help="Seed of the control draw (default 20240101)."),
    ] = None,
    compare: Annotated[
        str | None,
        typer.Option("--compare", help="Also score with this alias (e.g. challenger)."),
    ] = None,
    rank_by: Annotated[
        RankBy | None,
        typer.Option(
            "--rank-by",
            help="saved_value (uplift x clv) or value_at_risk; default: what the uplift "
            "model's out-of-time validation decided, value_at_risk without one.",
        ),
    ] = None,
) -> None:
    """Score the population at the as-of date and write the ranked retention list."""
    from valuemodel.serving import SCORE_STEPS, format_score_summary
    from valuemodel.serving import score as run_scoring
    from valuemodel.serving.control import DEFAULT_SEED, check_share
    from valuemodel.serving.preflight import check_scoring
    from valuemodel.serving.writers import check_format, check_own_summary

    check_format(out_file)
    check_own_summary(out_file)
    check_share(control_share)
    day = parse_date(as_of)
    check_scoring(model_alias, compare, tracking_uri, tiers)
    dataset, _ = load_valid(source)
    check_as_of(dataset, day)
    with progress_bar("Scoring", total=len(SCORE_STEPS)) as bar:
        result = run_scoring(
            dataset,
            day,
            out_file,
            top=top,
            tracking_uri=tracking_uri,
            model_alias=model_alias,
            tiers=tiers,
            lang=lang.value,
            control_share=control_share,
            control_seed=DEFAULT_SEED if control_seed is None else control_seed,
            compare=compare,
            progress=lambda step, done: bar.count(done, len(SCORE_STEPS), step),
            rank_by=rank_by.value if rank_by else None,
        )
    out.print(format_score_summary(result), markup=False, highlight=False)
    ranking = result.summary["uplift"]
    out.print(f"ranked by {ranking['rank_by']}: {ranking['why']}", markup=False, highlight=False)


@app.command()
@_command
def evaluate(
    list_file: Annotated[
        Path, typer.Option("--list", help="A ranked list written by score (with its summary).")
    ],
    data: DataOpt,
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for evaluation.json and evaluation.html.")
    ],
    contacted: Annotated[
        Path | None,
        typer.Option("--contacted", help="Account ids actually contacted (.csv/.parquet/.txt)."),
    ] = None,
    tracking_uri: TrackingOpt = None,
) -> None:
    """Judge a past ranked list by what happened after its as-of date."""
    from valuemodel.serving.evaluation import evaluate as run_evaluation
    from valuemodel.serving.evaluation import format_evaluation, log_evaluation
    from valuemodel.serving.outcomes import read_list

    read_list(list_file)
    dataset, _ = load_valid(data)
    with progress_bar("Evaluating the list"):
        result = run_evaluation(list_file, dataset, out_dir, contacted=contacted)
        html = result.html_path.read_text(encoding="utf-8")
        uri, run_id = log_evaluation(result.evaluation, html, tracking_uri)
    out.print(format_evaluation(result), markup=False, highlight=False)
    out.print(f"  monitoring run {run_id} in {uri}", markup=False, highlight=False)


@app.command()
@_command
def contacts(
    lists: Annotated[
        list[Path],
        typer.Option("--lists", help="Past ranked lists scored with --control-share (repeat)."),
    ],
    out_file: Annotated[Path, typer.Option("--out", help="The contacts table (.csv/.parquet).")],
) -> None:
    """Build the contacts table (past campaigns) from past lists' control column."""
    from valuemodel.serving.uplift import contacts_from_lists
    from valuemodel.serving.writers import check_format, staged, write_table

    fmt = check_format(out_file)
    if fmt not in (".csv", ".parquet"):
        raise InputError(f"--out {out_file}: the contacts table is a .csv or .parquet file")
    table = contacts_from_lists(list(lists))
    with staged([out_file]) as temps:
        write_table(table, temps[0], fmt=fmt)
    groups = table["group"].value_counts()
    out.print(
        f"wrote {len(table):,} contacts ({groups.get('treated', 0):,} treated, "
        f"{groups.get('control', 0):,} control) of {table['date'].nunique()} campaign(s) "
        f"to {out_file}",
        markup=False,
        highlight=False,
    )


@app.command()
@_command
def generate(
    accounts: Annotated[int, typer.Option("--accounts", min=1, help="Number of accounts.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Directory to write the tables to.")],
    start: Annotated[str, typer.Option(help="First day, YYYY-MM-DD.")] = "2024-01-01",
    end: Annotated[str, typer.Option(help="Last day, YYYY-MM-DD.")] = "2025-12-31",
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data).")] = 7,
) -> None:
    """Write a realistic synthetic brokerage data directory (all eight tables)."""
    files = _generate(accounts, out_dir, start, end, seed)
    out.print(f"wrote {len(files)} tables for {accounts:,} accounts to {out_dir}")


def _generate(accounts: int, out_dir: Path, start: str, end: str, seed: int) -> list[Path]:
    first, last = parse_date(start, "--start"), parse_date(end, "--end")
    if last <= first:
        raise InputError(f"--end {end} must be after --start {start}")
    from valuemodel.data.generate import GENERATION_STAGES, generate_brokerage, write_brokerage

    with progress_bar("Generating a brokerage", total=len(GENERATION_STAGES)) as advance:
        tables = generate_brokerage(accounts, first, last, seed=seed, progress=advance.stage)
        return write_brokerage(tables, out_dir)


@app.command()
@_command
def demo(
    accounts: Annotated[
        int, typer.Option("--accounts", min=200, help="Accounts to generate.")
    ] = 3000,
    workdir: Annotated[Path, typer.Option("--workdir", help="Where to put everything.")] = Path(
        "valuemodel-demo"
    ),
    trials: Annotated[int, typer.Option("--trials", min=1, help="Optuna trials per model.")] = 5,
) -> None:
    """Synthetic data -> features -> train both models -> score -> ranked list, all local."""
    from valuemodel.serving import format_score_summary
    from valuemodel.training import format_train_summary
    from valuemodel.workspace import DEMO_AS_OF, DEMO_START, build_demo

    done = {
        "generate": f"1/4 generated {accounts:,} accounts ({DEMO_START}..{DEMO_AS_OF}) in "
        f"{workdir.resolve() / 'data'}",
        "validate": "2/4 validated the data against the contract",
        "train": "3/4 trained and registered both models",
        "score": "4/4 scored the population and wrote the ranked list",
    }
    titles = {
        "generate": "Generating a brokerage",
        "validate": "Checking the data",
        "train": "Training churn and value models",
        "score": "Scoring",
    }

    @contextlib.contextmanager
    def stage(name: str) -> Iterator[Callable[[int, int], None]]:
        with progress_bar(titles[name]) as bar:
            yield bar.count
        out.print(done[name])

    run = build_demo(workdir, accounts=accounts, trials=trials, stage=stage)
    out.print("")
    out.print(format_train_summary(run.training), markup=False, highlight=False)
    out.print("")
    out.print(format_score_summary(run.scored["csv"]), markup=False, highlight=False)
    _print_demo_paths(run, DEMO_AS_OF)


def _print_demo_paths(run: Any, as_of: str) -> None:
    from valuemodel.workspace import demo_paths

    out.print("\n[bold]Where everything went[/]")
    out.print(demo_paths(run, as_of, _report_lines(run.training)), markup=False, highlight=False)


def run_command(name: str, args: list[str], prog_name: str) -> None:
    """Run the command ``name`` with ``args`` as a program of its own and exit with its code.

    The entry scripts are such programs (``training/retrain.py`` is ``valuemodel train``), so
    they validate, work, print and exit exactly as the command does.
    """
    typer.main.get_command(app).commands[name].main(args, prog_name=prog_name)


def main() -> None:  # pragma: no cover - console entry for `python -m valuemodel`
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
