"""parts.ranked: ranks by counting keys and joining back (no window over the wide table)."""

from __future__ import annotations

from datetime import date

import ibis
import pyarrow as pa

from valuemodel import engine
from valuemodel.features.parts import Rank, ranked


def test_ranks_count_smaller_keys_within_the_date_and_group_ties_share_the_lowest():
    d1, d2 = date(2025, 1, 31), date(2025, 2, 28)
    t = ibis.memtable(
        pa.table(
            {
                "account_id": ["a", "b", "c", "d", "e", "f", "g"],
                "as_of": [d1, d1, d1, d1, d1, d1, d2],
                "group": ["x", "x", "x", "x", "y", "x", "x"],
                "key": pa.array([5.0, 5.0, 1.0, None, 9.0, 7.0, 0.0]),
            }
        )
    )
    ranks = {
        "below": Rank(t.key, lambda below, size: below.cast("float64"), [t.group]),
        "size": Rank(t.key, lambda below, size: size.cast("float64"), [t.group]),
        "overall": Rank(t.key, lambda below, size: below.cast("float64")),
    }
    out = engine.execute(ranked(t, ranks)).set_index("account_id").sort_index()
    # group x on d1: keys 1, 5, 5, 7 (d has none): c=0, a=b=1 (tie), f=3
    assert out.below.fillna(-1).to_dict() == {
        "a": 1.0,
        "b": 1.0,
        "c": 0.0,
        "d": -1.0,
        "e": 0.0,
        "f": 3.0,
        "g": 0.0,
    }
    assert out["size"].fillna(-1).to_dict() == {
        "a": 4.0,
        "b": 4.0,
        "c": 4.0,
        "d": -1.0,
        "e": 1.0,
        "f": 4.0,
        "g": 1.0,
    }
    # without groups e (9.0) is above all five keys of d1
    assert out.overall.fillna(-1).to_dict() == {
        "a": 1.0,
        "b": 1.0,
        "c": 0.0,
        "d": -1.0,
        "e": 4.0,
        "f": 3.0,
        "g": 0.0,
    }
    assert list(out.columns) == ["as_of", "group", "key", "below", "size", "overall"]
