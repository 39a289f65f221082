"""The public API listed in ``valuemodel.__all__`` resolves to the real functions."""

import valuemodel
from valuemodel.data import open_data
from valuemodel.features import build_features
from valuemodel.serving import score
from valuemodel.training import train


def test_every_public_name_resolves():
    for name in valuemodel.__all__:
        assert callable(getattr(valuemodel, name)), name


def test_public_names_are_the_package_functions():
    assert valuemodel.open_data is open_data
    assert valuemodel.build_features is build_features
    assert valuemodel.train is train
    assert valuemodel.score is score
