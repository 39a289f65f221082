"""The configuration base: packaged defaults, sections laid over them, messages naming the key."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

import pytest
from pydantic import Field

from valuemodel.config import Frozen, Section, load, overlay, packaged, parse
from valuemodel.errors import InputError

REPO = Path(__file__).resolve().parents[1]
PACKAGED = ("features/default.yaml", "features/registry.yaml")
PACKAGED += ("training/default.yaml", "serving/tiers.yaml")


class _Limits(Section):
    low: int
    high: int = Field(le=100)


class _Cutoff(Frozen):
    percentile: float | None = None
    value: float | None = None


class _Settings(Frozen):
    limits: _Limits
    cutoff: _Cutoff
    names: list[str]


def test_a_section_takes_the_keys_given_and_keeps_the_others():
    defaults = {"limits": {"low": 1, "high": 9}, "cutoff": {"percentile": 0.5}, "names": ["a"]}
    given = {"limits": {"high": 7}, "cutoff": {"value": 0}, "names": ["b"]}
    assert overlay(_Settings, defaults, given) == {
        "limits": {"low": 1, "high": 7},
        "cutoff": {"value": 0},
        "names": ["b"],
    }
    assert defaults["limits"] == {"low": 1, "high": 9}


def test_every_bad_key_is_named_with_the_source_and_the_value():
    raw = {"limits": {"low": "x", "high": 101}, "cutoff": {}, "names": [], "extra": 1}
    with pytest.raises(InputError) as caught:
        parse(_Settings, raw, "my.yaml")
    message = str(caught.value)
    assert message.startswith("my.yaml: limits.low: Input should be a valid integer")
    assert "limits.high: Input should be less than or equal to 100 (got 101)" in message
    assert "extra: Extra inputs are not permitted" in message


def test_a_file_that_is_missing_empty_or_not_a_mapping_is_rejected(tmp_path):
    with pytest.raises(InputError, match=r"nope\.yaml: settings file not found"):
        load(_Settings, tmp_path / "nope.yaml", "settings file")
    (tmp_path / "list.yaml").write_text("- 1\n")
    with pytest.raises(InputError, match=r"list\.yaml: expected a mapping of keys"):
        load(_Settings, tmp_path / "list.yaml", "settings file")
    (tmp_path / "empty.yaml").write_text("")
    with pytest.raises(InputError, match=r"empty\.yaml: limits: Field required"):
        load(_Settings, tmp_path / "empty.yaml", "settings file")


@pytest.mark.parametrize("name", PACKAGED)
def test_the_packaged_files_are_package_data_and_linked_from_the_repository(name):
    """``pip install .`` copies what ``package-data`` names; the top-level folders link to it."""
    assert packaged(name).is_file()
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["valuemodel"]
    assert any(fnmatch.fnmatch(f"resources/{name}", pattern) for pattern in patterns)
    assert (REPO / name).resolve() == Path(str(packaged(name))).resolve()
