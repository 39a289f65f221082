"""Session fixtures: the small models are trained once."""

import pytest

from .fakes import Models, train_models


@pytest.fixture(scope="session")
def models() -> Models:
    return train_models()
