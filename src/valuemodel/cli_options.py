"""The options the ``valuemodel`` commands share: types, names and help texts."""

from __future__ import annotations

import dataclasses
import enum
from pathlib import Path
from typing import Annotated

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


EngineOpt = Annotated[
    Engine,
    typer.Option("--engine", help="duckdb (embedded) or spark (SPARK_MASTER, else local[*])."),
]


@dataclasses.dataclass(frozen=True)
class Input:
    """How a command reads its data directory (the options every data command shares)."""

    path: Path
    quarantine: Path | None = None
    max_bad_share: float = 0.001
    timezone: str | None = None
    encoding: str | None = None
    labels: Path | None = None
    engine: str = "duckdb"


class ChurnDefinition(enum.StrEnum):
    auto = "auto"
    assets = "assets"
    inactivity = "inactivity"
