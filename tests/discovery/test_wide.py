"""Wide data: inputs screened before the library is built; generators that know their size."""

import time

import numpy as np
import pandas as pd
import pytest

from basis_library import LibraryError, monomials
from basis_library.generators import monomial_count
from discovery import discover
from discovery.bigdata.screen import screen_inputs


def _wide(d: int, n: int, seed: int = 0) -> tuple[dict, np.random.Generator]:
    rng = np.random.default_rng(seed)
    return {f"x{i}": rng.uniform(1, 5, n) for i in range(1, d + 1)}, rng


@pytest.mark.slow
def test_a_law_of_three_among_thirty_inputs():
    X, rng = _wide(30, 1000)
    y = X["x3"] * X["x7"] / X["x12"]
    y = y + rng.normal(0, 0.01 * np.sqrt(np.mean(y**2)), y.size)
    frame = pd.DataFrame({**X, "y": y})
    model = discover(frame, target="y")
    assert str(model.expression) == "x3*x7/x12"
    assert model.verdict["status"] == "law"
    # The three, and perhaps one more let in by chance (1% a screening step).
    kept = model.metrics["screening"]["kept"]
    assert {"x3", "x7", "x12"} <= set(kept) and len(kept) <= 4
    # The model takes every input it was given, as fitted.
    assert model.inputs == tuple(X)
    assert np.allclose(model.predict(frame.drop(columns="y")), X["x3"] * X["x7"] / X["x12"])


def test_an_interaction_without_marginal_effects_is_found_through_pairs():
    rng = np.random.default_rng(1)
    X = {f"x{i}": rng.normal(size=2000) for i in range(15)}
    y = X["x4"] * X["x11"]  # E[y | x4] = E[y | x11] = 0: no marginal signal at all
    found = screen_inputs(X, list(X), y, 0)
    assert found.kept == ["x4", "x11"] and found.pairs == ["x4·x11"]


def test_pure_noise_among_many_inputs_has_no_law():
    X, rng = _wide(15, 600, seed=2)
    model = discover(pd.DataFrame({**X, "y": rng.normal(size=600)}), target="y", n_bootstrap=0)
    assert model.verdict["status"] == "none"
    assert len(model.metrics["screening"]["kept"]) <= 2


def test_generators_know_their_size_before_they_build():
    assert monomial_count(30, 4) == 46376
    started = time.perf_counter()
    with pytest.raises(LibraryError, match="100 inputs up to degree 3 would be 176,851 terms"):
        monomials([f"x{i}" for i in range(100)], 3)
    assert len(monomials([f"x{i}" for i in range(30)], 1)) == 31
    with pytest.raises(LibraryError, match="would be 1,000,000 terms"):
        monomials(["x"], 999) * monomials(["y"], 999)
    assert time.perf_counter() - started < 5  # was: over 20 minutes in itertools.product
