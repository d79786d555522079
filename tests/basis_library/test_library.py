import numpy as np
import pytest
import sympy
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from basis_library import (
    Library,
    LibraryError,
    ParseError,
    Variable,
    auto_library,
    constant,
    custom,
    fourier,
    monomials,
    parse_basis,
    unary,
)

HAND_PICKED = ["v", "v**2", "v*sin(theta)", "v*sin(2*theta)", "v**2*sin(theta)",
               "v**2*sin(2*theta)"]


def test_auto_library_for_the_cannon_holds_the_studys_terms(cannon):
    library = auto_library({"v": cannon.v.to_numpy(), "theta": cannon.theta.to_numpy()})
    assert len(library) >= 100
    for term in HAND_PICKED:
        assert term in library, term


def test_monomials_count_and_negative_and_fractional_powers():
    assert len(monomials(["x", "y", "z"], 3)) == 20  # C(3 + 3, 3)
    names = monomials(["x"], 2, negative=True, fractional=["1/2", "1/3"]).names
    assert {"x**(-2)", "1/x", "sqrt(x)", "x**(1/3)", "x**(-1/3)"} <= set(names)
    with pytest.raises(LibraryError, match="degree must be a non-negative integer"):
        monomials(["x"], -1)
    with pytest.raises(LibraryError, match="Unknown fractional power"):
        monomials(["x"], 1, fractional=["1/7"])


def test_composition_is_union_and_pairwise_product():
    a, b = monomials(["v"], 2), constant() + fourier(["theta"], 2)
    assert len(a * b) == 3 * 5
    assert len(a + a) == len(a)
    assert "v**2*sin(2*theta)" in (a * b).names


def test_unary_maps_of_variables_and_of_libraries():
    assert unary(["x"], ["exp", "log", "sqrt", "inv"]).names == ["exp(x)", "log(x)", "sqrt(x)",
                                                                   "1/x"]
    assert "exp(x*y)" in unary(monomials(["x", "y"], 2), ["exp"]).names
    with pytest.raises(LibraryError, match="Unknown unary map"):
        unary(["x"], ["expp"])


def test_custom_terms_from_strings_are_parsed_safely():
    assert custom("exp(-x/y)").names == ["exp(-x/y)"]
    with pytest.raises(ParseError):
        custom("__import__('os').system('ls')")


def test_identical_terms_appear_once_and_numeric_factors_are_dropped():
    library = custom("2*x", "x", "x*1", "-x")
    assert library.names == ["x"]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from(["x", "y", "x*y", "x**2", "sin(x)", "2*x", "exp(y)", "1"]),
                min_size=1, max_size=8),
       st.integers(0, 3))
def test_a_library_never_holds_two_identical_terms(terms, degree):
    library = custom(*terms) * monomials(["x", "y"], degree) + custom(*terms)
    assert len(set(library.terms)) == len(library)


def test_nonfinite_terms_are_dropped_with_a_warning_naming_them():
    x = np.linspace(-1, 1, 21)
    library = custom("x", "log(x)", "1/x")
    with pytest.warns(RuntimeWarning, match=r"log\(x\)"):
        design = library.evaluate({"x": x}, device="cpu")
    assert design.names == ["x"]
    assert {name for name, _ in design.dropped} == {"log(x)", "1/x"}


def test_collinear_columns_are_reported_keeping_the_simpler_term():
    rng = np.random.default_rng(0)
    data = {"theta": rng.uniform(0, 1.5, 200), "v": rng.uniform(0, 10, 200)}
    library = custom("sin(theta)*cos(theta)", "sin(2*theta)", "v")
    design = library.evaluate(data, device="cpu")
    assert design.names == ["sin(2*theta)", "v"]
    assert design.collinear == [("sin(2*theta)", "sin(theta)*cos(theta)")]


def test_evaluation_is_float64_and_matches_numpy():
    rng = np.random.default_rng(1)
    data = {"v": rng.uniform(0, 10, 50), "theta": rng.uniform(0, 1.5, 50)}
    design = custom("v**2*sin(2*theta)", "sqrt(v)").evaluate(data, device="cpu")
    assert design.matrix.dtype == torch.float64
    expected = data["v"] ** 2 * np.sin(2 * data["theta"])
    # rtol=1e-12: the same float64 arithmetic in a different order.
    np.testing.assert_allclose(design.matrix[:, 0].numpy(), expected, rtol=1e-12)


def test_missing_columns_are_named():
    with pytest.raises(LibraryError, match="uses theta, which the data does not have"):
        custom("v*theta").evaluate({"v": np.ones(3)}, device="cpu")


def test_variable_hints_become_assumptions():
    v = Variable("v", positive=True).symbol
    assert sympy.sqrt(v**2) == v
    with pytest.raises(LibraryError, match="identifier"):
        Variable("not a name")


def test_basis_spec_language():
    data = {"v": np.ones(3), "theta": np.ones(3)}
    library = parse_basis("poly(v, theta, degree=2) * (1 + fourier(theta, 2)) + custom('exp(-v)')",
                          data, ["v", "theta"])
    assert len(library) == 6 * 5 + 1
    with pytest.raises(ParseError, match="did you mean 'fourier'"):
        parse_basis("fourir(theta, 2)", data, ["v", "theta"])
    with pytest.raises(ParseError, match="unknown variable"):
        parse_basis("poly(x, degree=2)", data, ["v", "theta"])
    with pytest.raises(ParseError, match="unknown generator '__import__'"):
        parse_basis("__import__('os')", data, ["v", "theta"])
    with pytest.raises(ParseError, match="not a generator call"):
        parse_basis("os.system('ls')", data, ["v", "theta"])


def test_basis_from_a_file_of_terms(tmp_path):
    path = tmp_path / "terms.txt"
    path.write_text("v**2*sin(2*theta)  # the law\nv\n\n")
    assert parse_basis(f"@{path}", {}, ["v", "theta"]).names == ["v**2*sin(2*theta)", "v"]


def test_library_round_trips_through_its_dict():
    library = monomials(["x"], 2) * fourier(["t"], 1)
    again = Library.from_dict(library.to_dict())
    assert again.names == library.names
