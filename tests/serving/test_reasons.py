import numpy as np
import pandas as pd
import pytest
import shap

from valuemodel.models import shap_values
from valuemodel.serving import reasons
from valuemodel.serving.reasons import contributions, explain, phrase, top_drivers

from .fakes import REGISTRY, make_features


@pytest.fixture(scope="module")
def scored(models):
    features = make_features(300, seed=11)
    return features, models.churn.prepare(features)


@pytest.mark.filterwarnings("ignore:LightGBM binary classifier:UserWarning")
def test_contributions_equal_shap_tree_explainer_within_1e_6(models, scored):
    _, X = scored
    ours = contributions(models.churn.booster, X)
    theirs = shap.TreeExplainer(models.churn.booster).shap_values(X)
    theirs = theirs[1] if isinstance(theirs, list) else theirs
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours.to_numpy(), theirs, atol=1e-6, rtol=0)


def test_contributions_and_bias_add_up_to_the_raw_score(models, scored):
    _, X = scored
    raw = models.churn.booster.predict(X, raw_score=True)
    full = models.churn.booster.predict(X, pred_contrib=True)
    np.testing.assert_allclose(
        contributions(models.churn.booster, X).sum(axis=1) + full[:, -1], raw, atol=1e-9
    )


def test_drivers_are_the_features_with_the_largest_positive_contributions(models, scored):
    _, X = scored
    contrib = contributions(models.churn.booster, X)
    drivers = top_drivers(contrib)
    values = contrib.to_numpy()
    for i in range(len(X)):
        positive = sorted(
            ((v, name) for v, name in zip(values[i], contrib.columns, strict=True) if v > 0),
            reverse=True,
        )
        expected = [name for _, name in positive[:3]]
        got = [d for d in drivers.iloc[i].tolist() if d is not None]
        assert got == expected


def test_fewer_than_three_positive_contributions_leave_the_rest_empty():
    contrib = pd.DataFrame(
        {"a": [0.5, -1.0], "b": [-0.2, -0.1], "c": [0.1, 0.0], "d": [0.0, -3.0]}, index=[4, 9]
    )
    drivers = top_drivers(contrib)
    assert drivers.loc[4].tolist() == ["a", "c", None]
    assert drivers.loc[9].tolist() == [None, None, None]


@pytest.mark.parametrize("chunk", [16_384, 7])
@pytest.mark.parametrize("width", [4, 12, 40, 157])
def test_top_drivers_order_is_a_stable_sort_even_with_ties(width, chunk, monkeypatch):
    # in chunks of 7 rows (2000 = 285 x 7 + 5), each row keeps its own drivers
    monkeypatch.setattr(shap_values, "TOP_CHUNK_ROWS", chunk)
    values = np.random.default_rng(width).integers(-2, 3, size=(2000, width)).astype(float)
    contrib = pd.DataFrame(values, columns=[f"f{j}" for j in range(width)])
    expected = np.argsort(-values, axis=1, kind="stable")[:, :3]  # ties: the first column
    names = np.where(
        np.take_along_axis(values, expected, axis=1) > 0,
        contrib.columns.to_numpy()[expected],
        None,
    )
    got = top_drivers(contrib)
    assert got.to_numpy().tolist() == names.tolist()


@pytest.mark.parametrize("chunk", [16_384, 7])
def test_reasons_carry_the_accounts_real_values(models, scored, chunk, monkeypatch):
    # phrased 7 rows at a time (300 = 42 x 7 + 6), rows of X in another order than features
    monkeypatch.setattr(reasons, "PHRASE_CHUNK_ROWS", chunk)
    features, X = scored
    X = X.sample(frac=1.0, random_state=5)
    out = explain(models.churn.booster, X, features, REGISTRY)
    assert out.index.equals(X.index)
    checked = 0
    for idx, row in out.iterrows():
        account = features.loc[idx]
        for k in (1, 2, 3):
            driver, reason = row[f"driver_{k}"], row[f"reason_{k}"]
            if driver is None:
                assert reason is None
            elif driver == "outflow_share_30d":
                assert reason == f"moved {account.outflow_share_30d:.0%} of assets out in 30 days"
                checked += 1
            elif driver == "active_trading_days_90d":
                assert reason == (
                    f"traded on {account.active_trading_days_90d:.0f} days in the last quarter "
                    f"against {account.active_trading_days_365d:.0f} in the last year"
                )
                checked += 1
    assert checked > 10


def test_reasons_in_chinese(models, scored):
    features, X = scored
    out = explain(models.churn.booster, X, features, REGISTRY, lang="zh")
    hits = out[out["driver_1"] == "days_since_last_trade"]
    assert len(hits)
    idx = hits.index[0]
    assert (
        hits.loc[idx, "reason_1"] == f"已{features.loc[idx, 'days_since_last_trade']:.0f}天未交易"
    )


def test_phrase_fills_templates_with_format_specs_and_other_features():
    row = {
        "outflow_share_30d": 0.4512,
        "active_trading_days_90d": 3.0,
        "active_trading_days_365d": 72.0,
    }
    assert phrase("outflow_share_30d", row, REGISTRY) == "moved 45% of assets out in 30 days"
    assert phrase("active_trading_days_90d", row, REGISTRY) == (
        "traded on 3 days in the last quarter against 72 in the last year"
    )


def test_phrase_falls_back_to_the_description_and_value():
    row = {"tenure_days": 45.0, "days_since_last_trade": None, "active_trading_days_90d": 3.0}
    assert phrase("tenure_days", row, None) == "tenure_days: 45"
    # a template naming a feature the row lacks
    assert phrase("active_trading_days_90d", row, REGISTRY) == (
        "trading days in the last 90 days: 3"
    )
    assert phrase("active_trading_days_90d", row, REGISTRY, "zh") == "近90天交易天数：3"
    assert phrase("days_since_last_trade", row, REGISTRY) == (
        "days since the last trade: none on record"
    )


@pytest.fixture(scope="module")
def profile_model():
    """A churn booster driven mostly by age and branch (and a little by trading)."""
    import lightgbm as lgb

    rng = np.random.default_rng(4)
    n = 400
    X = pd.DataFrame(
        {
            "age": rng.integers(20, 80, n).astype(float),
            "branch": pd.Categorical(rng.choice(["BR01", "BR07"], n)),
            "manager_tenure": rng.normal(0, 1, n),
            "active_trading_days_90d": rng.integers(0, 60, n).astype(float),
            "outflow_share_30d": rng.beta(0.5, 4, n),
        }
    )
    logit = (
        0.08 * (X["age"] - 50)
        + 2.0 * (X["branch"] == "BR07")
        - 0.03 * X["active_trading_days_90d"]
        + 3 * X["outflow_share_30d"]
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float)
    params = {"objective": "binary", "verbosity": -1, "num_threads": 1, "min_data_in_leaf": 5}
    return lgb.train(params, lgb.Dataset(X, y), 30), X


def test_reasons_never_name_protected_or_administrative_features(profile_model):
    booster, X = profile_model
    shown = explain(booster, X, X, REGISTRY, exclude=())
    assert shown["driver_1"].isin(["age", "branch"]).mean() > 0.5  # the model leans on them
    out = explain(booster, X, X, REGISTRY)  # the tiers file's default list
    drivers = out[["driver_1", "driver_2", "driver_3"]].stack()
    assert not drivers.isin(["age", "branch", "manager_tenure"]).any()
    # the next driver takes their place: the strongest of the features that may be shown
    contrib = contributions(booster, X)[["active_trading_days_90d", "outflow_share_30d"]]
    strongest = zip(contrib.idxmax(axis=1), contrib.max(axis=1), strict=True)
    best = [n if v > 0 else None for n, v in strongest]
    assert out["driver_1"].tolist() == best
    reasons_text = out[["reason_1", "reason_2", "reason_3"]].stack()
    assert not reasons_text.str.contains("age|branch|BR0", case=False).any()


def test_the_list_of_features_never_given_as_reasons_is_configuration():
    from valuemodel.serving.config import TierConfig

    assert reasons.not_reasons() == ("age", "gender", "branch", "manager*", "channel")
    config = TierConfig.model_validate({"reasons": {"exclude": ["risk_level"]}})
    assert reasons.not_reasons(config) == ("risk_level",)


@pytest.mark.parametrize(
    ("feature", "value", "lang", "expected"),
    [
        ("unrealized_pnl_ratio", 0.0, "en", "holdings are 0% against cost"),
        ("unrealized_pnl_ratio", -0.0001, "en", "holdings are 0% against cost"),
        ("unrealized_pnl_ratio", 0.003, "en", "holdings are +0.3% against cost"),
        ("unrealized_pnl_ratio", 0.07, "en", "holdings are +7% against cost"),
        ("days_since_last_deposit", 75.0, "en", "last deposit 75 days ago"),
        ("days_since_last_withdrawal", 0.0, "en", "last withdrawal on the as-of date"),
        ("days_since_last_withdrawal", 0.0, "zh", "最近一次资金转出在统计日当天"),
        ("days_since_last_withdrawal", 12.0, "zh", "最近一次资金转出在12天前"),
        ("days_since_last_trade", 1.0, "en", "last traded 1 day ago"),
    ],
)
def test_reasons_read_as_plain_sentences(feature, value, lang, expected):
    from valuemodel.features import load_registry

    assert phrase(feature, {feature: value}, load_registry(), lang) == expected


def test_a_reason_without_a_value_is_a_lower_case_phrase_like_the_others():
    from valuemodel.features import load_registry

    said = phrase("days_since_last_deposit", {"days_since_last_deposit": None}, load_registry())
    assert said == "days since the last transfer of money in (bank to securities): none on record"


def test_a_numpy_nan_in_a_row_is_no_value_not_unknown():
    # a row of a mixed frame (``frame.loc[i]``) holds NumPy scalars: its NaN is missing too
    row = pd.DataFrame({"outflow_share_30d": [np.nan], "branch": ["BR01"]}).loc[0]
    assert isinstance(row["outflow_share_30d"], np.floating)
    said = phrase("outflow_share_30d", row, REGISTRY)
    assert said == "share of assets moved out in 30 days: none on record"


def test_phrased_drivers_read_each_rows_own_values_of_every_field_of_the_template():
    # both rows have the driver at 3 days; the template also reads the year's trading days,
    # which differ: the second row must not be given the first one's words
    drivers = pd.DataFrame(
        {"driver_1": ["active_trading_days_90d"] * 2, "driver_2": ["outflow_share_30d", None]},
        index=[7, 9],
    )
    features = pd.DataFrame(
        {
            "active_trading_days_90d": [3.0, 3.0],
            "active_trading_days_365d": [72.0, 40.0],
            "outflow_share_30d": [0.25, np.nan],
        },
        index=[7, 9],
    )
    first, second = reasons.phrase_drivers(drivers, features, REGISTRY)
    assert first == [
        "traded on 3 days in the last quarter against 72 in the last year",
        "traded on 3 days in the last quarter against 40 in the last year",
    ]
    assert second == ["moved 25% of assets out in 30 days", None]
