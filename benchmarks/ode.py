"""Laws of motion side by side with PySINDy: same trajectories, same noise.

Systems: the classic five (Lotka–Volterra, Lorenz, Van der Pol, Duffing, a
linear damped oscillator) and a Strogatz-style set of two-state systems: the
seven of La Cava's ``ode-strogatz`` collection (Strogatz, *Nonlinear Dynamics
and Chaos*, used by SRBench: bacterial respiration, bar magnets, glider,
competing species, predator–prey, shear flow, a stiff Van der Pol) and four
polynomial ones from the same book and the SINDy paper (linear spiral,
cubic oscillator, Sel'kov glycolysis, Brusselator). Each is simulated with
``scipy`` from three random starts; Gaussian noise of ``noise`` times each
state's RMS is added to every sample.

A system is *recovered* when every equation has exactly the true terms
(after expanding both, trig included, into additive terms); the coefficient
error is the largest relative error over the true terms. PySINDy runs with a
degree-3 polynomial library, STLSQ at thresholds 0.01, 0.05 and 0.1 (it
counts as recovered if any of them recovers: a choice made knowing the truth,
generous to it), finite differences on clean data and smoothed finite
differences (its Savitzky–Golay default) on noisy data. Ours runs with its
defaults (:func:`discovery.discover_ode`; its library adds sin, cos and
their products for the states named like angles: θ, φ; the bar magnets'
states are the angles θ₁, θ₂ of Strogatz's book, named so).
"""

from __future__ import annotations

import json
import math
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sympy

__all__ = ["SYSTEMS", "System", "generate", "run_ode_benchmark", "summarise", "write_summary"]


@dataclass(frozen=True)
class System:
    """A system ``d(state)/dt = rhs`` and how it is sampled."""

    name: str
    states: tuple[str, ...]
    rhs: tuple[str, ...]
    #: Box of initial states, one (low, high) per state.
    box: tuple[tuple[float, float], ...]
    duration: float
    step: float
    group: str = "classic"

    def expressions(self) -> dict[str, sympy.Expr]:
        symbols = {s: sympy.Symbol(s) for s in self.states}
        return {s: sympy.sympify(r, locals=symbols) for s, r in zip(self.states, self.rhs)}


SYSTEMS: tuple[System, ...] = (
    System("Lotka-Volterra", ("x", "y"), ("x - x*y/2", "-3*y/2 + 3*x*y/4"),
           ((1, 3), (1, 3)), 10, 0.02),
    System("Lorenz", ("x", "y", "z"), ("10*y - 10*x", "28*x - x*z - y", "x*y - 8*z/3"),
           ((-10, 10), (-10, 10), (15, 35)), 5, 0.002),
    System("Van der Pol", ("x", "y"), ("y", "2*y - 2*x**2*y - x"), ((-2, 2), (-2, 2)), 15, 0.01),
    System("Duffing", ("x", "y"), ("y", "-y/10 - x - 5*x**3"), ((-1.5, 1.5), (-1.5, 1.5)), 15,
           0.01),
    System("damped oscillator", ("x", "y"), ("y", "-4*x - y/2"), ((-2, 2), (-2, 2)), 15, 0.01),
    System("bacterial respiration", ("x", "y"),
           ("20 - x - x*y/(1 + x**2/2)", "10 - x*y/(1 + x**2/2)"), ((1, 10), (1, 10)), 10,
           0.01, "strogatz"),
    System("bar magnets", ("theta1", "theta2"),
           ("sin(theta1 - theta2)/2 - sin(theta1)", "sin(theta2 - theta1)/2 - sin(theta2)"),
           ((-3, 3), (-3, 3)), 10, 0.01, "strogatz"),
    System("glider", ("v", "theta"), ("-v**2/20 - sin(theta)", "v - cos(theta)/v"),
           ((1, 4), (-1, 1)), 5, 0.005, "strogatz"),
    System("competing species", ("x", "y"), ("3*x - 2*x*y - x**2", "2*y - x*y - y**2"),
           ((0.2, 3), (0.2, 3)), 8, 0.01, "strogatz"),
    System("predator-prey", ("x", "y"), ("x*(4 - x - y/(1 + x))", "y*(x/(1 + x) - 3*y/40)"),
           ((0.5, 5), (0.5, 5)), 10, 0.01, "strogatz"),
    System("shear flow", ("theta", "phi"),
           ("cos(theta)/tan(phi)", "(cos(phi)**2 + sin(phi)**2/10)*sin(theta)"),
           ((-1, 1), (0.5, 2.5)), 3, 0.005, "strogatz"),
    System("stiff van der Pol", ("x", "y"), ("10*y - 10*(x**3/3 - x)", "-x/10"),
           ((-2, 2), (-2, 2)), 10, 0.002, "strogatz"),
    System("linear spiral", ("x", "y"), ("-x/10 + 2*y", "-2*x - y/10"), ((-2, 2), (-2, 2)),
           10, 0.01, "strogatz"),
    System("cubic oscillator", ("x", "y"), ("-x**3/10 + 2*y**3", "-2*x**3 - y**3/10"),
           ((-1.5, 1.5), (-1.5, 1.5)), 10, 0.01, "strogatz"),
    System("Selkov glycolysis", ("x", "y"), ("-x + y/10 + x**2*y", "1/2 - y/10 - x**2*y"),
           ((0.2, 2), (0.2, 2)), 20, 0.02, "strogatz"),
    System("Brusselator", ("x", "y"), ("1 - 4*x + x**2*y", "3*x - x**2*y"), ((0.5, 3), (0.5, 3)),
           10, 0.01, "strogatz"),
)


def generate(system: System, noise: float, seed: int, runs: int = 3) -> pd.DataFrame:
    """``runs`` trajectories of ``system`` from random starts in its box, with noise."""
    from scipy.integrate import solve_ivp

    rng = np.random.default_rng(seed)
    exprs = system.expressions()
    symbols = [sympy.Symbol(s) for s in system.states]
    f = sympy.lambdify(symbols, [exprs[s] for s in system.states], "numpy")
    t = np.arange(0.0, system.duration + system.step / 2, system.step)
    frames = []
    for run in range(runs):
        start = [rng.uniform(lo, hi) for lo, hi in system.box]
        path = solve_ivp(lambda _, z: f(*z), (0, t[-1]), start, t_eval=t, method="LSODA",
                         rtol=1e-10, atol=1e-10)
        if not path.success:
            raise RuntimeError(f"{system.name}: the simulation failed ({path.message})")
        frames.append(pd.DataFrame({"run": run, "t": t,
                                    **{s: path.y[i] for i, s in enumerate(system.states)}}))
    data = pd.concat(frames, ignore_index=True)
    for s in system.states:
        scale = float(np.sqrt(np.mean(data[s] ** 2)))
        data[s] = data[s] + rng.normal(0.0, noise * scale, len(data))
    return data


def _canonical(expr: sympy.Expr) -> sympy.Expr:
    """``expr`` expanded in one spelling: trig expanded (sin(x − y) is
    sin(x)cos(y) − cos(x)sin(y) in any library), tan and cot as sin/cos, and
    every sinᵏ (k ≥ 2) as (1 − cos²)·sinᵏ⁻²: the same law, written with the
    identity sin² + cos² = 1 either way, has the same terms."""
    expr = sympy.expand_trig(expr)
    expr = expr.replace(sympy.tan, lambda x: sympy.sin(x) / sympy.cos(x))
    expr = expr.replace(sympy.cot, lambda x: sympy.cos(x) / sympy.sin(x))
    expr = sympy.expand(expr)
    def squared(e: sympy.Expr) -> bool:
        return bool(e.is_Pow and isinstance(e.base, sympy.sin) and e.exp.is_Integer
                    and e.exp >= 2)

    while expr.find(squared):
        expr = sympy.expand(expr.replace(squared, lambda e: (1 - sympy.cos(e.base.args[0]) ** 2)
                                         * sympy.sin(e.base.args[0]) ** (e.exp - 2)))
    return expr


#: Stands for the inner constant q of a term ``f/(1 + q·g)``.
_Q = sympy.Symbol("q")


def _saturating(term: sympy.Expr) -> tuple[sympy.Expr, float, float] | None:
    """``f/(c + d·g)`` as (``f/(1 + q·g)``, the factor ``1/c``, ``q = d/c``); else None."""
    numerator, denominator = sympy.fraction(term)
    if not isinstance(denominator, sympy.Add):
        return None
    constant, rest = denominator.as_coeff_Add()
    d, g = rest.as_coeff_Mul()
    if constant == 0 or g.is_Add or g.is_Number:
        return None
    return numerator / (1 + _Q * g), 1.0 / float(constant), float(d) / float(constant)


def _terms(expr: sympy.Expr) -> tuple[dict[sympy.Expr, float], dict[sympy.Expr, float]]:
    """Additive terms of ``expr`` (in :func:`_canonical` spelling) with their
    coefficients, and the inner constant q of each term ``f/(1 + q·g)``.

    A term over ``1 + q·g`` is the same term whatever q, as a term's
    coefficient is: q is a fitted parameter of the law (the half-saturation
    constant of ``x/(K + x)``), scored by its error like a coefficient."""
    out: dict[sympy.Expr, float] = {}
    inner: dict[sympy.Expr, float] = {}
    for part in sympy.Add.make_args(_canonical(expr)):
        coef, term = part.as_coeff_Mul()
        if term == 1 and coef == 0:
            continue
        over = _saturating(term)
        if over is not None:
            term, factor, inner[over[0]] = over
            coef = coef * factor
        out[term] = out.get(term, 0.0) + float(coef)
    return out, inner


def score(found: dict[str, sympy.Expr], system: System) -> tuple[bool, float]:
    """(every equation has exactly the true terms, largest relative error of a
    coefficient or an inner constant)."""
    truth = system.expressions()
    same, worst = True, 0.0
    for state in system.states:
        (want, want_q), (got, got_q) = (_terms(truth[state]),
                                        _terms(found.get(state, sympy.Integer(0))))
        if set(want) != set(got):
            same = False
        for wanted, have in ((want, got), (want_q, got_q)):
            for term, value in wanted.items():
                worst = max(worst, abs(have.get(term, 0.0) - value) / abs(value))
    return same, worst


def run_ours(data: pd.DataFrame, system: System, seed: int) -> dict[str, Any]:
    from discovery.dynamics import discover_ode

    started = time.perf_counter()
    model = discover_ode(data, time="t", states=list(system.states), trajectory="run",
                         n_bootstrap=0, random_state=seed)
    seconds = time.perf_counter() - started
    symbols = {s: sympy.Symbol(s) for s in system.states}
    found = {s: sympy.sympify(str(e), locals=symbols) for s, e in model.rhs().items()}
    return {"found": {s: str(e) for s, e in found.items()}, "seconds": seconds,
            "verdicts": model.verdicts, "refit": model.info.get("refit"),
            **dict(zip(("recovered", "coef_error"), score(found, system)))}


#: STLSQ thresholds PySINDy is run with; a system counts as recovered by PySINDy
#: when any of them recovers it (a choice made knowing the truth: generous to it).
THRESHOLDS = (0.01, 0.05, 0.1)


def run_pysindy(data: pd.DataFrame, system: System, noise: float) -> dict[str, Any]:
    """PySINDy (degree-3 polynomials, STLSQ) at each of :data:`THRESHOLDS`; the
    threshold that recovers the system (else the default 0.1) is reported."""
    import pysindy as ps

    runs = [g for _, g in data.groupby("run")]
    x = [g[list(system.states)].to_numpy() for g in runs]
    t = [g["t"].to_numpy() for g in runs]
    symbols = {s: sympy.Symbol(s) for s in system.states}
    tried = []
    for threshold in THRESHOLDS:
        differentiation = ps.SmoothedFiniteDifference() if noise > 0 else ps.FiniteDifference()
        model = ps.SINDy(optimizer=ps.STLSQ(threshold=threshold),
                         feature_library=ps.PolynomialLibrary(degree=3),
                         differentiation_method=differentiation)
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(x, t=t, feature_names=list(system.states))
        seconds = time.perf_counter() - started
        features = [sympy.sympify(name.replace(" ", "*").replace("^", "**"), locals=symbols)
                    for name in model.get_feature_names()]
        found = {state: sympy.Add(*[sympy.Float(c, 6) * f for c, f in zip(row, features)
                                    if c != 0])
                 for state, row in zip(system.states, model.coefficients())}
        recovered, error = score(found, system)
        tried.append({"found": {s: str(e) for s, e in found.items()}, "seconds": seconds,
                      "threshold": threshold, "recovered": recovered, "coef_error": error})
    best = next((r for r in tried if r["recovered"]), tried[-1])
    return {**best, "recovered_at": [r["threshold"] for r in tried if r["recovered"]]}


def run_ode_benchmark(noises: Sequence[float], seeds: int = 1, out: Path | None = None,
                      names: Sequence[str] | None = None,
                      progress: bool = False) -> list[dict[str, Any]]:
    """Every system × noise × seed, ours and PySINDy's (where installed)."""
    try:
        import pysindy  # noqa: F401
        have_pysindy = True
    except ImportError:
        have_pysindy = False
    records = []
    systems = [s for s in SYSTEMS if names is None or s.name in names]
    for system in systems:
        for noise in noises:
            for seed in range(seeds):
                data = generate(system, noise, seed)
                record: dict[str, Any] = {"system": system.name, "group": system.group,
                                          "noise": noise, "seed": seed,
                                          "truth": dict(zip(system.states, system.rhs))}
                try:
                    record["ours"] = run_ours(data, system, seed)
                except Exception as exc:  # a failure is a result, not a crash
                    record["ours"] = {"error": repr(exc), "recovered": False,
                                      "coef_error": math.inf}
                if have_pysindy:
                    try:
                        record["pysindy"] = run_pysindy(data, system, noise)
                    except Exception as exc:
                        record["pysindy"] = {"error": repr(exc), "recovered": False,
                                             "coef_error": math.inf}
                records.append(record)
                if progress:
                    print(_line(record), flush=True)
                if out is not None:
                    out.mkdir(parents=True, exist_ok=True)
                    with open(out / "results.jsonl", "a") as handle:
                        handle.write(json.dumps(record, default=str) + "\n")
    return records


def _line(record: dict[str, Any]) -> str:
    ours, theirs = record["ours"], record.get("pysindy", {})
    return (f"{record['system']:22} noise {record['noise']:<5g} ours "
            f"{'yes' if ours.get('recovered') else 'no ':3} "
            f"({ours.get('seconds', math.nan):.1f} s)  pysindy "
            f"{'yes' if theirs.get('recovered') else 'no ':3}")


def summarise(records: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """One row per system and noise: recovered (ours, PySINDy), coefficient error, time."""
    rows = []
    for r in records:
        ours, theirs = r["ours"], r.get("pysindy", {})
        rows.append({"system": r["system"], "group": r["group"], "noise": r["noise"],
                     "ours": bool(ours.get("recovered")),
                     "ours coef err %": 100 * float(ours.get("coef_error", math.inf)),
                     "ours s": float(ours.get("seconds", math.nan)),
                     "pysindy": bool(theirs.get("recovered")) if theirs else None,
                     "pysindy coef err %": 100 * float(theirs.get("coef_error", math.inf))
                     if theirs else None,
                     "pysindy s": float(theirs.get("seconds", math.nan)) if theirs else None})
    return pd.DataFrame(rows)


def write_summary(records: Sequence[dict[str, Any]], out: Path) -> list[Path]:
    """``summary.md`` (the table, rates by group and noise) and ``summary.json``."""
    out.mkdir(parents=True, exist_ok=True)
    table = summarise(records)
    rates = table.groupby(["group", "noise"])[["ours", "pysindy"]].mean().mul(100).round(1)
    lost = table[(table["pysindy"] == True) & (table["ours"] == False)]  # noqa: E712
    text = ["# Dynamics: ours and PySINDy on the same trajectories", "",
            "Recovered: every equation has exactly the true terms.", "",
            "## Recovery rate (%)", "", _markdown(rates.reset_index()), "",
            "## Systems PySINDy recovers and we do not", "",
            "none" if lost.empty else _markdown(lost[["system", "noise"]]), "",
            "## Every run", "", _markdown(table)]
    paths = [out / "summary.md", out / "summary.json"]
    paths[0].write_text("\n".join(text) + "\n")
    paths[1].write_text(json.dumps({"rates": json.loads(rates.reset_index().to_json(
        orient="records")), "runs": json.loads(table.to_json(orient="records"))}, indent=2))
    return paths


def _markdown(table: pd.DataFrame) -> str:
    """A pipe table (no ``tabulate`` needed)."""
    def cell(value: object) -> str:
        if isinstance(value, float):
            return f"{value:.3g}"
        return str(value)

    lines = ["| " + " | ".join(map(str, table.columns)) + " |",
             "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |"
              for row in table.itertuples(index=False)]
    return "\n".join(lines)
