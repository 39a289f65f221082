"""The shared options: the reading options defined once and handed to a command as an Input."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from valuemodel.cli_options import INPUT_OPTIONS, DataOpt, Engine, Input, reads_data
from valuemodel.data.settings import DEFAULT_MAX_BAD_SHARE


def _app(received: list[Input]) -> typer.Typer:
    app = typer.Typer(add_completion=False)

    @app.command()
    @reads_data
    def check(data: DataOpt, source: Input = INPUT_OPTIONS, top: int = 3) -> None:
        received.append(source)

    return app


def test_the_default_share_of_bad_rows_is_the_librarys():
    assert Input(Path("d")).max_bad_share == DEFAULT_MAX_BAD_SHARE


def test_a_command_gets_the_reading_options_where_its_source_stands():
    command = typer.main.get_command(_app([]))
    names = [param.name for param in command.params]
    assert names == [
        "data",
        "quarantine",
        "max_bad_share",
        "timezone",
        "encoding",
        "labels",
        "engine",
        "recheck",
        "top",
    ]


def test_a_command_receives_the_reading_options_as_one_input():
    received: list[Input] = []
    args = ["--data", "d", "--quarantine", "q", "--max-bad-share", "0.01", "--engine", "spark"]
    result = CliRunner().invoke(_app(received), [*args, "--recheck"])
    assert result.exit_code == 0, result.output
    assert received == [
        Input(
            Path("d"), quarantine=Path("q"), max_bad_share=0.01, engine=Engine.spark, recheck=True
        )
    ]
    CliRunner().invoke(_app(received), ["--data", "d"])
    assert received[-1] == Input(Path("d"))
