"""Differential equations from trajectories: derivatives, the weak form, refits, faces."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import sympy
from scipy.integrate import solve_ivp

from basis_library import ode_library
from discovery import DataError, ParseError
from discovery.cli import main
from discovery.datasets import DRAG, G, cannon_drag_data
from discovery.dynamics import OdeModel, discover_ode, load_ode
from discovery.dynamics.derivatives import derivatives, gcv_window


def _lotka_volterra(noise: float = 0.0, runs: int = 2, samples: int = 300,
                    seed: int = 0) -> pd.DataFrame:
    """x' = x − xy/2, y' = −3y/2 + 3xy/4 from ``runs`` random starts."""
    rng = np.random.default_rng(seed)
    frames = []
    t = np.linspace(0, 10, samples)
    for run in range(runs):
        path = solve_ivp(lambda _, z: [z[0] - 0.5 * z[0] * z[1], -1.5 * z[1] + 0.75 * z[0] * z[1]],
                         (0, 10), rng.uniform(1, 3, 2), t_eval=t, rtol=1e-10, atol=1e-12)
        frames.append(pd.DataFrame({"run": run, "t": t, "x": path.y[0], "y": path.y[1]}))
    data = pd.concat(frames, ignore_index=True)
    for c in ("x", "y"):
        data[c] += rng.normal(0, noise * np.sqrt(np.mean(data[c] ** 2)), len(data))
    return data


def _terms(expr: sympy.Expr) -> set[str]:
    return {str(part.as_coeff_Mul()[1]) for part in sympy.Add.make_args(sympy.expand(expr))}


@pytest.fixture(scope="module")
def clean_lv() -> OdeModel:
    return discover_ode(_lotka_volterra(), time="t", states=["x", "y"], trajectory="run",
                        n_bootstrap=0)


def test_a_notebook_shows_each_equation_with_its_verdict(clean_lv: OdeModel) -> None:
    assert clean_lv._repr_latex_() == f"$${clean_lv.latex()}$$"
    html = clean_lv._repr_html_()
    assert html.count('<div class="discovery-model">') == 2
    assert r"$$\dot{x} = " in html and r"$$\dot{y} = " in html
    assert html.count("<b>Verdict:</b>") == 2


# --- derivatives ----------------------------------------------------------------

@pytest.mark.parametrize("method", ["finite_difference", "savgol", "spline", "tv", "auto"])
def test_derivatives_follow_uneven_steps(method: str) -> None:
    t = np.sort(np.random.default_rng(1).uniform(0, 4, 400))
    [d] = derivatives(np.sin(t), t, method)
    inside = slice(10, -10)
    assert np.max(np.abs(d - np.cos(t))[inside]) < 0.05


def test_total_variation_keeps_a_corner_that_smoothers_round() -> None:
    # x = |t − 2| with 1% noise: the rate jumps from −1 to 1. TV regularisation
    # (Chartrand 2011) keeps the jump sharp; a local cubic rounds it over its window.
    t = np.sort(np.random.default_rng(2).uniform(0, 4, 300))
    x = np.abs(t - 2) + np.random.default_rng(3).normal(0, 0.01, len(t))
    true = np.sign(t - 2)
    [tv] = derivatives(x, t, "tv")
    [smooth] = derivatives(x, t, "auto")
    near = np.abs(t - 2) < 0.3
    assert np.median(np.abs(tv - true)[near]) < np.median(np.abs(smooth - true)[near]) / 2
    assert np.median(np.abs(tv - true)) < 0.05
    with pytest.raises(DataError, match="at most 4000"):
        derivatives(np.zeros(4001), np.arange(4001.0), "tv")


def test_auto_derivatives_are_exact_on_clean_data_and_smooth_under_noise() -> None:
    t = np.linspace(0, 10, 1000)
    x = np.exp(-t) * np.cos(3 * t)
    true = -np.exp(-t) * np.cos(3 * t) - 3 * np.exp(-t) * np.sin(3 * t)
    [clean] = derivatives(x, t)
    assert np.max(np.abs(clean - true)) < 1e-4
    noisy = x + np.random.default_rng(0).normal(0, 0.01 * np.std(x), len(t))
    assert gcv_window(noisy, t) > gcv_window(x, t) == 7
    [smooth] = derivatives(noisy, t)
    [raw] = derivatives(noisy, t, "finite_difference")
    assert np.median(np.abs(smooth - true)) < np.median(np.abs(raw - true)) / 5


def test_second_derivatives() -> None:
    t = np.linspace(0, 2, 200)
    first, second = derivatives(t**3, t, order=2)
    assert np.max(np.abs(first - 3 * t**2)) < 1e-8
    assert np.max(np.abs(second - 6 * t)) < 1e-6


def test_derivative_errors_name_the_problem() -> None:
    t = np.array([0.0, 1.0, 1.0, 2.0])
    with pytest.raises(DataError, match="increase strictly"):
        derivatives(np.arange(4.0), t)
    with pytest.raises(DataError, match="derivative='gradient' is unknown"):
        derivatives(np.arange(4.0), np.arange(4.0), "gradient")


# --- discovery ------------------------------------------------------------------

def test_clean_lotka_volterra_is_recovered_with_a_verdict_of_law(clean_lv: OdeModel) -> None:
    rhs = clean_lv.rhs()
    assert _terms(rhs["x"]) == {"x", "x*y"} and _terms(rhs["y"]) == {"y", "x*y"}
    coefficients = {str(t.term): t.coefficient for t in clean_lv.equations["y"].terms}
    assert coefficients["x*y"] == pytest.approx(0.75, rel=1e-4)
    assert clean_lv.verdicts == {"x": "law", "y": "law"}
    assert clean_lv.info["trajectories"] == 2


def test_noisy_lotka_volterra_is_recovered_by_the_weak_form() -> None:
    data = _lotka_volterra(noise=0.01, runs=3, samples=500)
    system = discover_ode(data, time="t", states=["x", "y"], trajectory="run", n_bootstrap=50)
    assert system.info["derivative"] == "weak"
    rhs = system.rhs()
    assert _terms(rhs["x"]) == {"x", "x*y"} and _terms(rhs["y"]) == {"y", "x*y"}
    for model in system.equations.values():
        for term in model.terms:
            low, high = term.interval
            assert low <= term.coefficient <= high
    # Simulated from a fitted start, the law misses the data by the noise (1% of the RMS).
    errors = system.simulation_error(data, "run")
    assert all(0.005 < e < 0.02 for e in errors.values())


def test_a_glider_is_recovered_with_a_reciprocal_of_its_speed() -> None:
    # Strogatz's glider: v' = −v²/20 − sin θ, θ' = v − cos θ/v. The speed keeps
    # its sign, so 1/v and cos θ/v are candidates; 1% noise on 3 runs.
    rng = np.random.default_rng(0)
    t = np.arange(0, 5.0025, 0.005)
    frames = []
    for run in range(3):
        path = solve_ivp(lambda _, z: [-z[0] ** 2 / 20 - np.sin(z[1]), z[0] - np.cos(z[1]) / z[0]],
                         (0, t[-1]), [rng.uniform(1, 4), rng.uniform(-1, 1)], t_eval=t,
                         method="LSODA", rtol=1e-10, atol=1e-10)
        frames.append(pd.DataFrame({"run": run, "t": t, "v": path.y[0], "theta": path.y[1]}))
    data = pd.concat(frames, ignore_index=True)
    for c in ("v", "theta"):
        data[c] += rng.normal(0, 0.01 * np.sqrt(np.mean(data[c] ** 2)), len(data))
    system = discover_ode(data, time="t", states=["v", "theta"], trajectory="run",
                          n_bootstrap=0)
    rhs = system.rhs()
    assert _terms(rhs["v"]) == {"v**2", "sin(theta)"}, rhs
    assert _terms(rhs["theta"]) == {"v", "cos(theta)/v"}, rhs
    assert "1/v" in ode_library(["v", "theta"], angles=["theta"], one_signed=["v"]).names
    assert "1/theta" not in ode_library(["v", "theta"], angles=["theta"], one_signed=["theta"]
                                        ).names  # an angle's own reciprocal is not a term
    # An angle whose sine keeps its sign: cot and csc, alone and with another angle's harmonics.
    names = ode_library(["theta", "phi"], angles=["theta", "phi"], one_signed=["sin(phi)"]).names
    assert {"cos(phi)/sin(phi)", "1/sin(phi)", "cos(phi)*cos(theta)/sin(phi)"} <= set(names)


def test_a_saturating_rate_is_found_with_its_half_saturation_constant() -> None:
    # Michaelis–Menten uptake with inflow: s' = 1 − 3s/(2 + s) = 1 − 1.5·s/(1 + s/2),
    # clean, five runs. No polynomial library holds it (the fit without the
    # saturating terms is an approximation); the terms over 1 + q·s, q fitted, do.
    t = np.arange(0, 6.005, 0.01)
    frames = []
    for run, start in enumerate((0.05, 2.0, 5.0, 10.0, 20.0)):
        path = solve_ivp(lambda _, z: [1 - 3 * z[0] / (2 + z[0])], (0, t[-1]), [start], t_eval=t,
                         method="LSODA", rtol=1e-10, atol=1e-10)
        frames.append(pd.DataFrame({"run": run, "t": t, "s": path.y[0]}))
    system = discover_ode(pd.concat(frames, ignore_index=True), time="t", states=["s"],
                          trajectory="run", n_bootstrap=0)
    model = system.equations["s"]
    assert model.info["saturation"]["q"] == pytest.approx(0.5, rel=1e-3)
    assert system.verdicts["s"] == "law"
    # 1 − 1.5·s/(1 + s/2) = 3/(1 + s/2) − 2 = 0.75·s²/(1 + s/2) − 1.5·s + 1: the same law.
    s = np.linspace(0.05, 20, 200)
    found = sympy.lambdify(sympy.Symbol("s", real=True), system.rhs()["s"], "numpy")(s)
    np.testing.assert_allclose(found, 1 - 3 * s / (2 + s), atol=1e-3)
    assert len(model.terms) <= 3


def test_runs_are_never_differentiated_across_and_repeated_times_are_refused() -> None:
    data = _lotka_volterra()
    with pytest.raises(DataError, match="trajectory"):
        discover_ode(data, time="t", states=["x", "y"], n_bootstrap=0)


def test_rows_with_nan_are_dropped_and_counted() -> None:
    data = _lotka_volterra()
    data.loc[[5, 100, 400], "x"] = np.nan
    system = discover_ode(data, time="t", states=["x", "y"], trajectory="run", n_bootstrap=0)
    assert system.info["rows_dropped"] == 3
    assert _terms(system.rhs()["x"]) == {"x", "x*y"}


def test_a_control_input_enters_the_law() -> None:
    t = np.linspace(0, 20, 2000)

    def forced(time: float, z: np.ndarray) -> list[float]:
        return [z[1], -4 * z[0] - 0.5 * z[1] + np.sin(1.3 * time)]

    path = solve_ivp(forced, (0, 20), [1.0, 0.0], t_eval=t, rtol=1e-10, atol=1e-12)
    data = pd.DataFrame({"t": t, "x": path.y[0], "y": path.y[1], "u": np.sin(1.3 * t)})
    system = discover_ode(data, time="t", states=["x", "y"], controls=["u"], n_bootstrap=0)
    assert _terms(system.rhs()["y"]) == {"x", "y", "u"}
    simulated = system.simulate({"x": 1.0, "y": 0.0}, t[:500],
                                controls=lambda time: [np.sin(1.3 * time)])
    assert np.max(np.abs(simulated["x"] - data["x"][:500])) < 1e-3


def test_the_cannon_with_drag_gives_g_and_k() -> None:
    data = cannon_drag_data(shots=3, random_state=1)
    system = discover_ode(data, time="t", states=["x", "y"], trajectory="shot", order=2,
                          n_bootstrap=0, units={"t": "s", "x": "m", "y": "m"})
    assert system.kinematics == {"x": "vx", "y": "vy"}
    # With units: the drag coefficient in 1/m, g in m/s², each acceleration in m/s².
    vy = system.equations["vy"]
    assert vy.info["units"]["target"] == "m/s^2"
    assert {str(t.term): vy.coefficient_unit(t.term) for t in vy.terms} == {
        "1": "m/s^2", "vy*sqrt(vx**2 + vy**2)": "1/m"}
    terms = {(state, str(t.term)): t for state, m in system.equations.items() for t in m.terms}
    assert set(terms) == {("vx", "vx*sqrt(vx**2 + vy**2)"), ("vy", "1"),
                          ("vy", "vy*sqrt(vx**2 + vy**2)")}
    g = -terms["vy", "1"].coefficient
    assert g == pytest.approx(G, rel=0.01)
    for key in (("vx", "vx*sqrt(vx**2 + vy**2)"), ("vy", "vy*sqrt(vx**2 + vy**2)")):
        assert -terms[key].coefficient == pytest.approx(DRAG, rel=0.05)
        low, high = terms[key].interval
        assert low < -DRAG < high
    assert system.info["refit"] == "trajectories"


# --- faces ------------------------------------------------------------------------

def test_save_and_load_round_trip(clean_lv: OdeModel, tmp_path) -> None:  # noqa: ANN001
    path = clean_lv.save(tmp_path / "system.json")
    saved = json.loads(path.read_text())
    assert set(saved["equations"]) == {"x", "y"}
    assert saved["verdicts"] == {"x": "law", "y": "law"}
    loaded = load_ode(path)
    assert loaded.states == clean_lv.states and loaded.verdicts == clean_lv.verdicts
    assert {s: _terms(e) for s, e in loaded.rhs().items()} == {
        s: _terms(e) for s, e in clean_lv.rhs().items()}
    t = np.linspace(0, 2, 20)
    np.testing.assert_allclose(loaded.simulate({"x": 2, "y": 1}, t)["x"],
                               clean_lv.simulate({"x": 2, "y": 1}, t)["x"])
    assert "\\dot{x}" in clean_lv.latex()
    # Built once, like a Model: nothing in it can be changed afterwards.
    with pytest.raises(TypeError, match="read-only"):
        clean_lv.equations["x"] = clean_lv.equations["y"]  # type: ignore[index]
    with pytest.raises(TypeError, match="read-only"):
        clean_lv.info["order"] = 2  # type: ignore[index]


def test_a_saved_system_is_parsed_never_evaluated(clean_lv: OdeModel,
                                                  tmp_path) -> None:  # noqa: ANN001
    data = clean_lv.to_dict()
    data["models"]["x"]["symbolic_expression"] = "__import__('os').getcwd()"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data, default=str))
    with pytest.raises(ParseError, match="call of something other than a plain function"):
        load_ode(path)


def test_the_library_has_norms_and_the_cli_writes_equations(tmp_path, capsys) -> None:  # noqa: ANN001
    assert "vx*sqrt(vx**2 + vy**2)" in ode_library(["vx", "vy"], norms=[["vx", "vy"]]).names
    csv = tmp_path / "lv.csv"
    _lotka_volterra().to_csv(csv, index=False)
    out = tmp_path / "system.json"
    code = main(["ode", str(csv), "--time", "t", "--states", "x,y", "--trajectory", "run",
                 "--json", str(out), "--bootstrap", "0", "--report", str(tmp_path / "report")])
    assert code == 0
    printed = capsys.readouterr().out
    assert "dx/dt = " in printed and "Verdict:" in printed
    equations = json.loads(out.read_text())["equations"]
    assert _terms(sympy.sympify(equations["y"])) == {"y", "x*y"}
    assert (tmp_path / "report" / "summary.md").exists()


# --- units ------------------------------------------------------------------------

def _decay(k: float = 0.7) -> pd.DataFrame:
    t = np.linspace(0, 4, 200)
    return pd.DataFrame({"t": t, "x": 3 * np.exp(-k * t)})


def test_a_rate_has_the_state_unit_per_time_and_a_rate_constant_its_unit(tmp_path, capsys
                                                                         ) -> None:  # noqa: ANN001
    data = _decay()
    data.to_csv(tmp_path / "decay.csv", index=False)
    code = main(["ode", str(tmp_path / "decay.csv"), "--time", "t", "--states", "x",
                 "--units", "t=s,x=m", "--bootstrap", "0", "--json", str(tmp_path / "s.json")])
    assert code == 0
    out = capsys.readouterr().out
    assert "dx/dt:  (in m/s)" in out and "1/s" in out, out
    saved = json.loads((tmp_path / "s.json").read_text())["models"]["x"]["units"]
    assert saved["target"] == "m/s" and saved["balanced"] is True
    assert [t["coefficient_unit"] for t in saved["terms"]] == ["1/s"]


def test_with_units_no_term_takes_the_sine_of_a_length() -> None:
    from discovery.dynamics.units import equation_units, units_library

    per = equation_units({"t": "s", "x": "m", "theta": "rad"}, time="t",
                         states=["x", "theta"], kinematics={}, controls=[], constants=None)
    library = units_library(ode_library(["x", "theta"], angles=["x", "theta"]), per)
    assert "sin(theta)" in library.names and "theta*x" in library.names
    assert not any("sin(x)" in n or "cos(x)" in n for n in library.names)
    assert str(per["theta"].unit(per["theta"].target).dimension) == "1/s"


@pytest.mark.parametrize("units, message", [
    ("t=s,xx=m", "Did you mean 'x'"),
    ("x=m", "need the time's unit"),
    ("t=s,x=mx", "unit"),
])
def test_bad_units_for_a_system_are_one_line_and_exit_2(units, message, tmp_path, capsys
                                                        ) -> None:  # noqa: ANN001
    _decay().to_csv(tmp_path / "decay.csv", index=False)
    code = main(["ode", str(tmp_path / "decay.csv"), "--time", "t", "--states", "x",
                 "--units", units, "--bootstrap", "0"])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err


@pytest.mark.slow
def test_a_constant_shared_by_two_terms_of_one_equation_is_stated_once() -> None:
    """Lorenz's dx/dt = σ(y − x) at 1% noise: σ is one constant, not two decimals."""
    def lorenz(_: float, s: list[float]) -> list[float]:
        x, y, z = s
        return [10 * (y - x), x * (28 - z) - y, x * y - 8 / 3 * z]

    t = np.linspace(0, 10, 2001)
    states = solve_ivp(lorenz, (0, 10), [-8, 8, 27], t_eval=t, rtol=1e-10, atol=1e-10).y.T
    states = states + np.random.default_rng(0).normal(0, 0.01 * states.std(0), states.shape)
    system = discover_ode({"t": t, "x": states[:, 0], "y": states[:, 1], "z": states[:, 2]},
                          n_bootstrap=0)
    coefficients = {str(term.term): term.coefficient for term in system.equations["x"].terms}
    assert set(coefficients) == {"x", "y"}
    assert coefficients["y"] == -coefficients["x"] == pytest.approx(10, rel=0.01)
