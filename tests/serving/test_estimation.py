import itertools
import math

import numpy as np
import pytest

from valuemodel.serving.estimation import expected_performance, expected_roc_auc, top_sizes


def brute_force_expected_auc(p, s):
    """sum_{i != j} p_i (1 - p_j) [s_i > s_j] (half on ties) / sum_{i != j} p_i (1 - p_j)."""
    num = den = 0.0
    for i, j in itertools.permutations(range(len(p)), 2):
        w = p[i] * (1 - p[j])
        den += w
        num += w * (1.0 if s[i] > s[j] else 0.5 if s[i] == s[j] else 0.0)
    return num / den


def test_expected_auc_of_three_accounts_matches_the_hand_computed_value():
    # pairs (i churns, j does not) ranked right: 0.8*0.5 + 0.8*0.9 + 0.5*0.9 = 1.57;
    # all pairs add 0.5*0.2 + 0.1*0.2 + 0.1*0.5 = 0.17, so 1.57 / 1.74
    assert expected_roc_auc([0.8, 0.5, 0.1]) == pytest.approx(1.57 / 1.74, abs=1e-12)


def test_equal_scores_count_half():
    assert expected_roc_auc([0.5, 0.5]) == pytest.approx(0.5)
    assert expected_roc_auc([0.9, 0.1], score=[1.0, 1.0]) == pytest.approx(0.5)


def test_a_reversed_score_gives_the_complement():
    p = [0.9, 0.6, 0.3, 0.05]
    forward = expected_roc_auc(p)
    backward = expected_roc_auc(p, score=[-x for x in p])
    assert forward + backward == pytest.approx(1.0)


def test_the_sorted_computation_equals_the_pairwise_definition_with_ties():
    rng = np.random.default_rng(3)
    p = rng.uniform(0, 1, 60)
    s = np.round(rng.uniform(0, 1, 60), 1)  # many ties
    assert expected_roc_auc(p, s) == pytest.approx(brute_force_expected_auc(p, s), abs=1e-12)


def test_certain_outcomes_leave_the_auc_undefined():
    assert math.isnan(expected_roc_auc([0.0, 0.0, 0.0]))
    assert math.isnan(expected_roc_auc([0.3]))


def test_expected_churners_in_the_top_k_sum_the_probabilities_in_rank_order():
    p = np.array([0.5] * 10 + [0.1] * 10)
    out = expected_performance(p)
    assert out["churners"] == pytest.approx(6.0)
    assert out["top"] == {"1": 0.5, "2": 1.0, "4": 2.0, "10": 5.0}
    assert out["accounts"] == 20 and 0.5 < out["roc_auc"] < 1


def test_top_sizes_are_distinct_and_within_the_list():
    assert top_sizes(0) == []
    assert top_sizes(3) == [1, 2]
    assert top_sizes(1000) == [50, 100, 200, 500]
