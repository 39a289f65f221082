import hashlib
import re
import zipfile

import openpyxl
import pandas as pd
import pytest

from valuemodel.errors import InputError
from valuemodel.serving import writers
from valuemodel.serving.writers import atomic_write, check_format, sheet_groups, write_table

FRAME = pd.DataFrame(
    {
        "rank": [1, 2, 3],
        "account_id": ["A1", "A2", "A3"],
        "churn_probability": [0.5, 0.25, 0.125],
        "clv": [1000.0, 2.5, 30000.0],
        "reason_1": ["moved 45% of assets out in 30 days", "已187天未交易", None],
        "manager_id": ["M1", None, "M2/x"],
    }
)


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_check_format_rejects_other_suffixes(tmp_path):
    with pytest.raises(InputError, match=r"unsupported output format '\.json'"):
        check_format(tmp_path / "list.json")


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_writing_twice_gives_identical_bytes(tmp_path, suffix):
    a, b = tmp_path / f"a{suffix}", tmp_path / f"b{suffix}"
    atomic_write(a, lambda t: write_table(FRAME, t, fmt=suffix, summary=[("as of", "x")]))
    atomic_write(b, lambda t: write_table(FRAME, t, fmt=suffix, summary=[("as of", "x")]))
    assert _digest(a) == _digest(b)


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_a_failure_midway_leaves_the_earlier_file_untouched(tmp_path, monkeypatch, suffix):
    out = tmp_path / f"list{suffix}"
    atomic_write(out, lambda t: write_table(FRAME, t, fmt=suffix))
    before = _digest(out)

    def half_then_fail(frame, path, *args):
        path.write_bytes(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(writers, f"write_{suffix[1:]}", half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        atomic_write(out, lambda t: write_table(FRAME.iloc[:1], t, fmt=suffix))
    assert _digest(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]


def test_xlsx_has_a_summary_and_one_sheet_per_manager_with_formats(tmp_path):
    out = tmp_path / "list.xlsx"
    write_table(FRAME, out, summary=[("as of", "2024-06-28"), ("accounts", 3)])
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Summary", "(unassigned)", "M1", "M2_x"]
    assert wb["Summary"]["A1"].value == "as of" and wb["Summary"]["B2"].value == 3
    sheet = wb["M1"]
    assert [c.value for c in sheet[1]][:3] == ["rank", "account_id", "churn_probability"]
    assert sheet["C2"].value == 0.5 and sheet["C2"].number_format == "0.0%"
    assert sheet["D2"].number_format == "#,##0.00"
    # a reason column 48 characters wide, stored as Excel stores it (with the cell padding)
    assert sheet.column_dimensions["E"].width == pytest.approx(48.71, abs=0.01)


def test_xlsx_carries_a_pinned_document_date(tmp_path):
    out = tmp_path / "list.xlsx"
    write_table(FRAME, out)
    with zipfile.ZipFile(out) as archive:
        core = archive.read("docProps/core.xml").decode()
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 31, 0, 0, 0)}
    assert re.findall(r"<dcterms:(?:created|modified)[^>]*>([^<]*)<", core) == [
        "2000-01-01T00:00:00Z",
        "2000-01-01T00:00:00Z",
    ]


def test_xlsx_writes_text_that_looks_like_a_formula_as_text(tmp_path):
    out = tmp_path / "list.xlsx"
    write_table(FRAME.assign(reason_1=["=1+1", "http://x", None]), out)
    cell = openpyxl.load_workbook(out)["M1"]["E2"]
    assert cell.value == "=1+1" and cell.data_type == "s"


def test_sheets_fall_back_to_branch_then_to_one_sheet():
    by_branch = FRAME.drop(columns="manager_id").assign(branch=["B1", "B2", "B1"])
    column, groups = sheet_groups(by_branch)
    assert column == "branch" and [name for name, _ in groups] == ["B1", "B2"]
    column, groups = sheet_groups(FRAME.drop(columns="manager_id"))
    assert column is None and [name for name, _ in groups] == ["Ranked list"]


def test_long_or_clashing_sheet_names_are_made_valid():
    used = {"summary"}
    first = writers._sheet_name("x" * 40, used)
    second = writers._sheet_name("x" * 40, used)
    assert len(first) == 31 and len(second) <= 31 and first != second
    assert writers._sheet_name("Summary", used) != "Summary"
