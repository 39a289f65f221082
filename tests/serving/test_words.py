"""A ``--lang zh`` list is Chinese throughout, opens in Excel, and reads back for evaluate."""

import re

import openpyxl
import pandas as pd

from valuemodel.serving.outcomes import read_list
from valuemodel.serving.score import score
from valuemodel.serving.words import COLUMNS_ZH, VALUES_ZH, to_display, to_english

from .test_score import AS_OF, N, data_dir, wired  # noqa: F401 - fixtures

ASCII_LETTER = re.compile(r"[A-Za-z]")
TIER_COLUMNS = [
    "asset_tier",
    "value_quadrant",
    "service_segment",
    "growth_quadrant",
    "value_grade",
    "risk_class",
    "grade_risk_category",
    "lifecycle_stage",
    "loyalty_stage",
    "exclusion",
    "control",
]


def test_every_header_label_and_tier_value_of_a_zh_workbook_is_chinese(
    data_dir,  # noqa: F811
    wired,  # noqa: F811
    tmp_path,
):
    out = tmp_path / "list.xlsx"
    score(data_dir, AS_OF, out, lang="zh", control_share=0.2)
    book = openpyxl.load_workbook(out, read_only=True)
    assert book.sheetnames[0] == "摘要" and "对照组（请勿联系）" in book.sheetnames
    rows = 0
    for sheet in book.worksheets:
        cells = list(sheet.iter_rows(values_only=True))
        if sheet.title == "摘要":
            labels = [row[0] for row in cells]
            assert labels and not [
                s
                for s in labels
                if ASCII_LETTER.search(s.replace("ROC-AUC", "").replace("SHA-256", ""))
            ]
            continue
        header = cells[0]
        assert not [h for h in header if ASCII_LETTER.search(h) and h != "RFM得分"], header
        for column in TIER_COLUMNS:
            name = COLUMNS_ZH[column]
            if name not in header:
                continue
            values = {row[header.index(name)] for row in cells[1:]} - {None}
            assert not [v for v in values if ASCII_LETTER.search(str(v))], (column, values)
        rows += len(cells) - 1
    assert rows == N


def test_a_zh_csv_is_utf8_with_a_bom_in_chinese_and_evaluate_reads_it_back(
    data_dir,  # noqa: F811
    wired,  # noqa: F811
    tmp_path,
):
    out = tmp_path / "list.csv"
    score(data_dir, AS_OF, out, lang="zh", control_share=0.2)
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    header = raw[3:].decode("utf-8").splitlines()[0].split(",")
    assert header[:4] == ["排名", "客户号", "统计日", "流失概率"]
    shown = pd.read_csv(out, encoding="utf-8-sig", dtype=str)
    assert set(shown["服务分群"]) <= set(VALUES_ZH["service_segment"].values())
    assert set(shown["对照组（请勿联系）"]) == {"是", "否"}
    back = read_list(out)
    assert {"rank", "account_id", "service_segment", "control"} <= set(back.frame.columns)
    assert set(back.frame["service_segment"]) <= set(VALUES_ZH["service_segment"])
    assert back.frame["control"].dtype == bool and back.frame["control"].any()


def test_english_lists_and_parquet_keep_the_contract_names(
    data_dir,  # noqa: F811
    wired,  # noqa: F811
    tmp_path,
):
    score(data_dir, AS_OF, tmp_path / "list.parquet", lang="zh")
    assert "service_segment" in pd.read_parquet(tmp_path / "list.parquet").columns
    score(data_dir, AS_OF, tmp_path / "en.csv")
    assert not (tmp_path / "en.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_display_and_back_are_inverse_on_the_known_values():
    frame = pd.DataFrame(
        {
            "asset_tier": ["large", "retail", None],
            "value_quadrant": ["A", "D", "C"],
            "grade_risk_category": ["gold-steady", "standard-aggressive", None],
            "service_segment": ["core", "dormant", "a_custom_segment"],
        }
    )
    shown = to_display(frame, "zh")
    assert list(shown.columns) == ["资产层级", "价值象限", "等级风险类别", "服务分群"]
    assert shown["资产层级"].tolist()[:2] == ["大户", "散户"] and pd.isna(shown["资产层级"][2])
    assert shown["等级风险类别"].tolist()[:2] == ["黄金-稳健型", "普通-积极型"]
    assert shown["服务分群"].tolist()[-1] == "a_custom_segment"  # unknown labels as they are
    pd.testing.assert_frame_equal(to_english(shown), frame.astype("object"), check_dtype=False)
