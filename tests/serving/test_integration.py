"""The scorer on real ``build_features`` output from a small generated brokerage."""

import importlib

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from valuemodel.data.generate import generate_brokerage, write_brokerage
from valuemodel.models import FeatureSchema
from valuemodel.serving.score import CONTRACT_COLUMNS, score

from .fakes import FakeModel

score_module = importlib.import_module("valuemodel.serving.score")
AS_OF = "2025-12-31"


@pytest.fixture(scope="module")
def brokerage(tmp_path_factory):
    folder = tmp_path_factory.mktemp("brokerage")
    write_brokerage(generate_brokerage(300, seed=3), folder)
    return folder


@pytest.fixture(scope="module")
def real_models(brokerage):
    """Models trained on the real feature frame (labels made up from it)."""
    from valuemodel.data import open_data
    from valuemodel.features import build_features

    features = build_features(open_data(brokerage), AS_OF)
    schema = FeatureSchema.from_frame(features)
    X = schema.prepare(features)
    rng = np.random.default_rng(0)
    churn_y = (rng.random(len(X)) < 0.3).astype(float)
    clv_y = rng.gamma(2.0, 500.0, len(X))
    params = {"verbosity": -1, "num_threads": 1, "min_data_in_leaf": 5, "seed": 0}
    churn = lgb.train({**params, "objective": "binary"}, lgb.Dataset(X, churn_y), 20)
    clv = lgb.train({**params, "objective": "tweedie"}, lgb.Dataset(X, clv_y), 20)
    return {
        "churn": FakeModel("churn", "1", churn, schema.to_dict(), 90),
        "clv": FakeModel("clv", "1", clv, schema.to_dict(), 365),
    }


def test_scoring_real_features_fills_every_tier_and_reason(
    brokerage, real_models, tmp_path, monkeypatch
):
    monkeypatch.setattr(score_module, "_load_model", lambda k, a, u: real_models[k])
    monkeypatch.setattr(score_module, "_load_uplift", lambda a, u: None)
    out = tmp_path / "list.csv"
    result = score(brokerage, AS_OF, out, top=50)
    written = pd.read_csv(out)
    assert list(written.columns[:14]) == list(CONTRACT_COLUMNS)
    assert len(written) == 50 and result.accounts_scored > 50
    for column in (
        "asset_tier",
        "value_quadrant",
        "service_segment",
        "growth_quadrant",
        "value_grade",
        "lifecycle_stage",
        "manager_id",
    ):
        assert written[column].notna().any(), column
    assert written["reason_1"].notna().all()
    # every reason came from a registry template (no "feature_name: value" fallback)
    reasons = written[["reason_1", "reason_2", "reason_3"]].stack()
    assert not reasons.str.contains(r"^[a-z0-9_]+: ").any()
    second = tmp_path / "again.csv"
    score(brokerage, AS_OF, second, top=50)
    assert out.read_bytes() == second.read_bytes()


def test_a_generated_list_gives_no_loss_action_to_an_account_in_profit_nor_a_profile_reason(
    brokerage, real_models, tmp_path, monkeypatch
):
    from valuemodel.data import open_data
    from valuemodel.features import build_features

    monkeypatch.setattr(score_module, "_load_model", lambda k, a, u: real_models[k])
    monkeypatch.setattr(score_module, "_load_uplift", lambda a, u: None)
    out = tmp_path / "full.csv"
    score(brokerage, AS_OF, out)
    written = pd.read_csv(out, dtype={"account_id": str})
    features = build_features(open_data(brokerage), AS_OF).set_index("account_id")
    pnl = features["unrealized_pnl_ratio"].reindex(written["account_id"]).to_numpy()
    loss_action = (written["action_id"] == "portfolio_review").to_numpy()
    assert not (loss_action & ~(pnl < 0)).any()  # in profit, flat or no holdings: never
    outflow = features["outflow_90d"].reindex(written["account_id"]).to_numpy()
    assert not ((written["action_id"] == "outflow_call").to_numpy() & ~(outflow > 0)).any()
    drivers = written[["driver_1", "driver_2", "driver_3"]].stack()
    assert not drivers.isin(["age", "gender", "branch", "channel", "manager_id"]).any()
    assert drivers.notna().any()
