"""The ranked list in the manager's language: Chinese headers, tier values and summary labels.

With ``--lang zh`` the CSV and Excel lists a branch office opens are Chinese throughout: every
column header, every tier value (``core`` -> ``核心``, ``medium`` -> ``中户``) and every label
of the Excel ``Summary`` sheet (``摘要``). Codes stay as the industry writes them (account and
manager ids, risk levels ``C1..C5``, product grades ``R1..R5``, feature names in
``driver_1..3``). Parquet, a file for programs, keeps the contract's English names.

:func:`to_english` maps a list read back to the contract's names and values, so that
``evaluate`` judges a Chinese list like any other. Tier labels of a tiers file of one's own
that this module does not know are written as they are.
"""

from __future__ import annotations

import pandas as pd

COLUMNS_ZH = {
    "rank": "排名",
    "account_id": "客户号",
    "as_of": "统计日",
    "churn_probability": "流失概率",
    "clv": "预测价值",
    "value_at_risk": "风险价值",
    "priority_score": "优先级得分",
    "asset_tier": "资产层级",
    "value_quadrant": "价值象限",
    "service_segment": "服务分群",
    "reason_1": "原因1",
    "reason_2": "原因2",
    "reason_3": "原因3",
    "recommended_action": "建议行动",
    "control": "对照组（请勿联系）",
    "uplift": "挽留提升",
    "saved_value": "可挽回价值",
    "clv_rule": "价值（P/R规则）",
    "growth_quadrant": "成长象限",
    "value_grade": "价值等级",
    "risk_class": "风险类别",
    "grade_risk_category": "等级风险类别",
    "lifecycle_stage": "生命周期阶段",
    "rfm_score": "RFM得分",
    "loyalty_stage": "忠诚度阶段",
    "risk_level": "风险承受等级",
    "exclusion": "排除原因",
    "driver_1": "驱动因素1",
    "driver_2": "驱动因素2",
    "driver_3": "驱动因素3",
    "action_id": "行动代码",
    "action_product_risk": "产品风险等级",
    "manager_id": "客户经理",
    "branch": "营业部",
}

_GRADES = {"platinum": "白金", "gold": "黄金", "silver": "白银", "standard": "普通"}
_CLASSES = {"conservative": "保守型", "steady": "稳健型", "aggressive": "积极型"}

VALUES_ZH: dict[str, dict[str, str]] = {
    "asset_tier": {"large": "大户", "medium": "中户", "retail": "散户"},
    "value_quadrant": {
        "A": "高贡献高周转",
        "B": "高贡献低周转",
        "C": "低贡献高周转",
        "D": "低贡献低周转",
    },
    "growth_quadrant": {
        "I": "高贡献高增长",
        "II": "高贡献低增长",
        "III": "低贡献高增长",
        "IV": "低贡献低增长",
    },
    "service_segment": {
        "core": "核心",
        "dormant": "休眠",
        "maintaining": "维护",
        "precipitating": "沉淀",
    },
    "value_grade": _GRADES,
    "risk_class": _CLASSES,
    "grade_risk_category": {
        f"{g}-{c}": f"{gz}-{cz}" for g, gz in _GRADES.items() for c, cz in _CLASSES.items()
    },
    "lifecycle_stage": {
        "new": "新客户",
        "growing": "成长期",
        "mature": "成熟期",
        "declining": "衰退期",
    },
    "loyalty_stage": {
        "new": "新客户",
        "potential": "潜力客户",
        "regular": "常规客户",
        "mature": "成熟客户",
        "loyal": "忠诚客户",
    },
    "exclusion": {"institution": "机构客户", "no_assets": "无资产"},
    "control": {True: "是", False: "否"},
}
"""Chinese for the tier values of the packaged tiers file, per column."""

SUMMARY_SHEETS = {"en": "Summary", "zh": "摘要"}
CONTROL_SHEETS = {"en": "Control (do not contact)", "zh": "对照组（请勿联系）"}
LIST_SHEETS = {"en": "Ranked list", "zh": "挽留名单"}
UNASSIGNED_KEYS = {"en": "(unassigned)", "zh": "（未分配）"}


def to_display(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """``frame`` with Chinese headers and tier values for ``lang == "zh"`` (else as it is)."""
    if lang != "zh":
        return frame
    out = {}
    for column in frame.columns:
        values = frame[column]
        words = VALUES_ZH.get(column)
        if words is not None:
            values = _translated(values, words)
        out[COLUMNS_ZH.get(column, column)] = values
    return pd.DataFrame(out, index=frame.index)


def to_english(frame: pd.DataFrame) -> pd.DataFrame:
    """A list read back with the contract's English headers and tier values (a list written
    in English is returned as it is)."""
    back = {zh: en for en, zh in COLUMNS_ZH.items()}
    if not any(c in back for c in frame.columns):
        return frame
    frame = frame.rename(columns=back)
    for column, words in VALUES_ZH.items():
        if column in frame.columns:
            frame[column] = _translated(frame[column], {zh: en for en, zh in words.items()})
    return frame


def _translated(values: pd.Series, words: dict) -> pd.Series:
    """``values`` with each known word replaced (others, and nulls, kept as they are)."""
    out = [None if v is None else words.get(v, v) for v in values.astype("object")]
    return pd.Series(out, index=values.index, dtype="object")


SUMMARY_LABELS_ZH = {
    "as of": "统计日",
    "accounts in the population": "统计日客户总数",
    "accounts in this list": "本名单客户数",
    "value at risk, total (CNY)": "风险价值合计（元）",
    "value at risk, this list (CNY)": "本名单风险价值（元）",
    "value at risk, {segment} (CNY)": "风险价值：{segment}（元）",
    "{kind} model version": "{kind}模型版本",
    "control group share (do not contact)": "对照组比例（请勿联系）",
    "control accounts in this list": "本名单对照组客户数",
    "expected ROC-AUC (before outcomes)": "预期ROC-AUC（结果出来之前）",
    "expected churners in this list": "本名单预期流失客户数",
    "data fingerprint (SHA-256)": "数据指纹（SHA-256）",
    "input rows quarantined": "隔离的输入行数",
    "tiers file": "分层规则文件",
    "warning": "警告",
}
"""The ``Summary`` sheet's labels; ``{segment}`` and ``{kind}`` are filled in the language."""

MODEL_KINDS_ZH = {"churn": "流失", "clv": "价值"}


def summary_label(label: str, lang: str, **fields: str) -> str:
    """A ``Summary`` sheet label in ``lang`` with its fields (a segment, a model kind)."""
    if lang != "zh":
        return label.format(**fields)
    zh = {
        "segment": VALUES_ZH["service_segment"].get(fields.get("segment", ""), ""),
        "kind": MODEL_KINDS_ZH.get(fields.get("kind", ""), ""),
    }
    filled = {k: zh[k] or v for k, v in fields.items()}
    return SUMMARY_LABELS_ZH.get(label, label).format(**filled)
