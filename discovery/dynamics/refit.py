"""The output-error refit: coefficients fitted to the measured trajectories."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import sympy

from basis_library import as_symbols

from ..model import Model, ModelTerm
from ..routes.base import RouteKind
from ..stats.noise import noise_variance
from ..stats.tests import lr_allowance
from .model import OdeModel
from .runs import smoothed_start, with_velocities
from .saturated import Saturated

__all__ = ["trajectory_refit"]

#: Relative RMS simulation error under which ``refine=None`` refits on trajectories.
_TRACKS = 0.1
#: Terms a round of the trajectory refit's backward elimination refits without.
_TRIALS = 2
#: The least noise a state is weighted by, as a share of its largest magnitude:
#: ten times the trajectory refit's relative integration tolerance (1e-7).
_NOISE_FLOOR = 1e-6


def trajectory_refit(system: OdeModel, runs: list[pd.DataFrame],
                     constants: Mapping[str, float], level: float, required: bool = False,
                     inner: Mapping[str, Saturated] | None = None) -> OdeModel | None:
    """The system with its equations' coefficients refitted to the measured states.

    Output-error least squares (Ljung 1999, ch. 7; the "trajectory matching"
    of parameter estimation in ODEs): every coefficient of the searched
    equations and every run's initial state are fitted so that the
    simulated trajectories match the measured ones, each state weighted by
    its noise (estimated from local cubic residuals). Terms are then dropped
    one at a time by likelihood-ratio tests (:func:`_eliminate`). Closed forms
    are then claimed only by :func:`~discovery.symbolic.snap.snap_parameters`,
    and intervals are Student-t intervals from the fit's Jacobian
    (:func:`_refitted_equations`). A saturating denominator's q (``inner``) is
    fitted with the coefficients, while a term over it is left. None where an
    equation is not a library fit, the start does not follow the data
    (``required`` false) or the fit fails.

    The steps: compile the right-hand side (:func:`_compile`), simulate and
    weigh each run (:class:`_Trajectories`), fit every parameter
    (:meth:`_Trajectories.refit`), eliminate terms, snap, intervals.
    """
    from ..symbolic.snap import snap_parameters

    if any(RouteKind.of(m) is not RouteKind.LIBRARY for m in system.equations.values()):
        return None
    layout = _compile(system, {s: v for s, v in (inner or {}).items() if s in system.equations})
    fit = _Trajectories.of(system, layout, runs)
    if fit is None:
        return None
    theta0 = np.concatenate([layout.start, *fit.starts])
    first = fit.residual(theta0)
    rows = len(first)
    if not required and not fit.tracked(first) <= _TRACKS:
        return None
    free = list(range(len(theta0)))
    fitted = fit.refit(theta0, free, rows)
    if fitted is None or not fitted[1] < float(first @ first):
        return None
    free, (base, rss, se_free) = _eliminate(fit, layout, free, fitted, rows)
    position = {i: j for j, i in enumerate(free)}
    snapped, q, rss = snap_parameters(fit.on_free(base, free), base[free], rss, se_free,
                                      constants, 0.0, rows,
                                      keep=lambda j: free[j] < layout.k_all)
    values = base.copy()
    values[free] = q
    se = np.full(len(values), np.nan)
    se[free] = se_free
    exprs: list[sympy.Expr | None] = [None] * len(values)
    for i in free:
        exprs[i] = snapped[position[i]]
    dof = rows - len(free)
    equations = _refitted_equations(system, layout, values, se, exprs, free, dof, level)
    final = fit.residual(values)
    kept = [i for i in free if i < layout.k]
    verdict = _trajectory_verdict(final, [len(run) * len(fit.measured) for run in fit.prepared],
                                  len(fit.measured), dof, values[kept], se[kept])
    if verdict is not None:
        equations = {s: _with_verdict(m, verdict) for s, m in equations.items()}
    info = {**system.info, "refit": "trajectories",
            "refit_rms": float(np.sqrt(rss / rows)), "noise": fit.noise}
    return replace(system, equations=equations, info=info)


@dataclass(frozen=True)
class _Layout:
    """The searched equations' parameters in one vector: their coefficients (in
    equation and term order, ``k`` of them), then the saturating denominators'
    q (``k_all`` in all), and the right-hand side compiled over them."""

    searched: list[str]
    inner: Mapping[str, Saturated]
    inner_states: list[str]
    #: The index of each q, and the indices of the coefficients of the terms over it.
    over: dict[int, list[int]]
    start: np.ndarray
    k: int
    k_all: int
    compiled: Callable[..., list[float]]


def _compile(system: OdeModel, inner: Mapping[str, Saturated]) -> _Layout:
    """The whole right-hand side as one compiled function of the states, controls,
    coefficients and q: the integrator calls it thousands of times a run."""
    from basis_library import compile_scalar

    searched = list(system.equations)
    names = [*system.states, *system.controls]
    symbols = as_symbols(names)
    index = {s: i for i, s in enumerate(system.states)}
    start_coef = np.array([t.coefficient for state in searched
                           for t in system.equations[state].terms])
    k = len(start_coef)
    inner_states = list(inner)
    over: dict[int, list[int]] = {}
    weights = sympy.symbols(f"_c0:{k}")
    rhs_exprs, at = [], 0
    for state in system.states:
        if state in system.kinematics:
            rhs_exprs.append(symbols[index[system.kinematics[state]]])
            continue
        terms = system.equations[state].terms
        written = [t.term for t in terms]
        if state in inner:
            written = [inner[state].terms.get(t, t) for t in written]
            over[k + inner_states.index(state)] = [
                at + j for j, t in enumerate(terms) if t.term in inner[state].terms]
        rhs_exprs.append(sympy.Add(*[w * t for w, t in
                                     zip(weights[at:at + len(terms)], written)]))
        at += len(terms)
    q_symbols = [inner[s].symbol for s in inner_states]
    compiled = compile_scalar([*symbols, *weights, *q_symbols], rhs_exprs)
    start = np.concatenate([start_coef, [inner[s].value for s in inner_states]])
    return _Layout(searched, inner, inner_states, over, start, k, k + len(q_symbols), compiled)


@dataclass(frozen=True)
class _Trajectories:
    """The runs the refit matches (velocities estimated for ``order=2``), each
    measured state's noise and each run's smoothed start: simulation and the
    weighted residual of a parameter vector (the layout's, then every run's
    initial state)."""

    system: OdeModel
    layout: _Layout
    prepared: list[pd.DataFrame]
    measured: list[str]
    noise: dict[str, float]
    starts: list[np.ndarray]

    @classmethod
    def of(cls, system: OdeModel, layout: _Layout, runs: list[pd.DataFrame]
           ) -> _Trajectories | None:
        measured = [s for s in system.states if s not in system.kinematics.values()]
        prepared = [with_velocities(run, system.time, system.kinematics, "auto") for run in runs]
        noise = {s: _noise_level(prepared, system.time, s) for s in measured}
        if not all(np.isfinite(v) and v > 0 for v in noise.values()):
            return None
        starts = [np.array([float(smoothed_start(run, system.time, s)) for s in system.states])
                  for run in prepared]
        return cls(system, layout, prepared, measured, noise, starts)

    def simulate(self, coef: np.ndarray, x0: np.ndarray, run: pd.DataFrame
                 ) -> np.ndarray | None:
        """The states along ``run``'s times from ``x0`` (states × times), or None."""
        from scipy.integrate import odeint

        system, compiled = self.system, self.layout.compiled
        t = run[system.time].to_numpy(dtype=float)
        u = [run[c].to_numpy(dtype=float) for c in system.controls]
        c = [float(v) for v in coef]

        def rhs(x: np.ndarray, time: float) -> list[float]:
            try:
                return compiled(*x, *(np.interp(time, t, v) for v in u), *c)
            except (OverflowError, ValueError, ZeroDivisionError):
                return [math.nan] * len(x)

        # odeint (LSODA's own loop) rather than solve_ivp: a tenth of the
        # overhead a step, and the refit integrates every run many times.
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            path, report = odeint(rhs, x0, t, rtol=1e-7, atol=1e-9, full_output=True,
                                  mxstep=20_000)
        if report.get("message") != "Integration successful." or not np.all(np.isfinite(path)):
            return None
        return path.T

    def residual(self, theta: np.ndarray) -> np.ndarray:
        """Every run's measured states minus the simulation, in noise units."""
        k_all, n_states = self.layout.k_all, len(self.system.states)
        index = {s: i for i, s in enumerate(self.system.states)}
        coef = theta[:k_all]
        parts = []
        for r, run in enumerate(self.prepared):
            x0 = theta[k_all + r * n_states:k_all + (r + 1) * n_states]
            path = self.simulate(coef, x0, run)
            for s in self.measured:
                data = run[s].to_numpy(dtype=float)
                value = (path[index[s]] if path is not None
                         else np.full(len(data), 1e6 * self.noise[s]))
                parts.append((value - data) / self.noise[s])
        return np.concatenate(parts)

    def tracked(self, first: np.ndarray) -> float:
        """The start's relative RMS simulation error (``first`` its residual)."""
        return float(np.sqrt(np.mean(first**2))) * float(np.mean(
            [self.noise[s] / self._scale(s) for s in self.measured]))

    def _scale(self, state: str) -> float:
        return float(np.sqrt(np.mean(np.concatenate(
            [run[state].to_numpy(dtype=float) for run in self.prepared]) ** 2)))

    def on_free(self, base: np.ndarray, free: list[int]) -> Callable[[np.ndarray], np.ndarray]:
        """:meth:`residual` of the ``free`` parameters, the others held at ``base``."""
        def of(q: np.ndarray) -> np.ndarray:
            theta = base.copy()
            theta[free] = q
            return self.residual(theta)

        return of

    def refit(self, base: np.ndarray, free: list[int], rows: int
              ) -> tuple[np.ndarray, float, np.ndarray] | None:
        """The ``free`` parameters fitted from ``base``: values, RSS, standard errors."""
        from scipy.optimize import least_squares

        from ..stats.nls import standard_errors

        try:
            fit = least_squares(self.on_free(base, free), base[free], method="trf",
                                x_scale="jac", max_nfev=200)
        except (ValueError, np.linalg.LinAlgError):
            return None
        if not np.all(np.isfinite(fit.x)):
            return None
        theta = base.copy()
        theta[free] = fit.x
        rss = float(fit.fun @ fit.fun)
        return theta, rss, standard_errors(fit.jac, rss, rows)


def _eliminate(fit: _Trajectories, layout: _Layout, free: list[int],
               fitted: tuple[np.ndarray, float, np.ndarray], rows: int
               ) -> tuple[list[int], tuple[np.ndarray, float, np.ndarray]]:
    """Backward elimination on the trajectories (a likelihood-ratio test by refits).

    Each round refits the system without each of the :data:`_TRIALS` weakest
    terms by their Wald ratio and drops the one whose removal costs least,
    while that cost is below the 99% quantile of χ²(1) in noise variances. The
    equation-error fit may keep a term that noise in its regressors bought
    (errors in variables); the data's own likelihood has no such bias. A refit
    without a term may also leave a poorer local optimum of the trajectories
    (oscillators' phases), which a Wald test of the coefficient would not see.
    """

    k = layout.k
    base, rss, se_free = fitted
    while any(i < k for i in free):
        trials = []
        # The two weakest by their Wald ratio are refitted without (each refit
        # integrates every run many times; the strongest terms are not in doubt).
        wald = sorted((abs(base[i]) / max(e, 1e-300), i) for i, e in zip(free, se_free) if i < k)
        for _, i in wald[:_TRIALS]:
            start = base.copy()
            start[i] = 0.0
            smaller = [j for j in free if j != i]
            # A q with no term left over it is no parameter of the law.
            smaller = [j for j in smaller
                       if j not in layout.over or set(layout.over[j]) & set(smaller)]
            tried = fit.refit(start, smaller, rows)
            if tried is not None:
                trials.append((tried[1], i, smaller, tried))
        if not trials:
            break
        cost, _, smaller, tried = min(trials, key=lambda trial: trial[0])
        if cost - rss > lr_allowance(1, noise_variance(rss, rows - len(free))):
            break
        free, (base, rss, se_free) = smaller, tried
    return free, (base, rss, se_free)


def _refitted_equations(system: OdeModel, layout: _Layout, values: np.ndarray, se: np.ndarray,
                        exprs: list[sympy.Expr | None], free: list[int], dof: int,
                        level: float) -> dict[str, Model]:
    """Each searched equation with its refitted (or snapped) coefficients, its
    Student-t intervals, and the terms the elimination dropped left out."""
    from ..stats.intervals import t_interval

    k, inner = layout.k, layout.inner
    dropped = set(range(k)) - set(free)
    low, high = t_interval(values[:k], se[:k], dof, level)
    equations = dict(system.equations)
    at = 0
    for state in layout.searched:
        model = system.equations[state]
        refitted: list[ModelTerm] = []
        # The terms over a saturating denominator, with q as refitted (or closed).
        numeric: dict[sympy.Expr, sympy.Expr] = {}
        saturation: dict[str, Any] = {}
        if state in inner:
            i = k + layout.inner_states.index(state)
            value = exprs[i] if i in free else None
            q_value = value if value is not None else sympy.Float(values[i], 15)
            numeric = {t: w.xreplace({inner[state].symbol: q_value})
                       for t, w in inner[state].terms.items()}
            if value is not None:
                saturation = {"saturation": {
                    **model.info.get("saturation", {}), "q": float(values[i]),
                    "q_std_error": float(se[i]),
                    "q_closed_form": None if isinstance(value, sympy.Float) else str(value)}}
        for j, term in enumerate(model.terms):
            i = at + j
            if i in dropped:
                continue
            closed = exprs[i] if not isinstance(exprs[i], sympy.Float) else None
            refitted.append(replace(term, term=numeric.get(term.term, term.term),
                                    coefficient=float(values[i]),
                                    std_error=float(se[i]), closed_form=closed,
                                    consistent_with=None,
                                    interval=(float(low[i]), float(high[i]))))
        at += len(model.terms)
        expression = sympy.Add(*[(t.closed_form if t.closed_form is not None
                                  else sympy.Float(t.coefficient, 15)) * t.term for t in refitted])
        equations[state] = model.updated(
            expression=expression, terms=refitted,
            info={"refit": "trajectories", **saturation,
                  "dropped_by_refit": [str(model.terms[j].term) for j in range(len(model.terms))
                                       if at - len(model.terms) + j in dropped]},
            uncertainty={"level": level, "interval": "Student-t from the trajectory refit's "
                         "Jacobian", "dof": dof})
    return equations


def _trajectory_verdict(residual: np.ndarray, sizes: list[int], n_measured: int, dof: int,
                        coef: np.ndarray, se: np.ndarray) -> dict[str, Any] | None:
    """``law`` for every equation where the refitted system's trajectories match the
    data to the noise: the residuals (in noise units) pass a χ² test of their
    size at 0.1% and their lag-one autocorrelation along time is below 0.1
    (white, not a missing term's drift), and every coefficient is at least
    3 standard errors from 0; else None (each equation keeps its verdict)."""
    from scipy import stats

    rss = float(residual @ residual)
    if rss > float(stats.chi2.ppf(0.999, max(dof, 1))):
        return None
    lagged, total = 0.0, 0.0
    at = 0
    for size in sizes:
        part = residual[at:at + size].reshape(n_measured, -1)
        at += size
        lagged += float(np.sum(part[:, 1:] * part[:, :-1]))
        total += float(np.sum(part**2))
    correlation = lagged / total if total > 0 else 0.0
    if correlation >= 0.1 or not np.all(np.abs(coef) >= 3 * se):
        return None
    return {"status": "law",
            "reasons": [f"the simulated trajectories match the measured states to the noise "
                        f"(χ²/dof = {noise_variance(rss, dof):.3f}, lag-one autocorrelation "
                        f"{correlation:.2f}) and every coefficient is at least 3 standard "
                        "errors from 0"],
            "evidence": {"chi2_per_dof": noise_variance(rss, dof),
                         "lag1_autocorrelation": correlation, "samples": int(len(residual))}}


def _with_verdict(model: Model, verdict: Mapping[str, Any]) -> Model:
    """``model`` with ``verdict`` in place of its own, the equation-error verdict kept
    in ``info``."""
    return model.updated(info={"equation_error_verdict": model.verdict}, verdict=verdict)


def _noise_level(runs: list[pd.DataFrame], time: str, state: str) -> float:
    """The measurement noise of ``state``: RMS residual of the cross-validated
    local cubic smoother (:func:`~discovery.dynamics.derivatives._gcv_window`),
    corrected for its leverage, over all runs; at least :data:`_NOISE_FLOOR` of
    the state's largest magnitude, what the integrator resolves (noise-free,
    weights finer than its error make the refit chase the integration error)."""
    from .derivatives import smoother_residual

    squares, count = 0.0, 0.0
    for run in runs:
        x = run[state].to_numpy(dtype=float)
        t = run[time].to_numpy(dtype=float)
        if len(t) < 9:
            continue
        run_squares, run_count = smoother_residual(x, t)
        squares += run_squares
        count += run_count
    value = math.sqrt(squares / count) if count > 0 else math.nan
    return max(value, _NOISE_FLOOR * max(float(np.max(np.abs(np.concatenate(
        [r[state].to_numpy(dtype=float) for r in runs])))), 1e-300))
