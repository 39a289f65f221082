"""``evaluate`` on hand-made brokerages whose outcomes are planted, so the answers are known."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from valuemodel.data import open_data
from valuemodel.errors import InputError
from valuemodel.serving.evaluation import evaluate

AS_OF = "2025-06-30"  # T; T + 90 = 2025-09-28; T + 365 = 2026-06-30
SEGMENTS = ["core", "dormant", "maintaining", "precipitating"]


def brokerage(
    folder, n, churn_treated, churn_control, *, control_share=0.2, end="2025-10-15", seed=0
):
    """``n`` accounts with 10,000 CNY at T; churners drop to 1,000 CNY (10 %) before T + 90.

    Control accounts churn with ``churn_control``, the others with ``churn_treated``. Revenue
    after T is 100 CNY times a per-account factor that ``clv`` predicts with noise. Returns the
    list frame (with ``control``) and the planted churn labels.
    """
    rng = np.random.default_rng(seed)
    ids = [f"A{i:05d}" for i in range(n)]
    control = rng.random(n) < control_share
    churn = rng.random(n) < np.where(control, churn_control, churn_treated)
    factor = rng.gamma(2.0, 1.0, n)
    folder.mkdir(parents=True)
    pd.DataFrame({"account_id": ids, "open_date": "2020-01-01"}).to_csv(
        folder / "accounts.csv", index=False
    )
    trades = pd.DataFrame(
        {"account_id": ids, "trade_date": "2025-06-01", "amount": 1000.0, "commission": 1.0}
    )
    last = pd.DataFrame(
        {"account_id": [ids[0]], "trade_date": [end], "amount": [1.0], "commission": [0.0]}
    )
    pd.concat([trades, last]).to_csv(folder / "trades.csv", index=False)
    # every table runs through ``end`` (a label is complete only when its own table does)
    pd.DataFrame(
        {
            "account_id": ids * 2 + [ids[0]],
            "date": ["2025-06-30"] * n + ["2025-09-20"] * n + [end],
            "total_assets": [10_000.0] * n
            + list(np.where(churn, 1_000.0, 10_500.0))
            + [1_000.0 if churn[0] else 10_500.0],
        }
    ).to_csv(folder / "balances.csv", index=False)
    pd.DataFrame(
        {
            "account_id": ids + [ids[0]],
            "date": ["2025-08-01"] * n + [end],
            "amount": list(np.round(100 * factor, 2)) + [0.0],
        }
    ).to_csv(folder / "revenue.csv", index=False)
    proba = np.clip(0.2 + 0.3 * churn + rng.normal(0, 0.15, n), 0.01, 0.99).round(6)
    frame = pd.DataFrame(
        {
            "account_id": ids,
            "as_of": AS_OF,
            "churn_probability": proba,
            "clv": np.round(100 * factor * rng.lognormal(0, 0.3, n), 2),
            "service_segment": rng.choice(SEGMENTS, n),
            "recommended_action": rng.choice(["call", "visit"], n),
            "control": control,
        }
    )
    frame = frame.sort_values("churn_probability", ascending=False, kind="mergesort")
    frame.insert(0, "rank", np.arange(1, n + 1))
    return frame.reset_index(drop=True), pd.Series(churn.astype(float), index=ids)


def write_list(frame, path, **models):
    frame.to_csv(path, index=False)
    summary = {
        "as_of": AS_OF,
        "data_fingerprint": "not-this-data",
        "models": {
            "churn": {
                "version": "7",
                "alias": "champion",
                "horizon_days": 90,
                "churn_definition": "assets",
            },
            "clv": {"version": "8", "alias": "champion", "horizon_days": 365},
        }
        | models,
        "expected_performance": {"roc_auc": 0.8, "churners": 10.0, "top": {"5": 2.0}},
    }
    path.with_name(f"{path.stem}.summary.json").write_text(json.dumps(summary))
    return path


def run(tmp_path, frame, contacted=None, end="2025-10-15"):
    listed = write_list(frame, tmp_path / "list.csv")
    return evaluate(listed, open_data(tmp_path / "data"), tmp_path / "out", contacted=contacted)


def test_churn_metrics_match_the_planted_outcomes(tmp_path):
    frame, churn = brokerage(tmp_path / "data", 400, 0.2, 0.2)
    result = run(tmp_path, frame)
    written = json.loads(result.json_path.read_text())
    y = churn.loc[frame.account_id].to_numpy()
    assert written["churn"]["n"] == 400 and written["churn"]["churners"] == int(y.sum())
    expected = roc_auc_score(y, frame.churn_probability)
    assert written["churn"]["roc_auc"] == pytest.approx(expected, abs=1e-6)
    assert written["horizons"]["churn"] == {
        "days": 90,
        "until": "2025-09-28",
        "complete": True,
        "table": "balances",
        "table_end": "2025-10-15",
    }
    assert written["horizons"]["value"]["complete"] is False
    assert written["value"]["spearman"] is None
    assert any("value window is not complete" in n for n in written["notes"])
    assert written["same_files_as_scored"] is False
    assert set(written["by"]["service_segment"]) == set(SEGMENTS)
    top = written["churn"]["top"]
    assert [r["k"] for r in top] == [20, 40, 80, 200]
    assert top[0]["churners"] == int(y[:20].sum())
    assert "data:image/png;base64," in result.html_path.read_text()


def test_a_planted_effect_is_found_with_an_interval_below_zero(tmp_path):
    frame, _ = brokerage(tmp_path / "data", 3000, 0.15, 0.30, seed=1)
    control = run(tmp_path, frame).evaluation["control"]
    assert control["present"] and control["analysis"] == "intent to treat"
    churn = control["overall"]["churn_rate"]
    assert churn["difference"] < 0 and churn["interval"][1] < 0
    assert control["overall"]["retained_assets"]["difference"] > 0
    assert control["overall"]["verdict"].startswith(
        "accounts on the list to contact churned less than control"
    )
    assert set(control["by_service_segment"]) == set(SEGMENTS)


def test_without_an_effect_the_interval_includes_zero(tmp_path):
    frame, _ = brokerage(tmp_path / "data", 3000, 0.2, 0.2, seed=2)
    churn = run(tmp_path, frame).evaluation["control"]["overall"]["churn_rate"]
    low, high = churn["interval"]
    assert low < 0 < high


def test_contacted_accounts_switch_to_as_treated(tmp_path):
    frame, _ = brokerage(tmp_path / "data", 400, 0.2, 0.2)
    treated = frame.loc[~frame.control, "account_id"]
    contacted = tmp_path / "contacted.csv"
    pd.DataFrame({"account_id": treated.iloc[:100]}).to_csv(contacted, index=False)
    control = run(tmp_path, frame, contacted=contacted).evaluation["control"]
    assert control["analysis"] == "as treated"
    assert control["overall"]["treated"] == 100
    assert control["overall"]["control"] == int(frame.control.sum())
    assert control["listed_not_contacted"] == len(treated) - 100


def test_a_list_without_control_says_so(tmp_path):
    frame, _ = brokerage(tmp_path / "data", 200, 0.2, 0.2)
    control = run(tmp_path, frame.drop(columns="control")).evaluation["control"]
    assert control == {
        "present": False,
        "note": "the list has no control group (score it with --control-share S)",
    }


def test_value_is_judged_once_its_window_is_complete(tmp_path):
    frame, _ = brokerage(tmp_path / "data", 300, 0.2, 0.2, end="2026-07-01")
    result = run(tmp_path, frame)
    value = result.evaluation["value"]
    revenue = pd.read_csv(tmp_path / "data" / "revenue.csv", dtype={"account_id": str})
    realised = frame.account_id.map(revenue.groupby("account_id").amount.sum())
    assert value["spearman"] == pytest.approx(
        realised.corr(frame.clv, method="spearman"), abs=1e-6
    )
    assert len(value["deciles"]) == 10
    assert sum(d["realised"] for d in value["deciles"]) == pytest.approx(realised.sum(), abs=0.1)


def test_data_that_ends_before_the_churn_window_closes_is_rejected(tmp_path):
    frame, _ = brokerage(tmp_path / "data", 50, 0.2, 0.2, end="2025-08-01")
    with pytest.raises(InputError, match="complete only with data through 2025-09-28"):
        run(tmp_path, frame)
    assert not (tmp_path / "out").exists()


def test_balances_that_end_before_the_churn_window_closes_are_rejected(tmp_path):
    # the other tables run through 2025-10-15; balances stop on 2025-09-20 < T + 90
    frame, _ = brokerage(tmp_path / "data", 50, 0.2, 0.2)
    balances = pd.read_csv(tmp_path / "data" / "balances.csv")
    balances[balances.date <= "2025-09-20"].to_csv(tmp_path / "data" / "balances.csv", index=False)
    with pytest.raises(
        InputError,
        match=r"the balances table ends 2025-09-20, before the end of the list's 90-day churn "
        r"window 2025-09-28 .* complete only once balances runs through 2025-09-28",
    ):
        run(tmp_path, frame)
    assert not (tmp_path / "out").exists()


def test_revenue_that_ends_before_the_value_window_closes_leaves_value_empty(tmp_path):
    frame, _ = brokerage(tmp_path / "data", 300, 0.2, 0.2, end="2026-07-01")
    revenue = pd.read_csv(tmp_path / "data" / "revenue.csv")
    revenue[revenue.date <= "2026-01-31"].to_csv(tmp_path / "data" / "revenue.csv", index=False)
    result = run(tmp_path, frame).evaluation
    assert result["value"]["spearman"] is None
    assert result["horizons"]["value"] == {
        "days": 365,
        "until": "2026-06-30",
        "complete": False,
        "table": "revenue",
        "table_end": "2025-08-01",
    }
    assert (
        "the revenue table ends 2025-08-01, before the end of the 365-day value window "
        "2026-06-30" in " ".join(result["notes"])
    )


def test_data_that_does_not_run_past_the_as_of_date_is_rejected(tmp_path):
    frame, _ = brokerage(tmp_path / "data", 50, 0.2, 0.2, end="2025-06-15")
    (tmp_path / "data" / "balances.csv").write_text(
        "account_id,date,total_assets\nA00000,2025-06-30,10000\n"
    )
    (tmp_path / "data" / "revenue.csv").unlink()
    with pytest.raises(InputError, match="does not run past the list's as-of date"):
        run(tmp_path, frame.head(1))


def test_a_list_without_its_summary_is_rejected(tmp_path):
    frame, _ = brokerage(tmp_path / "data", 50, 0.2, 0.2)
    frame.to_csv(tmp_path / "alone.csv", index=False)
    with pytest.raises(InputError, match="the scoring summary is missing"):
        evaluate(tmp_path / "alone.csv", open_data(tmp_path / "data"), tmp_path / "out")


def test_a_summary_written_with_a_list_of_another_format_is_rejected(tmp_path):
    # list.parquet scored, then list.csv: one list.summary.json, the csv's
    frame, _ = brokerage(tmp_path / "data", 50, 0.2, 0.2)
    listed = write_list(frame, tmp_path / "list.csv")
    summary_file = tmp_path / "list.summary.json"
    summary = json.loads(summary_file.read_text())
    frame.to_parquet(tmp_path / "list.parquet", index=False)
    summary_file.write_text(json.dumps(summary | {"list": "list.csv"}))
    with pytest.raises(InputError, match="written with the list 'list.csv', not 'list.parquet'"):
        evaluate(tmp_path / "list.parquet", open_data(tmp_path / "data"), tmp_path / "out")
    assert not (tmp_path / "out").exists()
    evaluate(listed, open_data(tmp_path / "data"), tmp_path / "out")  # its own list: judged
    assert (tmp_path / "out" / "evaluation.json").is_file()


def test_a_file_that_is_not_a_ranked_list_is_rejected(tmp_path):
    frame, _ = brokerage(tmp_path / "data", 50, 0.2, 0.2)
    listed = write_list(frame.drop(columns="churn_probability"), tmp_path / "list.csv")
    with pytest.raises(InputError, match="missing column.s. churn_probability"):
        evaluate(listed, open_data(tmp_path / "data"), tmp_path / "out")


def test_both_models_are_judged_on_the_control_accounts_of_the_compare_file(tmp_path):
    frame, churn = brokerage(tmp_path / "data", 400, 0.2, 0.2)
    population = frame.assign(challenger_churn_probability=churn.loc[frame.account_id].to_numpy())
    population = population.assign(
        challenger_clv=population.clv,
        challenger_rank=population.challenger_churn_probability.rank(
            ascending=False, method="first"
        ).astype(int),
    )
    listed = write_list(frame.head(100), tmp_path / "top.csv")
    summary = json.loads((tmp_path / "top.summary.json").read_text())
    summary["compare"] = {"alias": "challenger", "k": 100, "models": {}}
    (tmp_path / "top.summary.json").write_text(json.dumps(summary))
    population.to_csv(tmp_path / "top.compare.csv", index=False)
    result = evaluate(listed, open_data(tmp_path / "data"), tmp_path / "out")
    both = result.evaluation["challenger"]
    held = population[population.control]
    assert both["basis"] == "control" and both["n"] == len(held) == 81
    assert result.evaluation["churn"]["n"] == 100
    assert both["challenger"]["roc_auc"] == 1.0
    y = churn.loc[held.account_id].to_numpy()
    assert both["champion"]["roc_auc"] == pytest.approx(
        roc_auc_score(y, held.churn_probability), abs=1e-6
    )
    assert both["verdict"].startswith("challenger ahead: ROC-AUC +")
    assert "81 control accounts" in result.html_path.read_text()
    population.drop(columns="control").to_csv(tmp_path / "top.compare.csv", index=False)
    both = evaluate(listed, open_data(tmp_path / "data"), tmp_path / "again").evaluation[
        "challenger"
    ]
    assert both["basis"] is None and both["verdict"] is None
    assert "no control column" in both["note"]


def test_the_control_figure_shows_one_interval_per_conclusive_group():
    from valuemodel.serving.evaluation_report import control_figure

    def group(diff):
        churn = {"difference": diff, "interval": [diff - 0.01, diff + 0.01]} if diff else {}
        return {"churn_rate": churn}

    fig = control_figure(
        {
            "overall": group(-0.05),
            "by_service_segment": {"core": group(-0.02), "dormant": group(None)},
        }
    )
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["overall", "core"]
    points = [line.get_xdata()[0] for line in ax.lines if line.get_marker() == "o"]
    assert points == [-0.05, -0.02]


def with_people(folder, frame, churn, women_predicted=None):
    """Birth years and genders for the accounts; optionally a planted over-prediction for
    the women (their probability raised by ``women_predicted``)."""
    rng = np.random.default_rng(3)
    n = len(frame)
    people = pd.DataFrame(
        {
            "account_id": frame.account_id,
            "open_date": "2020-01-01",
            "birth_year": rng.integers(1950, 2000, n),
            "gender": rng.choice(["M", "F"], n),
        }
    )
    people.to_csv(folder / "accounts.csv", index=False)
    if women_predicted is not None:
        women = people.gender.to_numpy() == "F"
        raised = np.clip(frame.churn_probability + women_predicted * women, 0, 0.99).round(6)
        frame = frame.assign(churn_probability=raised)
    return frame


def test_evaluate_shows_the_fairness_table_and_warns_of_a_planted_miscalibration(tmp_path):
    frame, churn = brokerage(tmp_path / "data", 1200, 0.2, 0.2)
    frame = with_people(tmp_path / "data", frame, churn, women_predicted=0.3)
    fairness = json.loads(run(tmp_path, frame).json_path.read_text())["fairness"]
    rows = {(r["dimension"], r["group"]): r for r in fairness["table"]}
    women, men = rows[("gender", "F")], rows[("gender", "M")]
    assert women["calibration_gap"] - men["calibration_gap"] == pytest.approx(0.3, abs=0.03)
    assert [w for w in fairness["warnings"] if "gender F" in w]
    assert not [w for w in fairness["warnings"] if "gender M" in w]
    assert {"under 30", "30-44", "45-59", "60+"} >= {
        r["group"] for r in fairness["table"] if r["dimension"] == "age_band"
    } - {"unknown"}
    html = (tmp_path / "out" / "evaluation.html").read_text()
    assert "The same quality for every age group and gender" in html


def test_evaluate_without_a_miscalibration_does_not_warn(tmp_path):
    frame, churn = brokerage(tmp_path / "data", 1200, 0.2, 0.2)
    # calibrated by construction: the probability is the planted churn rate of each account
    frame = with_people(tmp_path / "data", frame, churn).assign(churn_probability=0.2)
    fairness = json.loads(run(tmp_path, frame).json_path.read_text())["fairness"]
    assert fairness["warnings"] == []


def test_expected_and_realised_churners_in_the_top_k_are_counted_on_the_same_rows(tmp_path):
    frame, churn = brokerage(tmp_path / "data", 200, 0.2, 0.2)
    strangers = frame.head(60).assign(account_id=[f"X{i:03d}" for i in range(60)])
    listed = pd.concat([strangers, frame.iloc[60:]]).reset_index(drop=True)  # 60 lack outcomes
    summary_top = {"10": 1.0, "20": 2.0, "40": 4.0, "100": 10.0}
    write_list(listed, tmp_path / "list.csv")
    summary_file = tmp_path / "list.summary.json"
    summary = json.loads(summary_file.read_text())
    summary["expected_performance"]["top"] = summary_top
    summary_file.write_text(json.dumps(summary))
    estimate = evaluate(
        tmp_path / "list.csv", open_data(tmp_path / "data"), tmp_path / "out"
    ).evaluation["estimate"]
    first = listed.iloc[:100]
    known = first[~first.account_id.str.startswith("X")]
    assert estimate["top"]["10"] == {
        "expected": 0.0, "realised": 0, "with_outcome": 0, "at_scoring": 1.0,
    }  # fmt: skip
    assert estimate["top"]["100"]["with_outcome"] == len(known) == 40
    assert estimate["top"]["100"]["realised"] == int(churn.loc[known.account_id].sum())
    assert estimate["top"]["100"]["expected"] == pytest.approx(known.churn_probability.sum())
    assert estimate["churners"]["realised"] == int(churn.loc[listed.account_id[60:]].sum())


def test_a_list_most_of_whose_accounts_have_no_outcome_is_rejected(tmp_path):
    frame, _ = brokerage(tmp_path / "data", 100, 0.2, 0.2)
    frame.loc[:50, "account_id"] = [f"X{i:03d}" for i in range(51)]
    with pytest.raises(InputError, match=r"only 49 of its 100 accounts have an outcome"):
        run(tmp_path, frame)
    assert not (tmp_path / "out").exists()
