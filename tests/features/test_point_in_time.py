"""Point in time: rows dated after T never change a feature at T (hypothesis).

Labels likewise: rows dated after T + H never change churn, rows after T + V never change value.
Frames are compared value for value, nulls and categories exactly and floats to a relative
1e-12: DuckDB sums doubles in parallel, so a sum over the same rows laid out differently in
the file can differ in its last bit.
"""

from __future__ import annotations

import tempfile
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.features.conftest import GENERATED_END, GENERATED_START, write_tables
from valuemodel.data.reader import open_data
from valuemodel.data.schema import TABLES
from valuemodel.features import build_features, build_labels
from valuemodel.features.config import FeatureConfig

T = date(2025, 3, 31)
H, V = 30, 60
END = date.fromisoformat(GENERATED_END)
SETTINGS = settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

mutations = st.fixed_dictionaries(
    {
        "table": st.sampled_from(sorted(TABLES)),
        "op": st.sampled_from(["add", "change", "delete"]),
        "share": st.floats(0.05, 1.0),
        "seed": st.integers(0, 2**16),
    }
)
# Each example changes up to four tables at once (a leak from any of them changes the frame;
# hypothesis shrinks a failure to the one mutation that leaks): as many table mutations as
# one table an example, in fewer feature builds, which are what a case costs (about 3 s each,
# nearly all of it Ibis compiling the feature plan).
mutation_sets = st.lists(mutations, min_size=1, max_size=4, unique_by=lambda m: m["table"])


@pytest.fixture(scope="module")
def tables():
    generate = pytest.importorskip("valuemodel.data.generate")
    return generate.generate_brokerage(40, start=GENERATED_START, end=GENERATED_END, seed=11)


def mutate(tables: dict, m: dict, after: date) -> dict:
    """Add, change or delete a random share of the rows of one table dated after ``after``."""
    rng = np.random.default_rng(m["seed"])
    out = dict(tables)
    df = tables[m["table"]].copy()
    col = TABLES[m["table"]].date_column
    dates = pd.to_datetime(df[col])
    later = (dates > pd.Timestamp(after)).to_numpy()
    n_days = max((END - after).days, 1)

    def future(k: int) -> pd.Series:
        offsets = pd.to_timedelta(rng.integers(1, n_days + 1, k), "D")
        return pd.Series(pd.Timestamp(after) + offsets)

    if m["op"] == "add":
        pick = df.sample(max(1, int(m["share"] * 20)), replace=True, random_state=m["seed"])
        pick = pick.reset_index(drop=True)
        pick[col] = future(len(pick)).astype(df[col].dtype)
        if m["table"] == "accounts":
            pick["account_id"] = [f"NEW{i}" for i in range(len(pick))]
            pick["close_date"] = pd.NaT
        df = pd.concat([df, pick], ignore_index=True)
    elif m["op"] == "delete":
        drop = later & (rng.random(len(df)) < m["share"])
        df = df[~drop]
    else:
        rows = np.flatnonzero(later & (rng.random(len(df)) < m["share"]))
        for c in df.columns:
            if c in ("account_id", col) or not pd.api.types.is_float_dtype(df[c]):
                continue
            df.loc[df.index[rows], c] = df[c].iloc[rows] * rng.uniform(0, 3, len(rows))
        df.loc[df.index[rows], col] = future(len(rows)).astype(df[col].dtype).to_numpy()
        if m["table"] == "accounts":  # close dates after T are future knowledge too
            closes = pd.to_datetime(df["close_date"]) > pd.Timestamp(after)
            df.loc[closes, "close_date"] = pd.NaT
    out[m["table"]] = df
    return out


def mutate_all(tables: dict, ms: list[dict], after: date) -> dict:
    for m in ms:
        tables = mutate(tables, m, after)
    return tables


def open_tables(tables: dict):
    path = Path(tempfile.mkdtemp(prefix="pit-"))
    return open_data(write_tables(path, tables))


@pytest.fixture(scope="module")
def base(tables):
    data = open_tables(tables)
    return build_features(data, T), build_labels(data, T, H, V, end=END)


@pytest.mark.slow
@SETTINGS
@given(ms=mutation_sets)
def test_rows_after_t_never_change_a_feature_at_t(tables, base, ms):
    changed = build_features(open_tables(mutate_all(tables, ms, T)), T)
    pd.testing.assert_frame_equal(changed, base[0], check_exact=False, rtol=1e-9, atol=0)


@settings(SETTINGS, max_examples=8)
@given(ms=mutation_sets, which=st.sampled_from(["churn", "value"]))
def test_rows_after_the_label_window_never_change_the_label(tables, base, ms, which):
    after = T + timedelta(days=H if which == "churn" else V)
    labels = build_labels(open_tables(mutate_all(tables, ms, after)), T, H, V, end=END)
    pd.testing.assert_series_equal(
        labels[which], base[1][which], check_exact=False, rtol=1e-9, atol=0
    )


HOLIDAY_DATES = [date(2025, 3, 30), date(2025, 5, 4)]  # a Sunday; a Sunday of Labour Day week
SESSION_FEATURES = FeatureConfig(families=("recency", "frequency"))


@pytest.fixture(scope="module")
def holiday_base(tables):
    frame = build_features(open_tables(tables), HOLIDAY_DATES, SESSION_FEATURES)
    assert {"trading_days_since_last_login", "trades_5td", "login_days_10td"} <= set(frame)
    return frame


@settings(SETTINGS, max_examples=6)
@given(ms=mutation_sets)
def test_rows_after_a_weekend_or_holiday_never_change_a_trading_day_feature(
    tables, holiday_base, ms
):
    # the sessions right after T (the Monday, the first session after the holiday) are in
    # the mutated rows; the session numbers come from the calendar, not the data
    for t in HOLIDAY_DATES:
        changed = build_features(open_tables(mutate_all(tables, ms, t)), t, SESSION_FEATURES)
        expected = holiday_base[holiday_base.as_of == pd.Timestamp(t)].reset_index(drop=True)
        pd.testing.assert_frame_equal(changed, expected, check_exact=False, rtol=1e-9, atol=0)
