from pathlib import Path

import pandas as pd

from valuemodel.serving.report import format_score_summary, summary_sheet
from valuemodel.serving.score import ScoreResult

SUMMARY = {
    "as_of": "2024-06-28",
    "data_fingerprint": "ab" * 32,
    "tiers_file": "built-in defaults",
    "models": {"churn": {"version": "3"}, "clv": {"version": "5"}},
    "counts": {"population": 1234, "written": 2},
    "value_at_risk": {
        "total": 1500.5,
        "written": 900.0,
        "by_service_segment": {"core": 1000.0, "maintaining": 500.5},
    },
    "warnings": ["growth_quadrant is null: no 'asset_growth_365d' feature"],
}


def _result() -> ScoreResult:
    top = pd.DataFrame(
        {
            "rank": [1, 2],
            "account_id": ["A1", "A2"],
            "churn_probability": [0.8123, 0.5],
            "clv": [1000.0, 800.0],
            "value_at_risk": [812.3, 400.0],
            "service_segment": ["core", "maintaining"],
            "recommended_action": ["Routine check-in call", "Routine check-in call"],
        }
    )
    return ScoreResult(
        out=Path("list.csv"),
        summary_path=Path("list.summary.json"),
        drift_path=Path("list.drift.csv"),
        as_of="2024-06-28",
        accounts_scored=1234,
        accounts_written=2,
        models=SUMMARY["models"],
        value_at_risk_by_segment=SUMMARY["value_at_risk"]["by_service_segment"],
        top=top,
        summary=SUMMARY,
        warnings=SUMMARY["warnings"],
    )


def test_the_cli_summary_names_counts_segments_top_rows_and_warnings():
    text = format_score_summary(_result())
    assert "Scored 1,234 accounts at 2024-06-28 (churn v3, clv v5)." in text
    assert "Wrote 2 rows to list.csv" in text
    assert "core" in text and "1,000.00" in text and "500.50" in text
    assert "81.2%" in text and "A2" in text
    assert "Warnings:" in text and "asset_growth_365d" in text


def test_the_summary_sheet_lists_the_key_figures():
    rows = dict(summary_sheet(SUMMARY))
    assert rows["accounts in the population"] == 1234
    assert rows["value at risk, core (CNY)"] == 1000.0
    assert rows["churn model version"] == "3"
