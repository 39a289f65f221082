"""How a data directory is read: time zone, encoding and value labels, each checked by name."""

from __future__ import annotations

import pandas as pd
import pytest

from valuemodel.data import open_data, validate
from valuemodel.data.settings import ReadSettings
from valuemodel.errors import InputError

TRADES = pd.DataFrame(
    {
        "account_id": ["A1", "A2"],
        "trade_date": ["2024-01-02", "2024-01-03"],
        "amount": [1000.0, 800.0],
        "commission": [5.0, 5.0],
        "side": ["证券买入", "沽出"],
    }
)


def test_an_unknown_time_zone_is_rejected_by_name():
    with pytest.raises(InputError, match=r"time zone 'Mars/Olympus' is unknown"):
        ReadSettings.load(timezone="Mars/Olympus")


def test_an_unknown_encoding_is_rejected_by_name():
    with pytest.raises(InputError, match=r"encoding 'klingon' is unknown"):
        ReadSettings.load(encoding="klingon")


def test_the_time_zone_comes_from_the_environment_when_not_given(monkeypatch):
    monkeypatch.setenv("VALUEMODEL_TIMEZONE", "Asia/Hong_Kong")
    assert ReadSettings.load().timezone == "Asia/Hong_Kong"
    assert ReadSettings.load(timezone="UTC").timezone == "UTC"


def test_a_labels_file_extends_the_packaged_table(tmp_path):
    TRADES.to_csv(tmp_path / "trades.csv", index=False)
    # '沽出' is a Hong Kong word for selling, not in the packaged table
    report = validate(open_data(tmp_path))
    assert [e.column for e in report.errors] == ["side"]
    labels = tmp_path / "labels.yaml"
    labels.write_text("side:\n  沽出: sell\n", encoding="utf-8")
    data = open_data(tmp_path, settings=ReadSettings.load(labels_file=labels))
    report = validate(data)
    assert report.ok
    (note,) = report.normalised
    assert note.examples == ("'沽出' -> sell", "'证券买入' -> buy")


def test_a_labels_file_naming_an_unknown_value_is_rejected(tmp_path):
    labels = tmp_path / "labels.yaml"
    labels.write_text("side:\n  沽出: short\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"side\.沽出: 'short' is not one of buy, sell"):
        ReadSettings.load(labels_file=labels)


def test_the_quarantine_folder_may_not_be_the_data_directory(tmp_path):
    TRADES.assign(side="buy").to_csv(tmp_path / "trades.csv", index=False)
    with pytest.raises(InputError, match=r"is the data directory itself"):
        validate(open_data(tmp_path), quarantine=tmp_path)
