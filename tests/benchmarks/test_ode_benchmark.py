"""The dynamics benchmark: systems, scoring, and one system run both ways."""

from __future__ import annotations

import pytest
import sympy

from benchmarks.ode import SYSTEMS, generate, run_ours, run_pysindy, score


def _system(name: str):  # noqa: ANN202
    return next(s for s in SYSTEMS if s.name == name)


def test_scoring_wants_exactly_the_true_terms() -> None:
    lv = _system("Lotka-Volterra")
    x, y = sympy.symbols("x y")
    exact = {"x": x - x * y / 2, "y": -sympy.Rational(3, 2) * y + sympy.Rational(3, 4) * x * y}
    assert score(exact, lv) == (True, 0.0)
    close = {"x": 1.01 * x - 0.5 * x * y, "y": exact["y"]}
    recovered, error = score(close, lv)
    assert recovered and error == pytest.approx(0.01)
    extra = {"x": exact["x"] + 0.001 * y**2, "y": exact["y"]}
    assert not score(extra, lv)[0]


def test_scoring_reads_a_law_the_same_in_either_trig_spelling() -> None:
    # cos θ/tan φ is cos θ·cos φ/sin φ, and (cos²φ + sin²φ/10)·sin θ is
    # (9/10)cos²φ·sin θ + sin θ/10 (sin² = 1 − cos²); sin θ alone is not the law.
    shear = _system("shear flow")
    theta, phi = sympy.symbols("theta phi")
    same = {"theta": sympy.cos(phi) * sympy.cos(theta) / sympy.sin(phi),
            "phi": 0.9 * sympy.sin(theta) * sympy.cos(phi) ** 2 + 0.1 * sympy.sin(theta)}
    recovered, error = score(same, shear)
    assert recovered and error == pytest.approx(0.0, abs=1e-12)
    assert not score({**same, "phi": 1.0 * sympy.sin(theta)}, shear)[0]


def test_scoring_takes_a_saturating_terms_inner_constant_as_a_parameter() -> None:
    # x·y/(1.02x + 1) is predator–prey's x·y/(1 + x) with its inner constant off by
    # 2%: the same term, scored by that error; x·y/(1 + x²) is another term.
    prey = _system("predator-prey")
    x, y = sympy.symbols("x y")
    near = {"x": 4 * x - x**2 - x * y / (1 + x), "y": x * y / (1.02 * x + 1) - 0.075 * y**2}
    recovered, error = score(near, prey)
    assert recovered and error == pytest.approx(0.02)
    # A factor in front of the denominator's 1 is divided out (2xy/(x² + 2) is xy/(1 + x²/2)).
    bacteria = _system("bacterial respiration")
    assert score({"x": 20 - x - 2 * x * y / (x**2 + 2), "y": 10 - x * y / (1 + x**2 / 2)},
                 bacteria) == (True, 0.0)
    assert not score({**near, "y": x * y / (1 + x**2) - 0.075 * y**2}, prey)[0]


def test_every_system_simulates_with_noise() -> None:
    for system in SYSTEMS:
        data = generate(system, 0.01, seed=0, runs=1)
        assert list(data.columns) == ["run", "t", *system.states]
        assert data[list(system.states)].notna().all().all()


def test_the_damped_oscillator_is_recovered_both_ways() -> None:
    system = _system("damped oscillator")
    data = generate(system, 0.0, seed=0)
    assert run_ours(data, system, 0)["recovered"]
    pytest.importorskip("pysindy")
    assert run_pysindy(data, system, 0.0)["recovered"]
