import time

import numpy as np
import pytest
import sympy

from discovery import check, discover, recognise


@pytest.mark.parametrize("value, se, constants, expected", [
    (0.10194, 1e-5, {"g": 9.81}, "1/g"),
    (9.8099, 1e-3, {"g": 9.81}, "g"),
    (0.5, 1e-12, None, "1/2"),
    (-2.0000001, 1e-6, None, "-2"),
    (6.283185307, 1e-8, None, "2*pi"),
    (0.0795775, 1e-6, None, "1/(4*pi)"),
    (1.41421356, 1e-7, None, "sqrt(2)"),
    (70.00001, 1e-4, None, "70"),
])
def test_recognises_closed_forms(value, se, constants, expected):
    form = recognise(value, se, constants)
    assert form is not None and form.expr == sympy.sympify(expected, locals={
        "g": sympy.Symbol("g", positive=True)})


def test_leaves_unremarkable_numbers_alone():
    assert recognise(0.1234567, 1e-7) is None
    assert recognise(3.3333, 1e-8) is None  # 10/3 = 3.33333..., not within 3 SE


def test_recognition_stays_within_noise(rng):
    """A rational only one SE away is accepted; the raw value 12 SE away is not replaced."""
    assert recognise(0.50001, 1e-5).expr == sympy.Rational(1, 2)
    assert recognise(0.50012, 1e-5) is None


def test_named_constant_appears_as_a_symbol_and_predicts_with_its_value(cannon):
    model = discover(cannon, target="s", constants={"g": 9.81}, device="cpu")
    assert sympy.Symbol("g", positive=True) in model.expression.free_symbols
    assert model.terms[0].closed_form == 1 / sympy.Symbol("g", positive=True)
    assert "g" not in {s.name for s in model.numeric_expression.free_symbols}


def test_without_named_constants_the_coefficient_stays_a_number(cannon):
    model = discover(cannon, target="s", device="cpu")
    assert model.terms[0].closed_form is None
    assert model.expression.atoms(sympy.Float)


def test_a_constant_named_like_an_input_is_refused(cannon):
    from discovery import FitError

    with pytest.raises(FitError, match="also input columns"):
        discover(cannon, target="s", constants={"v": 1.0})


@pytest.mark.parametrize("simplify", [True, False])
def test_a_transformed_fit_with_a_named_constant_is_scored_with_its_value(simplify):
    rng = np.random.default_rng(1)
    x, z = rng.uniform(1, 5, (2, 400))
    started = time.perf_counter()
    # sqrt: 1/(x/g + z) is now also found as a rational law, by another route.
    model = discover({"x": x, "z": z, "y": np.sqrt(x / 9.81 + z)}, target="y",
                     constants={"g": 9.81}, simplify=simplify, device="cpu")
    wall = time.perf_counter() - started
    assert model.metrics.get("strategy") == "fit of y**2, inverted"
    assert "g" in str(model.expression) and model.metrics["r2"] > 1 - 1e-9
    assert check(model, "sqrt(x/g + z)", constants={"g": 9.81}).symbolic
    assert model.info["timings"]["total"] <= wall  # the reported total covers every route
    assert model.info["timings"]["total"] > 0.5 * wall
