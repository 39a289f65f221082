"""The stages a training run names to its progress callback."""

from __future__ import annotations

from valuemodel.training.progress import Stages


def test_a_three_parameter_callback_hears_each_stage_and_each_trial_by_name():
    heard = []
    steps = Stages(lambda done, total, stage: heard.append((done, total, stage)), 5)
    steps.begin("features")
    steps.step()
    trial = steps.trials("churn", 2, "churn: fitting")
    trial()
    trial()
    steps.step("done")
    assert heard == [
        (0, 5, "features"),
        (1, 5, "features"),
        (1, 5, "churn: trial 1/2"),
        (2, 5, "churn: trial 2/2"),
        (3, 5, "churn: fitting"),
        (4, 5, "done"),
    ]


def test_a_two_parameter_callback_hears_only_the_counted_steps():
    heard = []
    steps = Stages(lambda done, total: heard.append((done, total)), 3)
    steps.begin("features")
    steps.step()
    steps.trials("value", 0, "value: fitting")()
    steps.step()
    steps.step()
    steps.step()  # never past the total
    assert heard == [(1, 3), (2, 3), (3, 3), (3, 3)]
