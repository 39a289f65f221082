"""An account sample drawn by the engine: the same accounts as in Python, whole accounts, and
each kept account's features exactly those of a full build."""

from __future__ import annotations

import ibis
import pandas as pd
import pytest

from valuemodel import engine
from valuemodel.data.reader import open_data
from valuemodel.features import build_features
from valuemodel.features.sample import AccountSample, sample_for

DATES = ["2025-03-31", "2025-06-30"]


def test_the_engine_keeps_the_accounts_python_keeps():
    ids = [f"A{i:05d}" for i in range(2000)] + ["客户-7", "", "x" * 40]
    sample = AccountSample(0.3, seed=7)
    table = ibis.memtable({"account_id": ids})
    kept = engine.execute(sample.filter(table))["account_id"]
    assert sorted(kept) == sorted(i for i in ids if sample.kept(i))
    assert 0.26 < len(kept) / len(ids) < 0.34  # a share, not an exact count


def test_another_seed_draws_other_accounts_and_a_larger_share_keeps_more():
    ids = [f"A{i:05d}" for i in range(2000)]
    a, b = AccountSample(0.3, seed=7), AccountSample(0.3, seed=8)
    overlap = sum(a.kept(i) and b.kept(i) for i in ids) / sum(a.kept(i) for i in ids)
    assert 0.2 < overlap < 0.4  # independent draws share about 30 % of their accounts
    # the same seed and a larger share keeps a superset: more data never drops an account
    assert all(AccountSample(0.6, seed=7).kept(i) for i in ids if a.kept(i))


def test_a_sample_keeps_whole_accounts_with_the_values_of_the_full_build(
    generated_dir, full_features
):
    sample = AccountSample(0.5, seed=3)
    sampled = build_features(open_data(generated_dir), DATES, sample=sample)
    wanted = full_features[full_features["account_id"].map(sample.kept)].reset_index(drop=True)
    assert 0 < len(sampled) < len(full_features)
    # ranks and quintiles among the whole population, not among the sample; the category
    # lists read off the data (branch, channel) are the values the kept accounts have
    pd.testing.assert_frame_equal(sampled, wanted, check_categorical=False)


@pytest.mark.parametrize(
    ("rows", "cap", "share"), [(100, 100, None), (99, 100, None), (400, 100, 0.25)]
)
def test_a_sample_is_drawn_only_above_the_cap(rows, cap, share):
    sample = sample_for(rows, cap, seed=7)
    assert (sample and sample.share) == share


@pytest.mark.parametrize("share", [0.0, 1.0, -0.1, 1.5])
def test_a_share_outside_zero_to_one_is_refused(share):
    with pytest.raises(ValueError, match="share must be in"):
        AccountSample(share, seed=7)
