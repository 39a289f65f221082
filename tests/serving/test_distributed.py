"""The driver-side arithmetic of scoring on Spark's executors (the Spark runs themselves are
in tests/test_cli.py's cluster test)."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from valuemodel.serving.config import Cutoff, TierConfig
from valuemodel.serving.distributed import _interpolated, expected_from_histogram, why_not
from valuemodel.serving.estimation import expected_performance, top_sizes
from valuemodel.serving.tiers import resolve_cutoff


def test_the_expected_performance_from_the_histogram_equals_the_one_from_every_row():
    rng = np.random.default_rng(3)
    p = np.round(rng.beta(0.5, 8, size=5_000), 3)  # many ties, as rounded probabilities have
    ranked = np.sort(p)[::-1]
    values, counts = np.unique(p, return_counts=True)
    cumulative = np.cumsum(ranked)
    parts = {
        "n": len(p),
        "churners": float(p.sum()),
        "histogram": pd.DataFrame({"churn_probability": values, "count": counts}),
        "top": {str(k): float(cumulative[k - 1]) for k in top_sizes(len(p))},
    }
    assert expected_from_histogram(parts) == expected_performance(ranked)  # both rounded


@pytest.mark.parametrize("share", [0.0, 0.25, 0.5, 0.7, 0.75, 0.9, 1.0])
@pytest.mark.parametrize("n", [1, 2, 7, 100, 101])
def test_the_cut_off_from_two_order_statistics_splits_the_rows_as_numpy_does(share, n):
    x = np.round(np.random.default_rng(n).lognormal(size=n) * 1000, 2)
    k = int(np.floor(share * (n - 1)))
    ordered = np.sort(x)
    cut = _interpolated({k: ordered[k], min(k + 1, n - 1): ordered[min(k + 1, n - 1)]}, share, n)
    expected = resolve_cutoff(x, Cutoff(percentile=share))
    assert cut == pytest.approx(expected, rel=1e-12)
    assert np.array_equal(x > cut, x > expected)


def test_runs_that_need_the_driver_say_why():
    spark = SimpleNamespace(con=SimpleNamespace(name="pyspark"))
    config = TierConfig()
    assert why_not(spark, {"share": 0.0}, None, None, ".csv", config) == ""
    assert why_not(spark, {"share": 0.1}, None, 100, ".xlsx", config) == (
        "--top, --control-share, an Excel list"
    )
    duck = SimpleNamespace(con=SimpleNamespace(name="duckdb"))
    assert why_not(duck, {"share": 0.0}, None, None, ".csv", config) == "not a Spark connection"
