"""Shared fixtures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from discovery import cannon_data


@pytest.fixture(scope="session")
def cannon() -> pd.DataFrame:
    """The study's data: 1000 shots, noise sd 0.01, seed 0."""
    return cannon_data(n=1000, random_state=0)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)
