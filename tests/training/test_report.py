"""The HTML training report: every plot embedded, the sections present, no account IDs."""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pytest

from tests.test_explain import _labels, make_model
from valuemodel import plots
from valuemodel.training.report import _png, render_training_report

pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
IMAGE = "data:image/png;base64,"
DECISION = {
    "promoted": False,
    "alias": "challenger",
    "reason": "roc_auc 0.7100 < champion v3's 0.7300 on the new validation data",
    "metric": "roc_auc",
    "new_score": 0.71,
    "champion_version": "3",
    "champion_score": 0.73,
}


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    churn, features = make_model(folder, "churn")
    value, _ = make_model(folder, "clv")
    y_churn, y_value = _labels(features, 3)
    return {"churn": (churn, features, y_churn), "clv": (value, features, y_value)}


@pytest.fixture(scope="module")
def churn_report(models) -> str:
    model, features, y = models["churn"]
    return render_training_report(model, features, y, decision=DECISION)


def _headings(page: str) -> list[str]:
    return re.findall(r"<h2>(.*?)</h2>", page)


def test_churn_report_embeds_every_plot(churn_report):
    # calibration, gains and lift, feature importance, SHAP summary
    assert churn_report.count(IMAGE) == 4
    assert (
        len(
            re.findall(
                r'<img alt="[^"]+" src="data:image/png;base64,[A-Za-z0-9+/=]+">', churn_report
            )
        )
        == 4
    )
    assert _headings(churn_report) == [
        "Metrics against the baselines and the champion",
        "Calibration",
        "Gains and lift",
        "What drives the model",
        "Data",
    ]


def test_value_report_shows_value_deciles_instead_of_calibration(models):
    model, features, y = models["clv"]
    page = render_training_report(model, features, y)
    assert page.count(IMAGE) == 4
    assert "Value deciles" in _headings(page) and "Calibration" not in _headings(page)
    assert "Value (CLV) model: training report" in page


def test_report_contains_no_account_id(models, churn_report):
    features = models["churn"][1]
    assert features["account_id"].str.startswith("ACCT").all()
    assert "ACCT" not in churn_report


def test_report_is_self_contained(churn_report):
    assert "<script" not in churn_report
    assert not re.search(r'(src|href)="(?!data:)', churn_report)
    assert "http://" not in churn_report and "https://" not in churn_report


def test_report_compares_with_baselines_and_the_previous_champion(churn_report):
    assert "registered as challenger" in churn_report
    assert "champion v3" in churn_report and "0.7300" in churn_report
    assert "<th>baseline: recency</th>" in churn_report
    # the model's ROC-AUC (0.71) beats the recency rule's (0.60) but not the champion's 0.73
    row = re.search(r"<td>ROC-AUC</td>(.*?)</tr>", churn_report).group(1)
    assert re.findall(r"<td( class=\"best\")?>([^<]*)</td>", row) == [
        ("", "0.7100"),
        ("", "0.6000"),
        (' class="best"', "0.7300"),
    ]


def test_held_out_metrics_are_a_column_compared_with_the_champion_only(models):
    model, features, y = models["churn"]
    page = render_training_report(
        model, features, y, decision=DECISION, holdout={"roc_auc": 0.69, "pr_auc": 0.2}
    )
    head = re.search(r"<thead><tr>(.*?)</tr></thead>", page).group(1)
    assert re.findall(r"<th>([^<]*)</th>", head) == [
        "metric",
        "model",
        "baseline: recency",
        "model, held out",
        "champion v3",
    ]
    # best of each row among the columns measured on the same rows: the model beats the
    # recency rule on the tuning half, the champion beats the new model on the held-out half
    row = re.search(r"<td>ROC-AUC</td>(.*?)</tr>", page).group(1)
    assert re.findall(r"<td( class=\"best\")?>([^<]*)</td>", row) == [
        (' class="best"', "0.7100"),
        ("", "0.6000"),
        ("", "0.6900"),
        (' class="best"', "0.7300"),
    ]
    assert "on the same held-out accounts" in page and "neither tuning nor calibration" in page


def test_report_shows_data_ranges_and_the_fingerprint(churn_report):
    assert "2024-04-30 .. 2025-01-31" in churn_report
    assert "f" * 64 in churn_report
    assert "<td>days_since_last_trade</td>" in churn_report  # feature ranges table


def test_report_embeds_the_figures_training_already_made(models):
    model, features, y = models["churn"]
    made = plots.calibration_curve(y, {"model (cross-fitted)": np.full(len(y), y.mean())})
    page = render_training_report(model, features, y, figures={"calibration": made})
    assert _png(made) in page
    assert page.count(IMAGE) == 4


def test_report_rejects_labels_that_do_not_match_the_rows(models):
    model, features, y = models["churn"]
    with pytest.raises(ValueError, match="same validation rows: got 240 feature rows and 239"):
        render_training_report(model, features, y[:-1])


def test_report_shows_the_fairness_table_and_the_cost_of_leaving_protected_features_out(models):
    import pandas as pd

    from valuemodel.models import fairness

    model, features, y = models["churn"]
    frame = pd.DataFrame(
        {
            "age": [25] * 4 + [65] * 2,
            "gender": ["M", "F"] * 3,
            "churn_probability": [0.9, 0.1, 0.6, 0.2, 0.3, 0.4],
            "churned": [1, 0, 1, 0, 0, 1],
        }
    )
    table = fairness.group_table(frame, top_k=2, min_group_size=3)
    protected = {
        "excluded": ["age", "gender"],
        "on": "held-out validation accounts",
        "top_share": 0.1,
        "with": {"roc_auc": 0.75},
        "without": {"roc_auc": 0.7},
        "cost": {"roc_auc": 0.05},
    }
    page = render_training_report(
        model,
        features,
        y,
        fairness=table,
        protected=protected,
        fairness_notes=["churn model underestimates churn for age_band 60+"],
    )
    headings = _headings(page)
    assert headings.index("Fairness: age bands and gender") == headings.index("Gains and lift") + 1
    assert "Without age, gender" in headings
    # 60+ has two rows, fewer than three: named, not scored
    assert "<td>age band: 60+</td><td>2</td><td>too few rows: not scored</td>" in page
    assert "<td>age band: under 30</td><td>4</td><td>66.7%</td>" in page
    assert "<td>ROC-AUC</td><td>0.7500</td><td>0.7000</td><td>0.0500</td>" in page
    assert "underestimates churn for age_band 60+" in page


def test_every_value_reaches_the_page_escaped(models):
    model, features, y = models["churn"]
    decision = {**DECISION, "reason": "<script>alert(1)</script> & more"}
    page = render_training_report(model, features, y, decision=decision, title="A <b>title")
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in page
    assert "<title>A &lt;b&gt;title</title>" in page and "<b>" not in page


def test_a_group_without_churners_shows_no_nan_in_the_report_or_the_summary(models):
    import dataclasses

    import pandas as pd

    from valuemodel.models import fairness
    from valuemodel.training.result import _fairness_lines

    from .test_audit import _result

    model, features, y = models["churn"]
    frame = pd.DataFrame(
        {
            "age": [25] * 4 + [65] * 4,
            "gender": ["M", "F"] * 4,
            "churn_probability": [0.9, 0.1, 0.6, 0.2, 0.3, 0.4, 0.1, 0.2],
            "churned": [1, 0, 1, 0, 0, 0, 0, 0],  # nobody of 60+ churned: no ROC-AUC there
        }
    )
    table = fairness.group_table(frame, top_k=2, min_group_size=3)
    old = table.set_index("group").loc["60+"]
    assert np.isnan(old["roc_auc"])  # the statistic is undefined, and must not read "nan"
    page = render_training_report(model, features, y, fairness=table)
    assert not re.search(r">\s*nan\s*<", page, re.IGNORECASE)
    assert "<td>age band: 60+</td><td>4</td>" in page
    stub = SimpleNamespace(fairness=table, warnings=[], notes=[])
    result = dataclasses.replace(_result(stub), fairness=tuple(table.to_dict(orient="records")))
    text = "\n".join(_fairness_lines(result))
    assert "age 60+" in text and "nan" not in text.lower()
