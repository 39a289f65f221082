"""The options the ``valuemodel`` commands share: types, names, defaults and help texts.

The commands that read a data directory take the same eight options; each command declares
``data`` and one ``source: Input = INPUT_OPTIONS`` parameter, and :func:`reads_data` puts the
other seven options where ``source`` stands (their place in the command line and its help) and
hands them to the command as one :class:`Input`.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

DataOpt = Annotated[
    Path,
    typer.Option(
        "--data", help="Data directory (one file per table); spark:DB for warehouse tables."
    ),
]
AsOfOpt = Annotated[str, typer.Option("--as-of", help="As-of date T, YYYY-MM-DD.")]
TrackingOpt = Annotated[
    str | None,
    typer.Option(
        "--tracking-uri",
        help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI, else ./mlflow.db).",
    ),
]
QuarantineOpt = Annotated[
    Path | None,
    typer.Option(
        "--quarantine",
        help="Move rows that break a row rule to DIR/<table>.parquet and go on without them.",
    ),
]
MaxBadOpt = Annotated[
    float,
    typer.Option(
        "--max-bad-share",
        min=0.0,
        max=0.999,
        help="With --quarantine: reject a table anyway when more than this share is bad.",
    ),
]
TimezoneOpt = Annotated[
    str | None,
    typer.Option(
        "--timezone",
        help="The brokerage's time zone for time-zone-aware timestamps "
        "(default: $VALUEMODEL_TIMEZONE, else Asia/Shanghai).",
    ),
]
EncodingOpt = Annotated[
    str | None,
    typer.Option("--encoding", help="Encoding of the CSV files (default: detect UTF-8/GBK)."),
]
LabelsOpt = Annotated[
    Path | None,
    typer.Option("--labels", help="YAML of extra value labels: column -> {label: value}."),
]


class Engine(enum.StrEnum):
    duckdb = "duckdb"
    spark = "spark"


RecheckOpt = Annotated[
    bool,
    typer.Option(
        "--recheck",
        metavar="",
        help="A flag: check the data even if these files passed the checks before and have "
        "not changed (validate always checks).",
    ),
]
EngineOpt = Annotated[
    Engine,
    typer.Option("--engine", help="duckdb (embedded) or spark (SPARK_MASTER, else local[*])."),
]


@dataclasses.dataclass(frozen=True)
class Input:
    """How a command reads its data directory (the options every data command shares).

    The defaults are the options' defaults; ``max_bad_share`` is
    ``valuemodel.data.settings.DEFAULT_MAX_BAD_SHARE``, written out because importing the data
    layer would slow ``--help`` down (a test keeps the two equal).
    """

    path: Path
    quarantine: Path | None = None
    max_bad_share: float = 0.001
    timezone: str | None = None
    encoding: str | None = None
    labels: Path | None = None
    engine: Engine = Engine.duckdb
    recheck: bool = False


_INPUT_OPTIONS = {
    "quarantine": QuarantineOpt,
    "max_bad_share": MaxBadOpt,
    "timezone": TimezoneOpt,
    "encoding": EncodingOpt,
    "labels": LabelsOpt,
    "engine": EngineOpt,
    "recheck": RecheckOpt,
}

INPUT_OPTIONS: Any = object()
"""The default of a :func:`reads_data` command's ``source`` parameter, which marks where the
reading options go; the command always receives an :class:`Input` instead."""


def reads_data(command: Callable[..., Any]) -> Callable[..., Any]:
    """Give ``command`` the options of :class:`Input` in place of its ``source`` parameter, and
    call it with them gathered, with ``data``, into ``source``."""
    signature = inspect.signature(command, eval_str=True)
    parameters = [p.replace(kind=p.KEYWORD_ONLY) for p in signature.parameters.values()]
    at = [p.name for p in parameters].index("source")
    parameters[at : at + 1] = _input_parameters()

    @functools.wraps(command)
    def with_source(**kwargs: Any) -> Any:
        options = {name: kwargs.pop(name) for name in _INPUT_OPTIONS}
        return command(**kwargs, source=Input(kwargs["data"], **options))

    with_source.__signature__ = signature.replace(parameters=parameters)
    return with_source


def _input_parameters() -> list[inspect.Parameter]:
    """The reading options as parameters, with :class:`Input`'s defaults."""
    defaults = {field.name: field.default for field in dataclasses.fields(Input)}
    return [
        inspect.Parameter(
            name, inspect.Parameter.KEYWORD_ONLY, default=defaults[name], annotation=option
        )
        for name, option in _INPUT_OPTIONS.items()
    ]


class ChurnDefinition(enum.StrEnum):
    auto = "auto"
    assets = "assets"
    inactivity = "inactivity"
