"""The README's "Adding a feature" example, taken from the README itself, is true: its one
declaration and one YAML entry give a registered, documented feature that builds as stated."""

from __future__ import annotations

import re
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from tests.features.conftest import frame, row
from valuemodel.errors import InputError
from valuemodel.features import build_features, catalog, frequency, load_registry
from valuemodel.features.config import FeatureConfig, default_config_dir

README = Path(__file__).resolve().parents[2] / "README.md"
NAME = "trades_per_trading_day_{w}d"


def _example_blocks() -> tuple[str, str]:
    """The python and yaml code blocks of the README's "Adding a feature" section."""
    section = README.read_text(encoding="utf-8").split("### Adding a feature", 1)[1]
    python = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    words = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
    return textwrap.dedent(python), textwrap.dedent(words)


@pytest.fixture
def with_example(monkeypatch, tmp_path) -> Path:
    """The README's declaration added to the frequency family; returns a registry file with
    the packaged words and the README's entry."""
    python, words = _example_blocks()
    feature = eval(python, vars(frequency))  # noqa: S307 - the README's own code
    extended = replace(frequency.FREQUENCY, entries=(*frequency.FREQUENCY.entries, feature))
    monkeypatch.setitem(catalog.DECLARED, "frequency", extended)
    registry = yaml.safe_load((default_config_dir() / "registry.yaml").read_text("utf-8"))
    registry["features"] |= yaml.safe_load(words)
    path = tmp_path / "registry.yaml"
    path.write_text(yaml.safe_dump(registry, allow_unicode=True), encoding="utf-8")
    return path


def test_the_example_needs_its_words(with_example):
    with pytest.raises(
        InputError, match=re.escape(f"no words for declared feature(s) ['{NAME}']")
    ):
        load_registry()


def test_the_example_is_registered_with_its_declaration_and_words(with_example):
    spec = load_registry(with_example)["trades_per_trading_day_30d"]
    assert (spec.family, spec.unit, spec.requires, spec.risk_direction) == (
        "frequency",
        "trades",
        ("trades",),
        "lower",
    )
    values = {"trades_per_trading_day_30d": 1.5}
    assert spec.reason(values) == "made 1.5 trades per trading day in the last 30 days"
    assert spec.reason(values, "zh") == "近30天平均每个交易日交易1.5笔"


def test_the_example_builds_per_window(with_example, make_data):
    trades = frame(
        [
            ("a", "2025-06-10", 10.0, 0.1),
            ("a", "2025-06-10", 10.0, 0.1),
            ("a", "2025-06-20", 10.0, 0.1),
            ("b", "2025-01-05", 10.0, 0.1),
        ],
        "account_id trade_date amount commission",
    )
    config = FeatureConfig(windows=(30, 365), families=("frequency",))
    df = build_features(make_data(trades=trades), "2025-06-30", config)
    assert list(df.columns[-2:]) == ["trades_per_trading_day_30d", "trades_per_trading_day_365d"]
    assert row(df, "a").trades_per_trading_day_30d == 1.5  # 3 trades on 2 days
    assert row(df, "b").trades_per_trading_day_365d == 1.0
    assert df.set_index("account_id").trades_per_trading_day_30d.isna().loc["b"]  # no trade
