"""Shared fixtures."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
import torch

from discovery import cannon_data

if os.environ.get("PYTEST_XDIST_WORKER"):
    # One thread a worker under pytest-xdist (`make test` runs one worker a core):
    # OpenMP threads of two workers spinning against each other slow small torch
    # operations many times over.
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def cannon() -> pd.DataFrame:
    """The study's data: 1000 shots, noise sd 0.01, seed 0."""
    return cannon_data(n=1000, random_state=0)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)
