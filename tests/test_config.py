"""The configuration base: packaged defaults filling what a file leaves out, messages naming
the file and the key."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

import pytest
from pydantic import ConfigDict, Field

from valuemodel.config import (
    Frozen,
    PackagedConfig,
    load,
    packaged,
    packaged_defaults,
    parse,
)
from valuemodel.errors import InputError

REPO = Path(__file__).resolve().parents[1]
PACKAGED = ("features/default.yaml", "features/registry.yaml")
PACKAGED += ("training/default.yaml", "serving/tiers.yaml")


class _Limits(Frozen):
    low: int
    high: int = Field(le=100)


class _Settings(Frozen):
    limits: _Limits
    names: list[str]


class _Fairness(PackagedConfig):
    """A section of a packaged file (its other keys ignored, so new ones do not break it)."""

    defaults_from = ("training/default.yaml", "fairness")
    model_config = ConfigDict(extra="ignore")
    min_group_size: int
    top_share: float


def test_a_packaged_section_takes_the_keys_given_and_the_packaged_others():
    packaged_values = packaged_defaults("training/default.yaml", "fairness")
    assert _Fairness().min_group_size == packaged_values["min_group_size"]
    assert _Fairness(top_share=0.5) == _Fairness(
        min_group_size=packaged_values["min_group_size"], top_share=0.5
    )
    assert packaged_defaults("training/default.yaml", "no such section") == {}


def test_every_packaged_section_is_in_its_file():
    import valuemodel.serving.config  # noqa: F401 - with the feature config
    import valuemodel.training.config  # noqa: F401

    for model in PackagedConfig.__subclasses__():
        assert packaged_defaults(*model.defaults_from), model.__name__


def test_every_bad_key_is_named_with_the_source_and_the_value():
    raw = {"limits": {"low": "x", "high": 101}, "names": [], "extra": 1}
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


def test_a_key_written_twice_is_rejected_with_its_line(tmp_path):
    """Plain YAML keeps the later of two equal keys without a word; a pasted line would
    silently replace a setting (the packaged training file once had ``calendar`` twice)."""
    path = tmp_path / "twice.yaml"
    path.write_text("limits:\n  low: 1\n  high: 2\n  low: 3\nnames: []\n")
    with pytest.raises(InputError, match=r"twice\.yaml: not valid YAML.*'low' appears twice") as e:
        load(_Settings, path, "settings file")
    assert "line 4" in str(e.value)
    path.write_text("limits: {low: 1, high: 2}\nnames: [a, a]\n")
    assert load(_Settings, path, "settings file").names == ["a", "a"]


@pytest.mark.parametrize("name", PACKAGED)
def test_the_packaged_files_are_package_data_and_linked_from_the_repository(name):
    """``pip install .`` copies what ``package-data`` names; the top-level folders link to it."""
    assert packaged(name).is_file()
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["valuemodel"]
    assert any(fnmatch.fnmatch(f"resources/{name}", pattern) for pattern in patterns)
    assert (REPO / name).resolve() == Path(str(packaged(name))).resolve()
