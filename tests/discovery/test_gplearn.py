"""gplearn behind the same Model: translation of its programs, the time limit, errors."""

import importlib.util
from types import SimpleNamespace

import numpy as np
import pytest
import sympy

from discovery import FitError, discover
from discovery.backends.gplearn import program_to_sympy

needs_gplearn = pytest.mark.skipif(importlib.util.find_spec("gplearn") is None,
                                   reason="gplearn is not installed (extra 'gplearn')")


def _f(name, arity):
    return SimpleNamespace(name=name, arity=arity)


def test_programs_translate_with_gplearns_protected_operators_unguarded():
    x, y = sympy.symbols("x y")
    program = [_f("add", 2), _f("sqrt", 1), 0, _f("div", 2), _f("log", 1), 1, 2.5]
    assert program_to_sympy(program, [x, y]) == sympy.sqrt(sympy.Abs(x)) + sympy.log(
        sympy.Abs(y)) / 2.5


def test_an_unknown_function_or_a_malformed_program_is_an_error():
    x = sympy.Symbol("x")
    with pytest.raises(FitError, match="no translation"):
        program_to_sympy([_f("sigmoid", 1), 0], [x])
    with pytest.raises(FitError, match="trailing"):
        program_to_sympy([0, 1], [x])


@needs_gplearn
def test_gplearns_model_predicts_what_gplearn_predicted():
    rng = np.random.default_rng(0)
    x, z = rng.uniform(1, 5, (2, 300))
    y = x * z + np.sin(x)
    model = discover({"x": x, "z": z, "y": y}, target="y", method="gplearn", time_limit=3,
                     polish=False, random_state=2, device="cpu")
    assert model.method == "gplearn" and model.info["backend"] == "gplearn"
    # The time limit, not the generation cap, ended the search.
    assert 1 <= model.info["generations"] < 10_000
    gplearn_mse = model.pareto["error"].iloc[0]  # from gplearn's own predict()
    np.testing.assert_allclose(model.metrics["mse"], gplearn_mse, rtol=1e-6, atol=1e-12)


@needs_gplearn
def test_gplearn_with_polish_finds_a_product():
    rng = np.random.default_rng(0)
    x, z = rng.uniform(1, 5, (2, 300))
    model = discover({"x": x, "z": z, "y": x * z + 1}, target="y", method="gplearn",
                     time_limit=120, backend_options={"generations": 6}, random_state=0,
                     device="cpu")  # a generation budget, so the run is reproducible
    assert model.info["generations"] == 6
    assert model.metrics["r2"] > 0.999
    assert str(model.expression) == "x*z + 1"


@needs_gplearn
def test_gplearn_rejects_an_evaluation_budget_and_bad_options():
    data = {"x": np.arange(1.0, 20.0), "y": np.arange(1.0, 20.0) * 2}
    with pytest.raises(FitError, match="max_evaluations"):
        discover(data, target="y", method="gplearn", max_evaluations=10)
    with pytest.raises(FitError, match="does not take"):
        discover(data, target="y", method="gplearn", time_limit=1,
                 backend_options={"no_such_option": 1})
