"""Arguments that combine two inputs, found as symmetries of the data (issue 32)."""

import numpy as np
import pytest
import sympy

from basis_library import Variable
from discovery import check, discover
from discovery._data import Dataset
from discovery.routes.symmetry import Symmetry, power_factors, symmetries, with_symmetry


def _dataset(columns: dict[str, np.ndarray], y: np.ndarray) -> Dataset:
    return Dataset(columns=columns, y=y, inputs=list(columns), target="y", n_dropped=0,
                   source="test")


def _draw(n: int = 600, seed: int = 0, **ranges: tuple[float, float]) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {name: rng.uniform(low, high, n) for name, (low, high) in ranges.items()}


@pytest.mark.parametrize("names, law, combined", [
    ("xab", lambda c: c["x"] * np.cos(c["a"] - c["b"]), {"a_minus_b": "a - b"}),
    ("xwt", lambda c: c["x"] * np.cos(c["w"] * c["t"]), {"t_times_w": "t*w"}),
    ("xeh", lambda c: np.sin(c["e"] / c["h"]) + c["x"], {"e_over_h": "e/h"}),
    ("gwt", lambda c: np.exp(-c["g"] * c["t"]) * np.cos(c["w"] * c["t"]),
     {"g_times_t": "g*t", "t_times_w": "t*w"}),
])
def test_the_combination_a_law_depends_on_is_found_first(names, law, combined):
    every = _draw(a=(0, 3), b=(0, 3), x=(1, 2), w=(1, 3), t=(1, 3), e=(1, 5), h=(1, 5),
                  g=(0.1, 1))
    columns = {name: every[name] for name in names}
    found = symmetries(_dataset(columns, law(columns)))
    assert found, "no symmetry"
    assert {k: str(v) for k, v in found[0].combined} == combined, found[:3]


def test_a_law_without_a_symmetry_has_none():
    columns = _draw(a=(1, 3), b=(1, 3), c=(1, 3))
    y = columns["a"] ** 2 + np.sin(2 * columns["b"]) + np.exp(columns["c"])
    assert symmetries(_dataset(columns, y)) == []


def test_a_power_of_one_input_that_the_target_is_proportional_to_is_found():
    # y = x²·F(a, b): y/x² depends on a and b alone; y/x does not.
    columns = _draw(x=(1, 3), a=(0, 3), b=(0, 3))
    y = columns["x"] ** 2 * np.cos(columns["a"] * columns["b"]) + columns["x"] ** 2
    found = power_factors(_dataset(columns, y))
    assert found and found[0].replaced == ("x",), found
    assert str(found[0].prefactor) == "x**2"


def test_a_law_not_proportional_to_a_power_of_an_input_has_no_power_factor():
    columns = _draw(a=(1, 3), b=(1, 3), c=(1, 3))
    y = columns["a"] ** 2 + np.sin(2 * columns["b"]) + np.exp(columns["c"])
    assert power_factors(_dataset(columns, y)) == []


def test_the_target_is_divided_by_the_prefactor_on_the_rows_where_it_is_largest():
    columns = _draw(x=(1, 3), a=(0, 3))
    data = _dataset(columns, columns["x"] * np.cos(columns["a"]))
    smaller, _ = with_symmetry(data, {}, Symmetry(("x",), (), 0.2, sympy.Symbol("x")))
    assert smaller.inputs == ["a"] and smaller.n == 300
    assert np.allclose(smaller.y, np.cos(smaller.columns["a"]))


def test_the_pair_is_replaced_by_its_combination_keeping_each_role():
    columns = _draw(x=(1, 3), omega=(1, 5), t=(1, 5), alpha=(1, 3))
    data = _dataset(columns, columns["x"])
    omega, t = sympy.symbols("omega t")
    symmetry = Symmetry(("omega", "t"), (("omega_times_t", omega * t),), 0.3)
    smaller, hints = with_symmetry(data, {}, symmetry)
    assert smaller.inputs == ["x", "omega_times_t", "alpha"]
    assert np.allclose(smaller.columns["omega_times_t"], columns["omega"] * columns["t"])
    # A product is offered as an angle (ωt); x keeps the role it has among four inputs
    # (not an angle), alpha its name's.
    assert hints["omega_times_t"].angle is True and hints["omega_times_t"].positive
    assert hints["x"].angle is False and hints["alpha"].angle is True


def test_a_hint_is_kept():
    columns = _draw(a=(0, 3), b=(0, 3), x=(1, 2))
    data = _dataset(columns, columns["x"])
    a, b = sympy.symbols("a b")
    _, hints = with_symmetry(data, {"x": Variable("x", positive=True)},
                             Symmetry(("a", "b"), (("a_minus_b", a - b),), 0.3))
    assert hints["x"].positive and hints["a_minus_b"].angle is True


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


@pytest.mark.slow
def test_a_damped_oscillation_of_three_columns_is_found_without_units():
    # exp(−γt)·cos(ωt): the scaling (γ, ω, t) → (γ/λ, ω/λ, λt) leaves it unchanged, so
    # γt and ωt replace the three inputs, and the product of the factors is one term.
    columns = _draw(n=500, gamma=(0.1, 1), omega=(1, 3), t=(0, 5))
    y = np.exp(-columns["gamma"] * columns["t"]) * np.cos(columns["omega"] * columns["t"])
    model = discover({**columns, "y": y}, target="y", n_bootstrap=0)
    assert check(model.expression, "exp(-gamma*t)*cos(omega*t)").symbolic, model.expression
    assert model.verdict.status == "law"


@pytest.mark.slow
def test_a_prefactor_found_without_units_leaves_a_law_of_the_others():
    # Feynman I.30.3: I₀·sin²(nθ/2)/sin²(θ/2), found with units by dividing by I₀ (its
    # unit is y's); without them, y/I₀ depending on n and θ alone says the same.
    columns = {name: v for name, v in zip(("Int_0", "theta", "n"),
                                          np.random.default_rng(0).uniform(1, 5, (3, 1000)))}
    y = columns["Int_0"] * np.sin(columns["n"] * columns["theta"] / 2) ** 2 \
        / np.sin(columns["theta"] / 2) ** 2
    model = discover({**columns, "y": y}, target="y", n_bootstrap=0)
    assert check(model.expression, "Int_0*sin(n*theta/2)**2/sin(theta/2)**2").symbolic, \
        model.expression


def test_a_restated_law_has_one_symbol_a_name():
    """A nested search may name an input with other assumptions than the table's
    (III.9.52 with units: two symbols pi3 reached the compiler)."""
    from discovery.routes.dimensional import restate

    a_real, a_positive, b = sympy.Symbol("a", real=True), sympy.Symbol("a", positive=True), \
        sympy.Symbol("b")
    data = Dataset(columns={"a": np.ones(4), "b": np.ones(4)}, inputs=["a", "b"],
                   y=np.ones(4), target="y", n_dropped=0, source="test")
    seen = []

    class Refitted:
        metrics: dict = {}

        def updated(self, **_):
            return self

    found = Refitted()
    found.expression = a_real * sympy.Symbol("u")
    restate(found, {"u": a_positive + b}, data, lambda expr, _: seen.append(expr) or found)
    assert sorted(s.name for s in seen[0].free_symbols) == ["a", "b"]


def _polished(expr: str, data: Dataset):
    import time

    import torch

    from discovery.backends.genetic import polish_model
    from discovery.routes.library import Settings

    settings = Settings("auto", "bic", 12, 5, {}, False, torch.device("cpu"), 0)
    return polish_model(sympy.sympify(expr), data, settings, method="sparse", front=[],
                        info={}, started=time.perf_counter())


@pytest.mark.parametrize("gain, simpler", [(1.0, True), (10.0, False)])
def test_of_two_laws_within_2_of_bic_the_simpler_is_kept(gain, simpler):
    """Occam's window (Kass & Raftery 1995): a third term that buys the BIC less than 2
    is a term of noise as likely as not, and the two-term law is stated."""
    import math

    from discovery.routes.base import route_bic
    from discovery.routes.dimensional import lower_bic
    from discovery.stats.criteria import exact_floor, log_comb

    columns = _draw(n=400, a=(1, 2), b=(1, 2))
    y = columns["a"] + columns["b"] + 0.1 * columns["a"] * columns["b"] ** 2 \
        + np.random.default_rng(1).normal(0, 0.01, 400)
    data = _dataset(columns, y)
    short = _polished("a + b", data)
    long = _polished("a + b + a*b**2", data)
    assert len(long.terms) == 3
    floor = exact_floor(data.y, per_row=True)
    bic = route_bic(short, data.n, 0, floor, log_comb(50, 2))
    # The long law's error set so that its BIC is lower than the short one's by `gain`.
    charge = route_bic(long, data.n, 0, floor, log_comb(50, 3)) \
        - data.n * math.log(float(long.metrics["mse"]))
    long = long.updated(metrics={"mse": math.exp((bic - gain - charge) / data.n)})
    kept = lower_bic(short, long, data, 50)
    assert (kept is short) == simpler
    assert (lower_bic(long, short, data, 50) is short) == simpler
