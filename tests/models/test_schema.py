import numpy as np
import pandas as pd
import pytest

from valuemodel.errors import ModelError
from valuemodel.models.schema import FeatureSchema


@pytest.fixture
def frame():
    return pd.DataFrame(
        {
            "account_id": ["ACCT1", "ACCT2", "ACCT3", "ACCT4"],
            "as_of": pd.Timestamp("2025-01-31"),
            "trades_90d": [1.0, 2.0, np.nan, 4.0],
            "channel": pd.Series(["web", "app", None, "web"], dtype="category"),
            "risk_level": pd.Categorical(["C1", "C2", "C2", "C1"], categories=["C1", "C2", "C3"]),
        }
    )


def test_schema_keeps_names_dtypes_and_declared_category_lists(frame):
    schema = FeatureSchema.from_frame(frame)
    assert schema.feature_names == ["trades_90d", "channel", "risk_level"]
    assert schema.dtypes == {
        "trades_90d": "float64",
        "channel": "category",
        "risk_level": "category",
    }
    assert schema.categories == {"channel": ["app", "web"], "risk_level": ["C1", "C2", "C3"]}


def test_profile_is_aggregate_shares(frame):
    profile = FeatureSchema.from_frame(frame).profile
    assert profile["trades_90d"]["missing_share"] == pytest.approx(0.25)
    assert sum(profile["trades_90d"]["shares"]) == pytest.approx(0.75)
    assert profile["channel"]["shares"] == [0.25, 0.5]
    assert "ACCT" not in str(profile)  # no account ids


def test_prepare_reorders_and_encodes_with_the_training_categories(frame):
    schema = FeatureSchema.from_frame(frame)
    scoring = pd.DataFrame(
        {
            "risk_level": ["C3", "C1"],
            "channel": ["web", "phone"],  # plain strings, one unseen value
            "trades_90d": [3, 5],  # integers
            "extra": [0, 0],
        }
    )
    X = schema.prepare(scoring)
    assert list(X.columns) == schema.feature_names
    assert X["trades_90d"].dtype == np.float64
    assert list(X["channel"].cat.categories) == ["app", "web"]
    assert X["channel"].isna().tolist() == [False, True]
    assert X["risk_level"].cat.codes.tolist() == [2, 0]


def test_prepare_recodes_a_categorical_input_as_its_text_would_be(frame):
    schema = FeatureSchema.from_frame(frame)
    # categories in another order, an unseen one, a missing value, a label that is a number
    channel = pd.Categorical(["web", None, "fax", "app", "web"], categories=["fax", "web", "app"])
    risk = pd.Categorical([3, 1, 2, 1, 1], categories=[3, 2, 1])  # read as "3", "2", "1"
    scoring = pd.DataFrame({"trades_90d": 1.0, "channel": channel, "risk_level": risk})
    X = schema.prepare(scoring)
    assert X["channel"].cat.codes.tolist() == [1, -1, -1, 0, 1]  # ["app", "web"]
    assert list(X["channel"].cat.categories) == ["app", "web"]
    assert X["risk_level"].isna().all()  # "1".."3" are not among C1..C3
    as_text = schema.prepare(scoring.astype({"channel": object, "risk_level": object}))
    pd.testing.assert_frame_equal(X, as_text)


def test_prepare_names_missing_columns_and_dtype_mismatches(frame):
    schema = FeatureSchema.from_frame(frame)
    bad = pd.DataFrame({"trades_90d": ["many"], "channel": ["web"]})
    with pytest.raises(ModelError, match=r"missing feature column\(s\): risk_level") as err:
        schema.prepare(bad)
    assert "trades_90d (expected float64" in str(err.value)


def test_schema_round_trips_through_a_dict(frame):
    schema = FeatureSchema.from_frame(frame)
    assert FeatureSchema.from_dict(schema.to_dict()) == schema
    with pytest.raises(ModelError, match="malformed for column"):
        FeatureSchema.from_dict(
            {"feature_names": ["x"], "dtypes": {"x": "int8"}, "categories": {}}
        )
