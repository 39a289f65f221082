import gc
import hashlib
import importlib
import json
import weakref

import numpy as np
import openpyxl
import pandas as pd
import pytest

from valuemodel.data import open_data
from valuemodel.errors import InputError, ModelError
from valuemodel.serving import writers
from valuemodel.serving.score import CONTRACT_COLUMNS, SCORE_STEPS, score, side_paths
from valuemodel.serving.words import COLUMNS_ZH

from .fakes import MODEL_FEATURES, REGISTRY, make_features

# the module (``valuemodel.serving.score`` the attribute is the function)
score_module = importlib.import_module("valuemodel.serving.score")

N = 400
AS_OF = "2024-06-28"


@pytest.fixture
def data_dir(tmp_path):
    """A tiny data directory: only what ``score`` reads itself (accounts for managers)."""
    folder = tmp_path / "data"
    folder.mkdir()
    ids = [f"A{i:06d}" for i in range(N)]
    pd.DataFrame(
        {"account_id": ids, "trade_date": "2024-06-01", "amount": 1000.0, "commission": 1.0}
    ).to_csv(folder / "trades.csv", index=False)
    pd.DataFrame(
        {
            "account_id": ids,
            "open_date": "2020-01-01",
            "manager_id": [f"M{i % 4}" for i in range(N)],
            "branch": "Shanghai-01",
        }
    ).to_csv(folder / "accounts.csv", index=False)
    return folder


@pytest.fixture
def wired(monkeypatch, models):
    """Features and models stand-ins (``build_features`` and the registry are not needed)."""
    calls = []

    def features(data, as_of):
        calls.append(("features", as_of))
        return make_features(N, seed=5, as_of=as_of)

    def load(kind, alias, tracking_uri):
        calls.append((kind, alias, tracking_uri))
        return getattr(models, kind)

    monkeypatch.setattr(score_module, "_build_features", features)
    monkeypatch.setattr(score_module, "_load_model", load)
    monkeypatch.setattr(score_module, "_load_uplift", lambda alias, uri: None)
    monkeypatch.setattr(score_module, "_registry", lambda: REGISTRY)
    return calls


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_list_has_the_contract_columns_first_and_one_row_per_account(
    data_dir, wired, tmp_path
):
    out = tmp_path / "out" / "list.csv"
    result = score(data_dir, AS_OF, out, model_alias="staging", tracking_uri="file:/x")
    written = pd.read_csv(out, dtype={"account_id": str})
    assert list(written.columns[: len(CONTRACT_COLUMNS)]) == list(CONTRACT_COLUMNS)
    assert {"growth_quadrant", "grade_risk_category", "manager_id", "branch"} <= set(
        written.columns
    )
    assert len(written) == N and written["account_id"].is_unique
    assert written["rank"].tolist() == list(range(1, N + 1))
    assert (written["as_of"] == AS_OF).all()
    # exactly, as a reader of the file computes it (no separate rounding)
    assert (written["value_at_risk"] == written["churn_probability"] * written["clv"]).all()
    scores = written["priority_score"].to_numpy()
    assert (np.diff(scores) <= 0).all()
    assert ("churn", "staging", "file:/x") in wired and ("clv", "staging", "file:/x") in wired
    assert result.accounts_scored == N and result.accounts_written == N
    assert result.models["churn"]["version"] == "3" and result.models["clv"]["version"] == "5"
    assert result.out == out and result.summary_path.is_file() and result.drift_path.is_file()


def test_summary_and_drift_are_written_next_to_the_list(data_dir, wired, tmp_path):
    out = tmp_path / "list.parquet"
    result = score(data_dir, AS_OF, out, top=40)
    summary_path, drift_path = side_paths(out)
    assert summary_path.name == "list.summary.json" and drift_path.name == "list.drift.csv"
    summary = json.loads(summary_path.read_text())
    assert summary["as_of"] == AS_OF and summary["counts"]["written"] == 40
    assert summary["counts"]["population"] == N
    assert summary["data_fingerprint"] == open_data(data_dir).fingerprint(AS_OF)
    assert summary["models"]["churn"]["version"] == "3"
    by_segment = summary["value_at_risk"]["by_service_segment"]
    assert sum(by_segment.values()) == pytest.approx(summary["value_at_risk"]["total"], abs=0.1)
    assert result.value_at_risk_by_segment == by_segment
    drift = pd.read_csv(drift_path)
    assert set(drift["feature"]) == set(MODEL_FEATURES)
    assert sorted(drift["model"].unique()) == ["churn", "clv"] and len(drift) == 2 * 12


def test_top_k_keeps_the_effort_quotas(data_dir, wired, tmp_path):
    out = tmp_path / "list.csv"
    score(data_dir, AS_OF, out, top=50)
    written = pd.read_csv(out)
    assert len(written) == 50
    assert written["service_segment"].nunique() > 1
    assert written["reason_1"].notna().all()


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_scoring_is_idempotent_byte_for_byte(data_dir, wired, tmp_path, suffix):
    first, second = tmp_path / f"a{suffix}", tmp_path / f"b{suffix}"
    score(data_dir, AS_OF, first, top=60)
    score(data_dir, AS_OF, second, top=60)
    assert _digest(first) == _digest(second)
    assert _digest(side_paths(first)[1]) == _digest(side_paths(second)[1])


def test_a_failed_run_leaves_the_earlier_outputs_byte_identical(
    data_dir, wired, tmp_path, monkeypatch
):
    out = tmp_path / "list.csv"
    score(data_dir, AS_OF, out, top=30)
    paths = [out, *side_paths(out)]
    before = {p: _digest(p) for p in paths}

    def fail_midway(frame, path, *_):
        path.write_text(frame.head(3).to_csv())
        raise OSError("disk full")

    monkeypatch.setattr(writers, "write_csv", fail_midway)
    with pytest.raises(OSError, match="disk full"):
        score(data_dir, AS_OF, out, top=60)
    assert {p: _digest(p) for p in paths} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["data", *(p.name for p in paths)])


def test_xlsx_has_a_summary_sheet_and_one_sheet_per_manager(data_dir, wired, tmp_path):
    out = tmp_path / "list.xlsx"
    score(data_dir, AS_OF, out, top=40, lang="zh")
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["摘要", "M0", "M1", "M2", "M3"]
    header = [c.value for c in wb["M0"][1]]
    assert header[: len(CONTRACT_COLUMNS)] == [COLUMNS_ZH[c] for c in CONTRACT_COLUMNS]
    rows = sum(wb[name].max_row - 1 for name in wb.sheetnames[1:])
    assert rows == 40


def test_chinese_reasons_and_actions(data_dir, wired, tmp_path):
    out = tmp_path / "list.csv"
    score(data_dir, AS_OF, out, top=20, lang="zh")
    written = pd.read_csv(out)
    assert written["建议行动"].str.contains(r"[\u4e00-\u9fff]").all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"out": "list.json"}, "unsupported output format"),
        ({"top": 0}, "top must be >= 1"),
        ({"lang": "fr"}, "lang must be 'en' or 'zh'"),
        ({"as_of": "last tuesday"}, "is not a date"),
    ],
)
def test_bad_arguments_are_rejected_before_any_work(data_dir, wired, tmp_path, kwargs, message):
    args = {"out": "list.csv", "as_of": AS_OF} | kwargs
    out = tmp_path / args.pop("out")
    with pytest.raises(InputError, match=message):
        score(data_dir, args.pop("as_of"), out, **args)
    assert not out.exists() and wired == []


def test_a_bad_tiers_file_is_rejected_naming_the_key(data_dir, wired, tmp_path):
    tiers = tmp_path / "tiers.yaml"
    tiers.write_text("asset_tier:\n  large: -5\n")
    with pytest.raises(InputError, match=r"tiers\.yaml: asset_tier\.large"):
        score(data_dir, AS_OF, tmp_path / "list.csv", tiers=tiers)


def test_features_that_do_not_match_the_model_fail_and_write_nothing(
    data_dir, wired, tmp_path, monkeypatch, models
):
    def short(data, as_of):
        return make_features(N, seed=5).drop(columns="outflow_share_30d")

    monkeypatch.setattr(score_module, "_build_features", short)
    with pytest.raises(ModelError, match="outflow_share_30d"):
        score(data_dir, AS_OF, tmp_path / "list.csv")
    assert not (tmp_path / "list.csv").exists()


def test_an_empty_population_writes_an_empty_list_with_the_columns(
    data_dir, wired, tmp_path, monkeypatch
):
    monkeypatch.setattr(score_module, "_build_features", lambda d, a: make_features(N).iloc[:0])
    out = tmp_path / "list.csv"
    result = score(data_dir, AS_OF, out)
    assert list(pd.read_csv(out).columns[:14]) == list(CONTRACT_COLUMNS)
    assert result.accounts_written == 0
    assert any("empty" in w for w in result.warnings)


def test_progress_is_reported_for_every_step(data_dir, wired, tmp_path):
    steps = []
    score(data_dir, AS_OF, tmp_path / "l.csv", top=5, progress=lambda s, d: steps.append((s, d)))
    assert steps == list(zip(SCORE_STEPS, range(len(SCORE_STEPS)), strict=True))


def test_the_feature_frame_is_let_go_before_the_reasons(data_dir, wired, tmp_path, monkeypatch):
    # The reasons step is a run's memory peak; the feature frame (a copy of every feature,
    # about 1 GB per million accounts) must not be held through it.
    frames = []

    def features(data, as_of):
        frames.append(weakref.ref(out := make_features(N, seed=5, as_of=as_of)))
        return out

    alive = []
    finish = score_module.finish_list

    def finish_list(*args, **kwargs):
        gc.collect()
        alive.append(frames[0]() is not None)
        return finish(*args, **kwargs)

    monkeypatch.setattr(score_module, "_build_features", features)
    monkeypatch.setattr(score_module, "finish_list", finish_list)
    result = score(data_dir, AS_OF, tmp_path / "l.csv")
    assert alive == [False]
    assert result.accounts_written == N
    assert len(pd.read_csv(side_paths(tmp_path / "l.csv")[1])) > 0  # drift still written


def test_output_columns_write_dates_once_each_and_text_as_objects():
    frame = pd.DataFrame(
        {
            "rank": [2, 1, 3],
            "account_id": pd.array(["A2", "A1", "A3"], dtype="str"),
            "as_of": pd.to_datetime(["2024-06-28", "2024-06-28", None]),
            "churn_probability": [0.1234567, 0.5, 0.25],
            "manager_id": [7.0, np.nan, 8.0],  # numbers in a text column
        },
        index=[10, 11, 12],
    )
    written = score_module.output_columns(frame)
    assert written.index.tolist() == [0, 1, 2]
    assert written["as_of"].tolist() == ["2024-06-28", "2024-06-28", None]
    assert written["churn_probability"].tolist() == [0.123457, 0.5, 0.25]
    assert written["manager_id"].tolist() == ["7.0", None, "8.0"]
    assert written["account_id"].tolist() == ["A2", "A1", "A3"]
    numbers = {"rank", "churn_probability", "clv", "value_at_risk", "priority_score"}
    assert all(written[c].dtype == object for c in written.columns if c not in numbers)


def test_a_control_share_marks_that_share_of_every_segment_after_the_contract_columns(
    data_dir, wired, tmp_path
):
    out = tmp_path / "list.csv"
    result = score(data_dir, AS_OF, out, control_share=0.25, control_seed=3)
    written = pd.read_csv(out)
    assert list(written.columns[: len(CONTRACT_COLUMNS) + 1]) == [*CONTRACT_COLUMNS, "control"]
    assert written["control"].dtype == bool
    assert "true" in out.read_text() and "True" not in out.read_text()
    counts = written.groupby("service_segment")["control"].agg(["size", "sum"])
    assert (counts["sum"] == np.floor(0.25 * counts["size"] + 0.5)).all()
    control = result.summary["control"]
    assert control["share"] == 0.25 and control["seed"] == 3
    assert control["population_by_service_segment"] == {
        s: {"accounts": int(r["size"]), "control": int(r["sum"])} for s, r in counts.iterrows()
    }
    from valuemodel.serving import format_score_summary

    assert "NOT to be contacted" in format_score_summary(result)


def test_without_a_control_share_there_is_no_control_column(data_dir, wired, tmp_path):
    out = tmp_path / "list.csv"
    result = score(data_dir, AS_OF, out)
    assert "control" not in pd.read_csv(out).columns
    assert result.summary["control"] == {"share": 0.0}


def test_the_control_group_does_not_depend_on_top_k(data_dir, wired, tmp_path):
    full, top = tmp_path / "full.csv", tmp_path / "top.csv"
    score(data_dir, AS_OF, full, control_share=0.2)
    score(data_dir, AS_OF, top, top=80, control_share=0.2)
    full, top = pd.read_csv(full), pd.read_csv(top)
    held = dict(zip(full.account_id, full.control, strict=True))
    assert (top.control == top.account_id.map(held)).all()


def test_the_workbook_puts_control_accounts_on_their_own_sheet(data_dir, wired, tmp_path):
    out = tmp_path / "list.xlsx"
    score(data_dir, AS_OF, out, top=60, control_share=0.2)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[-1] == writers.CONTROL_SHEET
    header = [c.value for c in wb["M0"][1]]
    column = header.index("control")
    for name in wb.sheetnames[1:]:
        flags = {row[column] for row in wb[name].iter_rows(min_row=2, values_only=True)}
        assert flags == ({True} if name == writers.CONTROL_SHEET else {False})


def test_the_summary_estimates_the_lists_performance_before_outcomes(data_dir, wired, tmp_path):
    from valuemodel.serving.estimation import expected_roc_auc

    out = tmp_path / "list.csv"
    result = score(data_dir, AS_OF, out, top=100)
    written = pd.read_csv(out)
    expected = result.summary["expected_performance"]
    assert expected["roc_auc"] == pytest.approx(expected_roc_auc(written.churn_probability))
    assert expected["churners"] == pytest.approx(written.churn_probability.sum(), abs=1e-3)
    assert expected["top"]["10"] == pytest.approx(written.churn_probability[:10].sum(), abs=1e-3)


def test_compare_scores_the_challenger_in_the_shadow(data_dir, wired, tmp_path, monkeypatch):
    from .fakes import train_models

    champion, challenger = score_module._load_model, train_models(seed=1)

    def load(kind, alias, tracking_uri):
        return getattr(challenger, kind) if alias == "challenger" else champion(kind, alias, None)

    monkeypatch.setattr(score_module, "_load_model", load)
    out = tmp_path / "list.csv"
    result = score(data_dir, AS_OF, out, top=40, compare="challenger")
    table = pd.read_csv(tmp_path / "list.compare.csv")
    info = json.loads((tmp_path / "list.compare.json").read_text())
    assert info == result.summary["compare"] and info["alias"] == "challenger" and info["k"] == 40
    assert len(table) == N and table["rank"].tolist() == list(range(1, N + 1))
    assert table["in_top"].sum() == table["challenger_in_top"].sum() == 40
    written = pd.read_csv(out)
    assert set(table.loc[table.in_top, "account_id"]) == set(written.account_id)
    assert (table.movement == "enters").sum() == info["entering"] > 0
    assert info["top_overlap"]["40"] == pytest.approx(1 - info["entering"] / 40)
    movers = table[table.movement.notna()]
    assert movers["reason_1"].notna().all() and movers["challenger_reason_1"].notna().all()
    assert table.loc[table.movement.isna(), "reason_1"].isna().all()
    assert -1 < info["rank_spearman"] < 1


def test_the_compare_file_carries_the_control_flag_of_every_account(
    data_dir, wired, tmp_path, monkeypatch
):
    from .fakes import train_models

    champion, challenger = score_module._load_model, train_models(seed=1)

    def load(kind, alias, tracking_uri):
        return getattr(challenger, kind) if alias == "challenger" else champion(kind, alias, None)

    monkeypatch.setattr(score_module, "_load_model", load)
    out = tmp_path / "list.csv"
    score(data_dir, AS_OF, out, top=40, compare="challenger", control_share=0.2)
    table = pd.read_csv(tmp_path / "list.compare.csv", dtype={"account_id": str})
    written = pd.read_csv(out, dtype={"account_id": str})
    assert table["control"].dtype == bool and len(table) == N
    assert table["control"].sum() > written["control"].sum() > 0  # drawn over everyone
    flags = table.set_index("account_id")["control"]
    assert (flags.loc[written.account_id].to_numpy() == written["control"].to_numpy()).all()


def test_compare_with_the_scored_alias_is_rejected(data_dir, wired, tmp_path):
    with pytest.raises(InputError, match="--compare 'champion' is the alias being scored"):
        score(data_dir, AS_OF, tmp_path / "list.csv", compare="champion")


def test_the_list_carries_the_p_over_r_rule_stored_with_the_value_model(models):
    import copy

    from valuemodel.serving.score import output_columns, score_features

    rule = {
        "period_days": 90,
        "horizon_days": 360,
        "contribution_days": 365,
        "medium": 500_000,
        "large": 5_000_000,
        "min_segment_rows": 30,
        "rates": {"large": 0.5, "medium": 0.25, "retail": 0.0},
        "overall_rate": 0.1,
    }
    clv = copy.copy(models.clv)
    clv.metadata = {"clv_rule": rule}
    features = make_features(3, seed=1).assign(
        total_assets=[6e6, 6e5, 1e4], revenue_365d=[365.0, 730.0, 36.5]
    )
    scored = score_features(features, {"churn": models.churn, "clv": clv})
    # P = revenue * 90 / 365 per quarter over n = 4 quarters: P * (1 - (1 - R)^4) / R, R = 0: 4 P
    assert scored["clv_rule"].tolist() == [168.75, 492.19, 36.0]
    assert "clv_rule" in output_columns(scored.assign(rank=1)).columns
    without_rule = score_features(features, {"churn": models.churn, "clv": models.clv})
    assert "clv_rule" not in without_rule.columns
    clv.metadata = {"clv_rule": {"period_days": 90}}
    with pytest.raises(ModelError, match="P / R rule cannot score"):
        score_features(features, {"churn": models.churn, "clv": clv})
