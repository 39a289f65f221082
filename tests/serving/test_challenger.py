"""The challenger judged on the control accounts: an acted-on champion list no longer
favours it."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from valuemodel.serving.challenger import judge_challenger, paired_auc_difference
from valuemodel.serving.evaluation import judge


def acted_on(seed, n=2000, control_share=0.1, contacted_share=0.1):
    """The reproduction's design: two equally good models (the true risk plus independent
    noise of one size); the champion's top 10 % (control accounts aside) contacted, which
    halves their churn; control accounts drawn at random over the whole population."""
    rng = np.random.default_rng(seed)
    risk = rng.normal(-1.5, 1.0, n)
    champion = 1 / (1 + np.exp(-(risk + rng.normal(0, 1.0, n))))
    challenger = 1 / (1 + np.exp(-(risk + rng.normal(0, 1.0, n))))
    control = rng.random(n) < control_share
    top = champion >= np.quantile(champion, 1 - contacted_share)
    p = 1 / (1 + np.exp(-risk))
    p = np.where(top & ~control, p / 2, p)
    churn = (rng.random(n) < p).astype(float)
    return pd.DataFrame(
        {
            "account_id": [f"A{i:05d}" for i in range(n)],
            "rank": pd.Series(-champion).rank(method="first").astype(int),
            "challenger_rank": pd.Series(-challenger).rank(method="first").astype(int),
            "churn_probability": champion,
            "challenger_churn_probability": challenger,
            "clv": 100.0,
            "challenger_clv": 100.0,
            "control": control,
            "churn": churn,
            "value": np.nan,
        }
    )


def test_over_20_seeds_the_challenger_is_ahead_no_more_often_than_chance_allows():
    on_control = on_everyone = 0
    for seed in range(20):
        table = acted_on(seed)
        judged = judge_challenger(table, False, judge)
        assert judged["basis"] == "control"
        assert judged["n"] == int(table["control"].sum())
        on_control += judged["challenger"]["roc_auc"] > judged["champion"]["roc_auc"]
        y = table["churn"]  # today's basis before the fix: every account
        on_everyone += roc_auc_score(y, table["challenger_churn_probability"]) > roc_auc_score(
            y, table["churn_probability"]
        )
    print(f"challenger ahead in {on_control}/20 on control, {on_everyone}/20 on every account")
    # the bias is planted (judged on every account, the challenger wins almost always) ...
    assert on_everyone >= 16
    # ... and judged on the control accounts it is gone: P(X >= 15 | Bin(20, 1/2)) = 0.021
    assert on_control <= 14


def test_without_a_control_column_there_is_no_verdict_and_the_note_says_why():
    judged = judge_challenger(acted_on(0).drop(columns="control"), False, judge)
    assert judged["basis"] is None and judged["verdict"] is None and judged["n"] == 0
    assert judged["champion"] is None and judged["challenger"] is None
    assert "control" in judged["note"] and "flatters the challenger" in judged["note"]


def test_a_handful_of_control_accounts_is_too_few_to_conclude():
    table = acted_on(1)
    table["control"] = table.index < 20
    judged = judge_challenger(table, False, judge)
    assert judged["basis"] == "control" and judged["n"] == 20
    assert judged["verdict"].startswith("too few control accounts")


def test_the_paired_interval_of_a_clearly_better_challenger_lies_above_zero():
    rng = np.random.default_rng(3)
    y = (rng.random(600) < 0.3).astype(float)
    champion = rng.random(600)  # no skill
    challenger = y + rng.normal(0, 0.5, 600)
    diff, low, high = paired_auc_difference(y, champion, challenger, samples=300)
    assert diff == pytest.approx(roc_auc_score(y, challenger) - roc_auc_score(y, champion))
    assert 0 < low < diff < high
