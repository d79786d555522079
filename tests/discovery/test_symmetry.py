"""Arguments that combine two inputs, found as symmetries of the data (issue 32)."""

import numpy as np
import pytest

from basis_library import Variable
from discovery import check, discover
from discovery._data import Dataset
from discovery.routes.symmetry import Symmetry, symmetries, with_symmetry


def _dataset(columns: dict[str, np.ndarray], y: np.ndarray) -> Dataset:
    return Dataset(columns=columns, y=y, inputs=list(columns), target="y", n_dropped=0,
                   source="test")


def _draw(n: int = 600, seed: int = 0, **ranges: tuple[float, float]) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {name: rng.uniform(low, high, n) for name, (low, high) in ranges.items()}


@pytest.mark.parametrize("names, law, pair", [
    ("xab", lambda c: c["x"] * np.cos(c["a"] - c["b"]), ("a", "b", "-")),
    ("xwt", lambda c: c["x"] * np.cos(c["w"] * c["t"]), ("w", "t", "*")),
    ("xeh", lambda c: np.sin(c["e"] / c["h"]) + c["x"], ("e", "h", "/")),
])
def test_the_combination_a_law_depends_on_is_found_first(names, law, pair):
    every = _draw(a=(0, 3), b=(0, 3), x=(1, 2), w=(1, 3), t=(1, 3), e=(1, 5), h=(1, 5))
    columns = {name: every[name] for name in names}
    y = law(columns)
    found = symmetries(_dataset(columns, y))
    assert found and (found[0].a, found[0].b, found[0].op) == pair, found[:3]


def test_a_law_without_a_symmetry_has_none():
    columns = _draw(a=(1, 3), b=(1, 3), c=(1, 3))
    y = columns["a"] ** 2 + np.sin(2 * columns["b"]) + np.exp(columns["c"])
    assert symmetries(_dataset(columns, y)) == []


def test_the_pair_is_replaced_by_its_combination_keeping_each_role():
    columns = _draw(x=(1, 3), omega=(1, 5), t=(1, 5), alpha=(1, 3))
    data = _dataset(columns, columns["x"])
    smaller, hints, name = with_symmetry(data, {}, Symmetry("omega", "t", "*", 0.3))
    assert smaller.inputs == ["x", name, "alpha"] and name == "omega_times_t"
    assert np.allclose(smaller.columns[name], columns["omega"] * columns["t"])
    # A product is offered as an angle (ωt); x keeps the role it has among four inputs
    # (not an angle), alpha its name's.
    assert hints[name].angle is True and hints[name].positive
    assert hints["x"].angle is False and hints["alpha"].angle is True
    assert str(Symmetry("omega", "t", "*", 0.3).expr()) == "omega*t"


def test_a_hint_is_kept():
    columns = _draw(a=(0, 3), b=(0, 3), x=(1, 2))
    data = _dataset(columns, columns["x"])
    _, hints, name = with_symmetry(data, {"x": Variable("x", positive=True)},
                                   Symmetry("a", "b", "-", 0.3))
    assert hints["x"].positive and name == "a_minus_b" and hints[name].angle is True


@pytest.mark.slow
def test_a_wave_in_a_product_of_inputs_is_found_without_units():
    # Feynman I.50.26: x1·(cos(ωt) + α·cos²(ωt)), out of reach of functions of one input.
    columns = _draw(n=1000, x1=(1, 3), omega=(1, 3), t=(1, 3), alpha=(1, 3))
    c = np.cos(columns["omega"] * columns["t"])
    y = columns["x1"] * (c + columns["alpha"] * c**2)
    model = discover({**columns, "y": y}, target="y", n_bootstrap=0)
    assert check(model.expression, "x1*(cos(omega*t) + alpha*cos(omega*t)**2)").symbolic, \
        model.expression
    assert model.verdict.status == "law"
