from valuemodel.training.promotion import decide


def test_first_model_becomes_champion():
    d = decide("roc_auc", 0.8, None, None)
    assert d.promoted and d.alias == "champion" and "first model" in d.reason


def test_at_least_as_good_is_promoted_and_worse_is_a_challenger():
    assert decide("roc_auc", 0.8, "1", 0.8).promoted
    worse = decide("roc_auc", 0.6, "1", 0.8)
    assert not worse.promoted and worse.alias == "challenger"
    assert "0.6000 < champion v1's 0.8000" in worse.reason


def test_force_promotes_a_worse_model():
    d = decide("normalized_gini", 0.1, "2", 0.5, force=True)
    assert d.promoted and d.forced and d.reason.startswith("forced")


def test_a_champion_that_cannot_score_the_new_data_is_replaced():
    d = decide("roc_auc", 0.7, "4", None, champion_error="missing feature column(s): x")
    assert d.promoted and "cannot score" in d.reason
