"""Recovery of known laws: the accuracy claims that are fast enough to test."""

import time
import warnings

import numpy as np
import pytest
import sympy

from basis_library import constant, fourier, monomials, unary
from discovery import CANNON_TRUTH, check, discover

G = 9.81


def _single_cannon_term(model):
    assert len(model.terms) == 1, f"expected one term, got {model.raw_expression}"
    term = model.terms[0]
    assert str(term.term) == "v**2*sin(2*theta)"
    # rtol=1e-2: the issue's criterion; noise sd 0.01 on 1000 points gives SE ~1e-5.
    assert term.coefficient == pytest.approx(1 / G, rel=1e-2)


def test_cannon_with_the_auto_library(cannon):
    model = discover(cannon, target="s", constants={"g": G}, device="cpu")
    _single_cannon_term(model)
    assert model.library["size"] >= 100
    assert str(model.expression) == "v**2*sin(2*theta)/g"
    assert check(model, CANNON_TRUTH, constants={"g": G}).exact


def test_cannon_with_a_library_of_over_1000_terms(cannon):
    library = (monomials(["v", "theta"], 8) * (constant() + fourier(["theta"], 8)
                                               + fourier(["v"], 3)) + unary(["v", "theta"]))
    assert len(library) >= 1000
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        model = discover(cannon, target="s", basis=library, constants={"g": G}, device="cpu")
    _single_cannon_term(model)


def test_naive_stlsq_is_fooled_where_greedy_selection_is_not(cannon):
    """The issue's warning: correlated v^k·trig columns fool plain STLSQ at one threshold."""
    import torch

    from basis_library import parse_basis
    from discovery.search.sparse import scale_columns, stlsq_path

    basis = "poly(v, degree=3) * (1 + fourier(theta, 4))"
    columns = {"v": cannon.v.to_numpy(), "theta": cannon.theta.to_numpy()}
    design = parse_basis(basis, columns, ["v", "theta"]).evaluate(columns, device="cpu")
    assert design.matrix.shape[1] == 36
    Xs, _ = scale_columns(design.matrix)
    y = torch.tensor(cannon.s.to_numpy())
    for threshold in (0.05, 0.5):  # on unit-RMS columns; the target's RMS is ~3
        (naive,) = stlsq_path(Xs, y, [threshold])
        assert len(naive) >= 12
    greedy = discover(cannon, target="s", basis=basis, solver="greedy", device="cpu")
    assert [str(t.term) for t in greedy.terms] == ["v**2*sin(2*theta)"]


def _uniform(rng, n, **ranges):
    return {k: rng.uniform(lo, hi, n) for k, (lo, hi) in ranges.items()}


def _fit_with_noise(ranges, function, seed, noise=0.01, n=1000):
    """The default fit (no bootstrap) of ``function`` on ``n`` uniform rows, noise
    of ``noise`` times the RMS of y."""
    rng = np.random.default_rng(seed)
    data = _uniform(rng, n, **ranges)
    y = function(data)
    data["y"] = y + noise * np.sqrt(np.mean(y**2)) * rng.normal(size=y.size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return discover(data, target="y", device="cpu", n_bootstrap=0)


LAWS = {
    # name: (ranges, function, truth, constants, basis)
    "power law, fractional exponent": (
        {"a": (1, 5)}, lambda c: 2 * np.pi * c["a"] ** 1.5, "2*pi*a**(3/2)", None, "auto"),
    "product with a trig factor": (
        {"r": (1, 5), "F": (1, 5), "theta": (0, np.pi)},
        lambda c: c["r"] * c["F"] * np.sin(c["theta"]), "r*F*sin(theta)", None, "auto"),
    "sum of two terms": (
        {"m": (1, 5), "v": (1, 5), "h": (1, 5)},
        lambda c: 0.5 * c["m"] * c["v"] ** 2 + 9.81 * c["m"] * c["h"],
        "m*v**2/2 + g*m*h", {"g": 9.81}, "auto"),
    "exponential decay": (
        {"t": (0, 5)}, lambda c: 3 * np.exp(-c["t"]), "3*exp(-t)", None, "auto"),
    "rational function": (
        {"q1": (1, 5), "q2": (1, 5), "r": (1, 5)},
        lambda c: 8.99 * c["q1"] * c["q2"] / c["r"] ** 2, "k*q1*q2/r**2", {"k": 8.99},
        "poly(degree=4, negative=True)"),
}


@pytest.mark.parametrize("noise", [0.0, 0.01])
@pytest.mark.parametrize("law", list(LAWS))
def test_other_laws_are_recovered_exactly(law, noise):
    ranges, function, truth, constants, basis = LAWS[law]
    rng = np.random.default_rng(7)
    data = _uniform(rng, 500, **ranges)
    y = function(data)
    data["y"] = y + noise * np.std(y) * rng.normal(size=y.size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        model = discover(data, target="y", basis=basis, constants=constants, device="cpu")
    result = check(model, truth, constants=constants)
    assert result.exact, f"{law}: got {model.expression}"
    if noise == 0:
        assert result.symbolic, f"{law}: got {model.expression}"
    else:
        # At 1% noise on 500 rows a coefficient may be too imprecise to claim
        # its closed form honestly; it must then be "consistent with" it.
        said = sympy.Add(*[(t.closed_form if t.closed_form is not None else t.consistent_with
                            if t.consistent_with is not None else t.coefficient) * t.term
                           for t in model.terms])
        assert result.symbolic or check(said, truth, constants=constants).symbolic, \
            f"{law}: got {model.expression}"


@pytest.mark.slow
def test_cv_selection_picks_the_law_and_aic_keeps_at_least_as_many_terms(cannon):
    cv = discover(cannon, target="s", selection="cv", device="cpu", constants={"g": G})
    assert [str(t.term) for t in cv.terms] == ["v**2*sin(2*theta)"]
    assert all(cv.pareto["validation_mse"].notna())
    aic = discover(cannon, target="s", selection="aic", device="cpu")
    assert len(aic.terms) >= len(cv.terms)  # AIC's 2 per term under-penalises large libraries


@pytest.mark.gpu
@pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="no CUDA device here")
def test_the_same_path_runs_on_cuda(cannon):
    model = discover(cannon, target="s", constants={"g": G}, device="cuda")
    _single_cannon_term(model)
    assert model.info["device"].startswith("cuda")


def test_variable_hints_reach_the_auto_library(rng):
    """An angle outside [-2π, 2π] gets harmonics only when hinted as one."""
    from basis_library import Variable

    data = {"t": rng.uniform(0, 20, 400)}
    data["y"] = 2 * np.sin(data["t"])
    plain = discover(data, target="y", device="cpu")
    hinted = discover(data, target="y", inputs=[Variable("t", angle=True)], device="cpu")
    assert str(hinted.expression) == "2*sin(t)"
    assert "sin(t)" not in plain.library["terms"]


def test_backward_pruning_removes_terms_that_forward_selection_left_behind(rng):
    x = rng.uniform(1, 2, 50)  # on [1, 2] many columns are near-affine
    model = discover({"x": x, "y": 3 + 2 * x}, target="y", device="cpu")
    assert str(model.expression) == "2*x + 3"


@pytest.mark.slow
@pytest.mark.parametrize("noise", [0.0, 0.01])
def test_ten_inputs_interaction_and_square(rng, noise):
    X = rng.uniform(1, 2, (300, 10))
    y = X[:, 0] * X[:, 3] + X[:, 7] ** 2
    y = y + noise * y.std() * rng.normal(size=y.size)
    model = discover(X, target=y, device="cpu")
    assert check(model, "x0*x3 + x7**2").exact, model.expression


FACTOR_LAWS = {
    # name: (ranges, function, truth); power laws times a factor of a monomial
    "relativistic mass": (
        {"m0": (1, 5), "v": (1, 2), "c": (3, 10)},
        lambda d: d["m0"] / np.sqrt(1 - d["v"] ** 2 / d["c"] ** 2), "m0/sqrt(1 - v**2/c**2)"),
    "Boltzmann factor": (
        {"n0": (1, 5), "m": (1, 5), "x": (1, 5), "T": (1, 5)},
        lambda d: d["n0"] * np.exp(-d["m"] * d["x"] / d["T"]), "n0*exp(-m*x/T)"),
    "Langevin": (
        {"mu": (1, 5), "rho": (1, 5), "B": (1, 5), "T": (1, 5)},
        lambda d: d["mu"] * d["rho"] * np.tanh(d["mu"] * d["B"] / d["T"]),
        "mu*rho*tanh(mu*B/T)"),
    "shifted denominator": (
        {"V": (1, 5), "p": (1, 5), "gamma": (2, 5)},
        lambda d: d["V"] * d["p"] / (d["gamma"] - 1), "V*p/(gamma - 1)"),
}


@pytest.mark.slow
@pytest.mark.parametrize("noise", [0.0, 0.01])
@pytest.mark.parametrize("law", list(FACTOR_LAWS))
def test_power_laws_with_a_factor_of_a_monomial(law, noise):
    ranges, function, truth = FACTOR_LAWS[law]
    rng = np.random.default_rng(3)
    data = _uniform(rng, 1000, **ranges)
    y = function(data)
    data["y"] = y + noise * np.sqrt(np.mean(y**2)) * rng.normal(size=y.size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        model = discover(data, target="y", device="cpu")
    positive = list(ranges)
    assert check(model, truth, significant=3, positive=positive).symbolic, \
        f"{law}: got {model.expression}"


@pytest.mark.parametrize("noise", [0.0, 0.01])
def test_a_factor_of_a_monomial_far_from_one_in_size(noise):
    # SRSD writes c as a decimal: 1 − v²/c² is 1 − 1.1e-17·v² with v near 10⁸,
    # out of reach of inner scales near 1; the factor enters at a data scale.
    rng = np.random.default_rng(5)
    data = {"m0": rng.uniform(1, 5, 1000), "v": rng.uniform(1e7, 2.5e8, 1000)}
    y = data["m0"] / np.sqrt(1 - data["v"] ** 2 / 299792458.0**2)
    data["y"] = y + noise * np.sqrt(np.mean(y**2)) * rng.normal(size=y.size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        model = discover(data, target="y", device="cpu", n_bootstrap=0)
    truth = "m0/sqrt(1 - v**2/299792458.0**2)"
    assert check(model, truth, significant=3, positive=["m0", "v"]).symbolic, model.expression


def test_the_reported_total_covers_every_route_when_the_library_fit_wins(cannon):
    started = time.perf_counter()
    model = discover(cannon, target="s", constants={"g": G}, simplify=False, device="cpu")
    wall = time.perf_counter() - started
    assert "strategy" not in model.metrics  # the library fit won; the other routes were tried
    assert 0.8 * wall < model.info["timings"]["total"] <= wall


INNER_SCALE_LAWS = {
    # Bose-Einstein occupation written with h, not hbar: 1/(2*pi) inside exp.
    "Planck": ({"h": (1, 5), "w": (1, 5), "T": (1, 5)},
               lambda d: 1 / (np.exp(d["h"] * d["w"] / (2 * np.pi * d["T"])) - 1),
               "1/(exp(h*w/(2*pi*T)) - 1)"),
    "Clausius-Mossotti": ({"E": (1, 5), "a": (0.1, 1), "rho": (0.1, 1)},
                          lambda d: d["E"] * d["a"] * d["rho"] / (1 - d["a"] * d["rho"] / 3),
                          "E*a*rho/(1 - a*rho/3)"),
}


@pytest.mark.parametrize("law", list(INNER_SCALE_LAWS))
def test_constants_inside_a_factor_are_fitted_and_recognised(law):
    ranges, function, truth = INNER_SCALE_LAWS[law]
    data = _uniform(np.random.default_rng(4), 1000, **ranges)
    data["y"] = function(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        model = discover(data, target="y", device="cpu", n_bootstrap=0)
    assert check(model, truth, positive=list(ranges)).exact, f"{law}: got {model.expression}"
    assert model.metrics["strategy"] == "power law"


def test_an_inner_scale_on_a_ridge_is_found_under_noise():
    # At 1% noise M^a·(exp(s·M) − 1)^b fits as well along a ridge of (a, b, s)
    # as at the law's (0, −1, 1/(2π)): the profile over b finds the law's shape.
    from discovery import prepare
    from discovery.routes.powers import power_laws

    ranges, function, _ = INNER_SCALE_LAWS["Planck"]
    rng = np.random.default_rng(4)
    data = _uniform(rng, 1000, **ranges)
    y = function(data)
    data["y"] = y + 0.01 * np.sqrt(np.mean(y**2)) * rng.normal(size=y.size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        shapes = [shape for shape, *_ in power_laws(prepare(data, "y"))]
    h, w, T = sympy.symbols("h w T", real=True)
    found = []
    for shape in shapes:
        shape = shape.xreplace({s: sympy.Symbol(s.name, real=True) for s in shape.free_symbols})
        inner = [a.args[0] for a in shape.atoms(sympy.exp)]
        if len(inner) == 1 and sympy.simplify(shape * (sympy.exp(inner[0]) - 1)) == 1:
            found.append(float(sympy.simplify(inner[0] / (h * w / T))))
    # 1/(exp(s·hw/T) − 1), s a decimal or closed form near 1/(2π)
    assert any(abs(s - 1 / (2 * np.pi)) < 0.03 / (2 * np.pi) for s in found), shapes


@pytest.mark.slow
def test_a_transformed_target_is_refitted_on_y_under_noise():
    # 1/(1/a + 1/b + 1/c) is linear in 1/y; the fit of 1/y is refined by least
    # squares on y, whose standard errors cover the coefficients (1, 1, 1); a
    # 1 is claimed only where the look-elsewhere test allows at that precision.
    model = _fit_with_noise({"a": (1, 5), "b": (1, 5), "c": (1, 5)},
                            lambda d: 1 / (1 / d["a"] + 1 / d["b"] + 1 / d["c"]), seed=8)
    assert model.metrics["strategy"] == "fit of 1/y, inverted", model.expression
    assert sorted(t["term"] for t in model.info["inner_terms"]) == ["1/a", "1/b", "1/c"]
    for term in model.info["inner_terms"]:
        assert 0 < term["std_error"] < 0.01, term
        assert abs(term["coefficient"] - 1) < 4 * term["std_error"], term
        assert term["closed_form"] in (None, "1"), term


def test_the_logit_applies_only_to_a_target_within_zero_and_one():
    from discovery.routes.transforms import transformed

    y = np.array([0.1, 0.5, 0.9])
    z, _ = transformed("log(y/(1 - y))", y)
    assert np.allclose(z, np.log(y / (1 - y)))
    assert transformed("log(y/(1 - y))", np.array([0.1, 0.5, 1.0])) is None


@pytest.mark.slow
def test_a_logistic_in_a_product_of_inputs_is_found_through_the_logit():
    # 1/(1 + exp(-r(t - 5))) with r and t columns: log(y/(1 - y)) = r·t - 5r.
    rng = np.random.default_rng(0)
    r, t = rng.uniform(0.5, 2, 500), rng.uniform(0, 10, 500)
    y = 1 / (1 + np.exp(-r * (t - 5)))
    model = discover({"r": r, "t": t, "y": y}, target="y", n_bootstrap=0)
    assert check(model.expression, "1/(1 + exp(-r*(t - 5)))").symbolic, model.expression
    assert model.verdict.status == "law"


SEPARABLE_LAWS = {
    "gravity difference": ({"G": (1, 5), "m": (1, 5), "r1": (1, 5), "r2": (1, 5)},
                           lambda d: d["G"] * d["m"] * (1 / d["r2"] - 1 / d["r1"]),
                           "G*m*(1/r2 - 1/r1)"),
    "heat flow": ({"A": (1, 5), "k": (1, 5), "T1": (1, 5), "T2": (1, 5), "d": (1, 5)},
                  lambda d: d["A"] * d["k"] * (d["T2"] - d["T1"]) / d["d"],
                  "A*k*(T2 - T1)/d"),
    "dipole potential": ({"p": (1, 5), "theta": (1, 3), "eps": (1, 5), "r": (1, 5)},
                         lambda d: d["p"] * np.cos(d["theta"]) / (4 * np.pi * d["eps"] * d["r"]**2),
                         "p*cos(theta)/(4*pi*eps*r**2)"),
}


@pytest.mark.slow
@pytest.mark.parametrize("law", list(SEPARABLE_LAWS))
def test_a_factor_common_to_every_term_is_found_under_noise(law):
    ranges, function, truth = SEPARABLE_LAWS[law]
    model = _fit_with_noise(ranges, function, seed=5)
    assert check(model, truth, significant=3, positive=list(ranges)).symbolic, \
        f"{law}: got {model.expression}"
    assert model.metrics["strategy"].startswith("library times")
    assert model.verdict["status"] == "law", model.verdict["reasons"]


GROWN_LAWS = {
    # Terms no fixed-degree library holds, grown one factor at a time.
    "interference": ({"I1": (1, 5), "I2": (1, 5), "delta": (1, 5)},
                     lambda d: (d["I1"] + d["I2"]
                                + 2 * np.sqrt(d["I1"] * d["I2"]) * np.cos(d["delta"])),
                     "I1 + I2 + 2*sqrt(I1*I2)*cos(delta)", "grown monomials"),
    "polarised dipoles": ({"n0": (1, 3), "E": (1, 3), "p": (1, 3), "theta": (1, 3), "T": (1, 3),
                           "k": (1, 3)},
                          lambda d: d["n0"] * (1 + d["E"] * d["p"] * np.cos(d["theta"])
                                               / (d["T"] * d["k"])),
                          "n0*(1 + E*p*cos(theta)/(T*k))", "grown monomials"),
    # The grown terms of a transformed target: y² = ω²/c² − π²/d².
    "waveguide cut-off": ({"omega": (6, 8), "c": (1, 1.5), "d": (1, 2)},
                          lambda d: np.sqrt(d["omega"] ** 2 / d["c"] ** 2 - np.pi**2 / d["d"] ** 2),
                          "sqrt(omega**2/c**2 - pi**2/d**2)", "fit of y**2, inverted"),
    # asin laws: sin y is fitted where every y lies in asin's range.
    "refraction": ({"nr": (0.1, 1), "theta": (0.1, 1.5)},
                   lambda d: np.arcsin(d["nr"] * np.sin(d["theta"])), "asin(nr*sin(theta))",
                   "fit of sin(y), inverted"),
    "diffraction": ({"lam": (1, 2), "d": (2, 5), "k": (1, 2)},
                    lambda d: np.arcsin(d["lam"] / (d["k"] * d["d"])), "asin(lam/(k*d))",
                    "fit of sin(y), inverted"),
}


@pytest.mark.slow
@pytest.mark.parametrize("noise", [0.0, 0.01])
@pytest.mark.parametrize("law", list(GROWN_LAWS))
def test_grown_terms_and_the_sine_transform(law, noise):
    ranges, function, truth, strategy = GROWN_LAWS[law]
    model = _fit_with_noise(ranges, function, seed=8, noise=noise)
    assert model.metrics["strategy"] == strategy, f"{law}: got {model.expression}"
    if law == "waveguide cut-off" and noise:
        # π² is estimated to within its standard error there, too imprecise to be
        # claimed: it is left a decimal.
        [inner] = [t for t in model.info["inner_terms"] if t["term"] == "d**(-2)"]
        assert abs(inner["coefficient"] + np.pi**2) < 3 * inner["std_error"], inner
        return
    assert check(model, truth, significant=3, positive=list(ranges)).symbolic, \
        f"{law}: got {model.expression}"
    if noise == 0:
        assert model.verdict["status"] == "law", model.verdict["reasons"]


RATIONAL_LAWS = {
    # Doppler with the speed of sound named: fitted constants in a denominator.
    "Doppler": ({"f": (100, 500), "vr": (0, 30), "vs": (0, 30)}, {"c": 343.0},
                lambda d: d["f"] * (343 + d["vr"]) / (343 - d["vs"]), "f*(c + vr)/(c - vs)"),
    "Clausius-Mossotti, shifted": ({"a": (0.1, 1), "rho": (0.1, 1)}, {},
                                   lambda d: 1 + d["a"] * d["rho"] / (1 - d["a"] * d["rho"] / 3),
                                   "1 + a*rho/(1 - a*rho/3)"),
}


@pytest.mark.parametrize("law", list(RATIONAL_LAWS))
def test_rational_laws_are_fitted_as_p_over_q(law):
    ranges, constants, function, truth = RATIONAL_LAWS[law]
    data = _uniform(np.random.default_rng(6), 1000, **ranges)
    data["y"] = function(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        model = discover(data, target="y", device="cpu", n_bootstrap=0, constants=constants)
    # The difference is exactly 0 (the form differs: (2aρ + 3)/(3 − aρ) for 1 + aρ/(1 − aρ/3)).
    result = check(model, truth, constants=constants, positive=list(ranges))
    assert result.symbolic and result.details["difference"] == "0", \
        f"{law}: got {model.expression}"
    assert model.metrics["strategy"] == "rational"
    assert model.verdict["status"] == "law", model.verdict["reasons"]


INNER_CONSTANT_LAWS = {
    # Rates, frequencies, phases and shifts inside functions (variable projection).
    "damped oscillation": (lambda t: 2.5 * np.exp(-0.3 * t) * np.cos(2 * t), 1,
                           "damped oscillation", "5/2*exp(-3*t/10)*cos(2*t)"),
    "damped oscillation with a phase": (
        lambda t: 1.7 * np.exp(-0.45 * t) * np.cos(3.3 * t + 0.7), 1, "damped oscillation",
        "17/10*exp(-9*t/20)*cos(33*t/10 + 7/10)"),
    # Printed K/(1 + b·e^(−rt)) under noise (b = e^(r·t₀)): no 3-digit criterion applies.
    "logistic growth": (lambda t: 4.2 / (1 + np.exp(-1.3 * (t - 4.1))), 1, "logistic",
                        "21/5/(1 + exp(-13*(t - 41/10)/10))"),
    "decay to a baseline": (lambda t: 3 * np.exp(-t / 2) + 1, 2, "exponential",
                            "3*exp(-t/2) + 1"),
}


@pytest.mark.parametrize("noise", [0.0, 0.01])
@pytest.mark.parametrize("law", list(INNER_CONSTANT_LAWS))
def test_constants_inside_functions_are_fitted_by_variable_projection(law, noise):
    function, n_terms, family, truth = INNER_CONSTANT_LAWS[law]
    rng = np.random.default_rng(7)
    t = rng.uniform(0, 10, 500)
    y = function(t)
    y = y + noise * np.sqrt(np.mean(y**2)) * rng.normal(size=t.size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        model = discover({"t": t, "y": y}, target="y", device="cpu", n_bootstrap=0)
    assert model.metrics["strategy"] == f"inner constants ({family} in t)"
    assert len(model.terms) == n_terms, model.expression
    assert model.verdict["status"] == "law", model.verdict["reasons"]
    # The law, not a fit of the rows: it extrapolates 50% past them. The printed
    # form may differ (K/(1 + b·e^(−rt)) for K/(1 + e^(−r(t − t₀))), b = e^(r·t₀)).
    # rtol: 1e-9 without noise; at 1% noise on 500 rows the parameters have
    # relative SEs near 1e-3, and e^(−γt) at t = 15 amplifies an error in γ.
    grid = np.linspace(0, 15, 301)
    scale = np.max(np.abs(function(grid)))
    error = np.max(np.abs(model.predict({"t": grid}) - function(grid))) / scale
    assert error < (0.03 if noise else 1e-9), f"{law}: {model.expression}"
    if noise == 0:  # every constant recognised: the law as written
        assert check(model, truth).symbolic, f"{law}: {model.expression}"


def test_an_input_with_few_values_is_named_and_inverse_squares_are_found():
    """Rydberg's 1/λ = R(1/n₁² − 1/n₂²) on integer levels: the sparsest form, and a note."""
    rng = np.random.default_rng(1)
    n1 = rng.integers(1, 7, 300).astype(float)
    n2 = n1 + rng.integers(1, 7, 300)
    model = discover({"n1": n1, "n2": n2, "y": 1.097e7 * (1 / n1**2 - 1 / n2**2)}, target="y",
                     device="cpu", n_bootstrap=0)
    assert sorted(str(t.term) for t in model.terms) == ["n1**(-2)", "n2**(-2)"]
    assert [t.coefficient for t in model.terms] == pytest.approx([1.097e7, -1.097e7], rel=1e-9)
    notes = model.metrics["discrete_inputs"]
    assert len(notes) == 2 and notes[0].startswith("n1 takes only 6 distinct values")
    assert model.verdict["status"] == "law", model.verdict["reasons"]


def test_a_discrete_input_with_as_many_terms_as_values_is_not_a_law():
    """On 3 values any function of n is a + b·n + c·n²: its form is not identified."""
    rng = np.random.default_rng(2)
    n, x = rng.integers(1, 4, 400).astype(float), rng.uniform(1, 2, 400)
    y = np.exp(n) + 2 * x
    model = discover({"n": n, "x": x, "y": y}, target="y", device="cpu", n_bootstrap=0,
                     basis=["1", "n", "n**2", "x"])
    assert len([t for t in model.terms if {str(s) for s in t.term.free_symbols} == {"n"}]) == 2
    assert any("any function of it would fit" in r for r in model.verdict["reasons"])
    assert model.verdict["status"] != "law"


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 4])
def test_a_distance_in_the_plane_under_noise(seed):
    # y² = (x₂ − x₁)² + (y₂ − y₁)²: each square is three columns that cancel,
    # which the subset search joins as a block (at 1% noise no single
    # addition or swap reached them: 11 odd terms were fitted instead).
    rng = np.random.default_rng(seed)
    data = {k: rng.uniform(1, 5, 1000) for k in ("x1", "x2", "y1", "y2")}
    y = np.sqrt((data["x2"] - data["x1"]) ** 2 + (data["y2"] - data["y1"]) ** 2)
    data["y"] = y + 0.01 * np.sqrt(np.mean(y**2)) * rng.normal(size=y.size)
    model = discover(data, target="y", device="cpu", n_bootstrap=0)
    truth = "sqrt((x2 - x1)**2 + (y2 - y1)**2)"
    assert check(model, truth, significant=3, positive=["x1", "x2", "y1", "y2"]).symbolic, \
        model.expression


@pytest.mark.slow
def test_a_relativistic_doppler_factor_under_noise():
    # Under noise many factor pairs fit as well as (1 + v/c)^½ (1 − v/c)^−½ in
    # log space; the ones whose exponents hold at small rationals are tried too.
    rng = np.random.default_rng(2)
    data = {"f0": rng.uniform(1, 5, 1000), "v": rng.uniform(1, 2, 1000),
            "c": rng.uniform(3, 10, 1000)}
    y = data["f0"] * np.sqrt((1 + data["v"] / data["c"]) / (1 - data["v"] / data["c"]))
    data["y"] = y + 0.01 * np.sqrt(np.mean(y**2)) * rng.normal(size=y.size)
    model = discover(data, target="y", device="cpu", n_bootstrap=0)
    truth = "f0*(1 + v/c)/sqrt(1 - v**2/c**2)"
    assert check(model, truth, significant=3, positive=["f0", "v", "c"]).symbolic, \
        model.expression


@pytest.mark.slow
def test_a_sum_of_squares_times_a_mass_is_not_a_rational_law_under_noise():
    # Feynman I.24.6 at 1% noise: a five-parameter P/Q edged out
    # m x²(ω² + ω₀²)/4 by 2.2 in BIC while the rational route paid the extended
    # BIC's γ = 1/2 for a support that was the best of several refitted on y.
    from benchmarks.feynman.problems import generate, load_problems

    problem = next(p for p in load_problems("feynman") if p.name == "I.24.6")
    x, y = generate(problem, 1000, noise=0.01, random_state=0)
    model = discover({**x, "E": y}, target="E", device="cpu", random_state=0, n_bootstrap=0)
    assert model.metrics.get("strategy") != "rational", model.expression
    assert check(model, problem.formula, significant=3,
                 positive=["m", "omega", "omega_0", "x"]).symbolic, model.expression


@pytest.mark.slow
def test_two_terms_sharing_a_factor_from_a_near_miss_under_noise():
    # Feynman II.36.38 at 1% noise: the pursuit's terms are near misses of the
    # law's, M·α·mom/(T·c³·ε·kb) among them; the law's M·α·mom/(T·c²·ε·kb) is
    # one atom away and joins the pool the subset search chooses from.
    from benchmarks.feynman.problems import generate, load_problems

    problem = next(p for p in load_problems("feynman") if p.name == "II.36.38")
    x, y = generate(problem, 1000, noise=0.01, random_state=0)
    model = discover({**x, "f": y}, target="f", device="cpu", random_state=0, n_bootstrap=0)
    assert check(model, problem.formula, significant=3, positive=list(x)).symbolic, \
        model.expression
    assert model.verdict["status"] == "law", model.verdict["reasons"]
