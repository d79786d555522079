"""Laws of motion from trajectories: ``dx/dt = f(x, u)``, found, checked and simulated.

:func:`discover_ode` runs the same engine as :func:`discovery.discover` on each
state's rate of change, one trajectory at a time and never across two: a
library of candidate terms, best-subset search, honest constants and a verdict
per equation. This is SINDy (Brunton, Proctor & Kutz 2016) with the engine's
selection in place of a fixed threshold, fitted by default in its weak
(integral) form (Messenger & Bortz 2021), or on estimated derivatives
(:mod:`discovery.dynamics.derivatives`). Where the fitted system follows the data, its
coefficients are refitted on the trajectories themselves (the output-error
method), with likelihood-ratio elimination and Jacobian intervals; otherwise
intervals come from a moving-block bootstrap of each trajectory's rows (Künsch
1989), since rows along a trajectory are correlated. The result, an
:class:`OdeModel`, prints the system, writes LaTeX and JSON, and simulates
(``scipy.integrate.solve_ivp``) for comparison with held-out runs.
"""

from __future__ import annotations

import json
import math
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sympy

from basis_library import Library, as_symbols, monomials
from basis_library.generators import angle_named

from .._data import read_table
from .._frozen import freeze, thaw
from ..errors import DataError, ParseError
from ..model import Model, ModelTerm
from .derivatives import check_method, derivatives, trusted_rows

__all__ = ["FORMAT", "OdeModel", "discover_ode", "load_ode", "ode_library", "write_ode_report"]

#: The ``format`` of a saved :class:`OdeModel`.
FORMAT = "discovery-ode/1"
#: Largest total degree of the default library's monomials, by number of variables.
_DEGREE = ((3, 3), (6, 2))


def ode_library(states: Sequence[str], controls: Sequence[str] = (), *,
                norms: Sequence[Sequence[str]] = (), angles: Sequence[str] = (),
                one_signed: Sequence[str] = ()) -> Library:
    """The default library of right-hand sides.

    Monomials of the states and controls (degree 3 up to three variables, else 2
    up to six, else 1); ``sin`` and ``cos`` of each state in ``angles``, the
    products of first harmonics of two of them (``sin(x)·cos(y)``: a coupling
    ``sin(x − y)`` is a sum of two) and of one with each other variable
    (``v·sin θ``); for each variable in ``one_signed`` (one that keeps its
    sign, away from 0, on the data) its reciprocal and the angles' harmonics
    over it (``1/v``, ``cos θ/v``: a glider's ``θ' = v − cos θ/v``), and for an
    angle's ``sin`` or ``cos`` there (``"sin(phi)"``) the same with the other
    harmonic of that angle (``cot φ``, ``cos θ·cot φ``); and for each pair
    ``a, b`` within a group of ``norms`` the terms ``sqrt(a² + b²)·a`` and
    ``sqrt(a² + b²)·b`` (quadratic drag of a velocity, ``−k|v|vₓ``; a central
    force's ``r·x``).
    :func:`discover_ode` takes as angles the states named like angles (or
    given as ``angles``) and, for a second-order system, the velocities and
    the positions as the norm groups; a first-order system has no norm terms
    unless given.

    Examples
    --------
    >>> lib = ode_library(["vx", "vy"], norms=[["vx", "vy"]])
    >>> "vx*sqrt(vx**2 + vy**2)" in lib.names, "vx*vy**2" in lib.names
    (True, True)
    >>> "sin(x)*cos(y)" in ode_library(["x", "y"], angles=["x", "y"]).names
    True
    >>> "cos(theta)/v" in ode_library(["v", "theta"], angles=["theta"], one_signed=["v"]).names
    True
    """
    names = [*states, *controls]
    degree = next((d for limit, d in _DEGREE if len(names) <= limit), 1)
    library = monomials(names, degree)
    symbols = dict(zip(names, as_symbols(names)))
    harmonics = (sympy.sin, sympy.cos)
    extra: list[sympy.Expr] = [f(symbols[a]) for a in angles for f in harmonics]
    for i, a in enumerate(angles):
        for b in angles[i + 1:]:
            extra += [f(symbols[a]) * h(symbols[b]) for f in harmonics for h in harmonics]
    others = [n for n in names if n not in angles]
    extra += [symbols[o] * f(symbols[a]) for a in angles for o in others for f in harmonics]
    for name in one_signed:
        u = sympy.sympify(name, locals=symbols)
        if u in (symbols[n] for n in others):
            extra += [1 / u] + [f(symbols[a]) / u for a in angles for f in harmonics]
        elif isinstance(u, (sympy.sin, sympy.cos)) and str(u.args[0]) in angles:
            # cot, csc and their products with another angle's harmonics
            # (a shear flow's cos θ·cot φ)
            a = u.args[0]
            other = sympy.cos(a) if isinstance(u, sympy.sin) else sympy.sin(a)
            extra += [1 / u, other / u] + [h(symbols[b]) * q / u for b in angles
                                           if symbols[b] != a for h in harmonics
                                           for q in (1, other)]
    for group in norms:
        group = list(group)
        for i, a in enumerate(group):
            for b in group[i + 1:]:
                size = sympy.sqrt(symbols[a] ** 2 + symbols[b] ** 2)
                extra += [size * symbols[a], size * symbols[b]]
    if extra:
        library = library + Library(extra, spec="trig and norms")
    library.spec = f"ode({', '.join(names)})"
    return library


@dataclass(frozen=True)
class OdeModel:
    """A discovered system ``d(state)/dt = f(states, controls)``.

    Attributes
    ----------
    equations
        Each state's right-hand side as a :class:`~discovery.Model` (its
        terms, intervals, verdict and LaTeX), for the states whose law was
        searched; for a second-order system, the velocities'.
    states
        Every state of the system in order: the measured ones, then (for
        ``order=2``) their velocities.
    kinematics
        For ``order=2``: each position's velocity (``{"x": "vx"}`` is
        ``dx/dt = vx``), which holds by construction and is not searched.
    controls
        Inputs that drive the system but have no equation of their own.
    time
        The time column's name.
    info
        How the fit was made: derivative method, rows, trajectories, order.
    """

    equations: Mapping[str, Model]
    states: tuple[str, ...]
    controls: tuple[str, ...] = ()
    kinematics: Mapping[str, str] = field(default_factory=dict)
    time: str = "t"
    info: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Built once, like its Models: the mappings are read-only too.
        for name in ("equations", "kinematics", "info"):
            object.__setattr__(self, name, freeze(getattr(self, name)))

    # --- views ---------------------------------------------------------------

    def rhs(self, numeric: bool = True) -> dict[str, sympy.Expr]:
        """Each state's right-hand side (named constants replaced by their
        values when ``numeric``), kinematic ones included."""
        symbols = dict(zip(self.states, as_symbols(list(self.states))))
        out: dict[str, sympy.Expr] = {}
        for state in self.states:
            if state in self.kinematics:
                out[state] = symbols[self.kinematics[state]]
            else:
                model = self.equations[state]
                out[state] = model.numeric_expression if numeric else model.expression
        return out

    @property
    def verdicts(self) -> dict[str, str]:
        """Each searched equation's verdict status (``law``, ``approximation``, ``none``)."""
        return {s: str(m.verdict.get("status", "")) for s, m in self.equations.items()}

    def __str__(self) -> str:
        return "\n".join(f"d{s}/dt = {e}" for s, e in self.rhs(numeric=False).items())

    def __repr__(self) -> str:
        return f"OdeModel({'; '.join(str(self).splitlines())})"

    def latex(self) -> str:
        r"""The system as one LaTeX ``aligned`` block, ``\dot{x} &= …`` a line."""
        lines = []
        for state, expr in self.rhs(numeric=False).items():
            name = sympy.latex(sympy.Symbol(state))
            if state in self.kinematics:
                body = sympy.latex(expr)
            else:
                body = self.equations[state].latex()
            lines.append(rf"\dot{{{name}}} &= {body}")
        return "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"

    # --- use -----------------------------------------------------------------

    def _function(self) -> Callable[..., np.ndarray]:
        names = [*self.states, *self.controls]
        rhs = self.rhs()
        f = sympy.lambdify(as_symbols(names), [rhs[s] for s in self.states], "numpy")

        def evaluate(*values: np.ndarray) -> np.ndarray:
            with np.errstate(all="ignore"):
                out = f(*values)
            shape = np.broadcast(*values).shape if values else ()
            return np.stack([np.broadcast_to(np.asarray(v, dtype=float), shape) for v in out])

        return evaluate

    def predict(self, data: object) -> pd.DataFrame:
        """The time derivative of every state at each row of ``data`` (which holds
        the states, velocities for ``order=2``, and controls by name)."""
        frame = _frame(data)
        missing = [c for c in (*self.states, *self.controls) if c not in frame.columns]
        if missing:
            raise DataError(f"predict needs the columns {', '.join(missing)}; the data has "
                            f"{', '.join(map(str, frame.columns))}.")
        values = [frame[c].to_numpy(dtype=float) for c in (*self.states, *self.controls)]
        out = self._function()(*values)
        return pd.DataFrame({f"d{s}/dt": out[i] for i, s in enumerate(self.states)},
                            index=frame.index)

    def simulate(self, x0: Mapping[str, float] | Sequence[float] | np.ndarray,
                 t: Sequence[float] | np.ndarray, *,
                 controls: object = None, rtol: float = 1e-8, atol: float = 1e-10
                 ) -> pd.DataFrame:
        """Integrate the system from ``x0`` over the times ``t`` (``solve_ivp``, LSODA).

        Parameters
        ----------
        x0
            Initial state: a mapping of state name to value, or values in
            :attr:`states` order (velocities included for ``order=2``).
        t
            Increasing times; the first is the initial time.
        controls
            For a controlled system: a callable ``u(t) -> values`` in
            :attr:`controls` order, or a mapping of control name to values at
            ``t`` (interpolated linearly between them).

        Returns
        -------
        DataFrame
            The time column and every state; rows after a failure (the
            solution blew up) are NaN, with a warning.
        """
        from scipy.integrate import solve_ivp

        times = np.asarray(t, dtype=float)
        if times.ndim != 1 or len(times) < 2 or not np.all(np.diff(times) > 0):
            raise DataError("simulate needs at least two strictly increasing times.")
        if isinstance(x0, Mapping):
            missing = [s for s in self.states if s not in x0]
            if missing:
                raise DataError(f"x0 lacks {', '.join(missing)}; the states are "
                                f"{', '.join(self.states)}.")
            start = np.array([float(x0[s]) for s in self.states])
        else:
            start = np.asarray(x0, dtype=float)
            if start.shape != (len(self.states),):
                raise DataError(f"x0 needs {len(self.states)} values "
                                f"({', '.join(self.states)}), got {start.shape}.")
        u = _control_function(controls, self.controls, times)
        f = self._function()

        def rhs(time: float, x: np.ndarray) -> np.ndarray:
            return f(*x, *u(time))

        with np.errstate(all="ignore"):
            solution = solve_ivp(rhs, (times[0], times[-1]), start, t_eval=times,
                                 method="LSODA", rtol=rtol, atol=atol)
        values = np.full((len(times), len(self.states)), np.nan)
        got = solution.y.T
        values[: len(got)] = got
        if not solution.success or len(got) < len(times):
            stopped = solution.t[-1] if len(solution.t) else times[0]
            warnings.warn(f"The simulation stopped at t = {stopped:.4g}: {solution.message}",
                          RuntimeWarning, stacklevel=2)
        frame = pd.DataFrame(values, columns=list(self.states))
        frame.insert(0, self.time, times)
        return frame

    def simulation_error(self, data: object, trajectory: str | None = None) -> dict[str, float]:
        """RMS error of each measured state between ``data``'s trajectories and
        the system simulated from a start fitted to each (the law held fixed;
        from the local cubic's value at the first time, velocities for
        ``order=2`` from the data's derivatives), relative to that state's RMS.
        Measurement noise of a fraction f of the RMS gives about f."""
        frame = _frame(data)
        return self._errors(frame, self._fitted_simulations(frame, trajectory))

    def _measured(self) -> list[str]:
        """The states that are measured (not a second-order system's velocities)."""
        return [s for s in self.states if s not in self.kinematics.values()]

    def _scales(self, frame: pd.DataFrame) -> dict[str, float]:
        """Each measured state's RMS over ``frame`` (1 where it is 0)."""
        return {s: float(np.sqrt(np.mean(frame[s].to_numpy(dtype=float) ** 2))) or 1.0
                for s in self._measured()}

    def _fitted_simulations(self, frame: pd.DataFrame, trajectory: str | None
                            ) -> list[tuple[pd.DataFrame, pd.DataFrame]]:
        """Each run of ``frame`` (velocities estimated for ``order=2``) and the system
        simulated from a start fitted to it, the law held fixed: a noisy first
        sample or velocity estimate would be an error of the start, not of the law."""
        from scipy.optimize import least_squares

        measured, scale = self._measured(), self._scales(frame)
        out = []
        for run in _runs(frame, self.time, trajectory):
            prepared = _with_velocities(run, self.time, self.kinematics,
                                        str(self.info.get("derivative", "auto")))
            controls = {c: prepared[c].to_numpy(dtype=float) for c in self.controls}
            t = prepared[self.time].to_numpy(dtype=float)
            data = np.concatenate([prepared[s].to_numpy(dtype=float) / scale[s]
                                   for s in measured])

            def simulate(x0: np.ndarray, t: np.ndarray = t,
                         controls: dict[str, np.ndarray] = controls) -> pd.DataFrame:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    return self.simulate(x0, t, controls=controls or None, rtol=1e-6,
                                         atol=1e-8)

            def misfit(x0: np.ndarray, data: np.ndarray = data,
                       simulate: Callable[[np.ndarray], pd.DataFrame] = simulate) -> np.ndarray:
                simulated = simulate(x0)
                value = np.concatenate([simulated[s].to_numpy() / scale[s] for s in measured])
                return np.nan_to_num(value - data, nan=1e3)

            start = np.array([_smoothed_start(prepared, self.time, s) for s in self.states])
            found = least_squares(misfit, start, max_nfev=30).x
            out.append((prepared, simulate(found)))
        return out

    def _errors(self, frame: pd.DataFrame,
                simulations: list[tuple[pd.DataFrame, pd.DataFrame]]) -> dict[str, float]:
        """:meth:`simulation_error` of :meth:`_fitted_simulations`' runs: the mean over
        runs of each measured state's RMS error relative to its RMS over ``frame``."""
        scale = self._scales(frame)

        def error(run: pd.DataFrame, simulated: pd.DataFrame, state: str) -> float:
            miss = (simulated[state].to_numpy() - run[state].to_numpy(dtype=float)) / scale[state]
            return float(np.sqrt(np.mean(np.nan_to_num(miss, nan=1e3) ** 2)))

        return {s: float(np.mean([error(run, simulated, s) for run, simulated in simulations]))
                if simulations else math.nan for s in self._measured()}

    # --- serialisation -------------------------------------------------------

    def to_dict(self) -> dict[str, object]:
        """JSON-ready: ``equations`` (each state's right-hand side as text over the
        state and control names), per-equation terms, verdicts and intervals."""
        rhs = self.rhs()
        return {
            "format": FORMAT,
            "time": self.time,
            "states": list(self.states),
            "controls": list(self.controls),
            "kinematics": thaw(self.kinematics),
            "equations": {s: str(e) for s, e in rhs.items()},
            "verdicts": self.verdicts,
            "models": {s: m.to_dict() for s, m in self.equations.items()},
            "info": thaw(self.info),
        }

    def to_json(self) -> str:
        from ..model import json_default

        return json.dumps(self.to_dict(), indent=2, default=json_default) + "\n"

    def save(self, path: str | Path) -> Path:
        """Write the system as JSON; :func:`load_ode` reads it back without eval."""
        path = Path(path)
        path.write_text(self.to_json())
        return path

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OdeModel:
        if data.get("format") != FORMAT:
            raise ParseError(f"Not a saved system: format is {data.get('format')!r}, "
                             f"expected {FORMAT!r}.")
        try:
            return cls(equations={str(s): Model.from_dict(m) for s, m in data["models"].items()},
                       states=tuple(str(s) for s in data["states"]),
                       controls=tuple(str(c) for c in data.get("controls") or ()),
                       kinematics={str(k): str(v) for k, v in
                                   dict(data.get("kinematics") or {}).items()},
                       time=str(data.get("time", "t")), info=dict(data.get("info") or {}))
        except (KeyError, TypeError, AttributeError) as exc:
            raise ParseError(f"The saved system is incomplete or malformed: {exc!r}.") from exc


def load_ode(path: str | Path) -> OdeModel:
    """Load a system saved by :meth:`OdeModel.save`. Never executes code from the file."""
    from ..model import read_json_object

    return OdeModel.from_dict(read_json_object(path, "system file"))


# --- discovery ----------------------------------------------------------------

def discover_ode(data: object, time: str = "t", states: Sequence[str] | None = None, *,
                 trajectory: str | None = None, controls: Sequence[str] = (),
                 order: int = 1, velocities: Sequence[str] | None = None,
                 angles: Sequence[str] | None = None,
                 derivative: str = "auto", weak: bool | None = None,
                 basis: Library | Sequence[str] | None = None,
                 refine: bool | None = None,
                 constants: Mapping[str, float] | None = None, n_bootstrap: int = 200,
                 confidence: float = 0.95, random_state: int | None = 0,
                 **options: Any) -> OdeModel:
    """Find ``d(state)/dt = f(states, controls)`` from sampled trajectories.

    Parameters
    ----------
    data
        A DataFrame, CSV/Parquet path or mapping of columns: the time, the
        states, optional controls and an optional trajectory column.
    time, states
        The time column and the state columns (default: every column but
        time, trajectory and controls).
    trajectory
        A column naming the run each row belongs to: derivatives are
        estimated within each run, never across two.
    controls
        Columns that drive the system (forcing, inputs); they enter the
        library but get no equation.
    order
        1: first-order system in the states. 2: the states are positions
        whose accelerations are the law (``d²x/dt² = f(x, ẋ, u)``); their
        velocities, estimated from the data, become states too.
    velocities
        Names of the velocities for ``order=2`` (default ``v`` + state name).
    angles
        States that are angles: their sin, cos and the products of first
        harmonics of two of them join the library. Default: the states named
        like angles (theta, phi, psi, alpha, ... with any number after).
        Values alone do not decide it: a state within [−2π, 2π] that is not
        an angle would get sin(x) as a rival of x − x³/6.
    derivative
        How derivatives (and, for ``order=2``, velocities) are estimated: one
        of ``"auto"``, ``"finite_difference"``, ``"savgol"``, ``"spline"``
        (:mod:`discovery.dynamics.derivatives`). Naming one other than ``"auto"``
        fits estimated derivatives unless ``weak=True``.
    weak
        Fit the weak (integral) form (:func:`_weak_table`): the law's side is
        integrated against smooth test functions and the derivative moved onto
        them, so no derivative of the data is taken (for ``order=2``, only the
        velocities are estimated) and the noise is averaged by the integrals.
        Default (None): weak unless ``derivative`` names a method; False fits
        estimated derivatives.
    basis
        The library for every equation (a Library or term strings); default
        :func:`ode_library`.
    refine
        Refit the chosen equations' coefficients to the measured trajectories
        themselves (:func:`_trajectory_refit`, the output-error method): the
        maximum-likelihood estimate under measurement noise, where the
        equation-error fit (derivatives or weak form) is biased by noise in
        its regressors. Default (None): where the fitted system, simulated
        from each run's start, already follows the data (within 10% RMS), so
        the refit refines rather than searches; chaotic or poorly fitted
        systems keep the equation-error fit. Intervals then come from the
        refit's Jacobian.
    constants
        Named constants to recognise (``{"g": 9.81}``).
    n_bootstrap, confidence
        Moving-block bootstrap resamples and the level of the intervals
        (0: no intervals).
    random_state
        Seed for the searches' splits and the bootstrap.
    options
        Passed on to :func:`discovery.discover` for every equation
        (``max_terms``, ``selection``, ``device`` ...).

    Returns
    -------
    OdeModel
    """
    from .._discover import discover

    check_method(derivative, order)
    if n_bootstrap < 0:
        raise DataError(f"n_bootstrap must be >= 0, got {n_bootstrap!r}.")
    if not 0 < confidence < 1:
        raise DataError(f"confidence must be in (0, 1), got {confidence!r}.")
    frame = _frame(data)
    controls = list(controls)
    if states is None:
        states = [c for c in frame.columns if c not in (time, trajectory, *controls)]
    states = list(states)
    needed = [time, *states, *controls] + ([trajectory] if trajectory else [])
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise DataError(f"No column {', '.join(map(repr, missing))}; the data has "
                        f"{', '.join(map(str, frame.columns))}.")
    if not states:
        raise DataError("No state columns: name them with states=[...].")
    kinematics: dict[str, str] = {}
    if order == 2:
        names = list(velocities) if velocities is not None else [f"v{s}" for s in states]
        if len(names) != len(states):
            raise DataError(f"velocities names {len(names)} columns for {len(states)} states.")
        clash = [v for v in names if v in frame.columns or v in states]
        if clash:
            raise DataError(f"The velocity names {', '.join(clash)} are already columns; "
                            "name them with velocities=[...].")
        kinematics = dict(zip(states, names))
    searched = list(kinematics.values()) if order == 2 else states
    all_states = [*states, *kinematics.values()]
    inputs = [*all_states, *controls]
    runs = _clean_runs(frame, time, [*states, *controls], trajectory)
    angles = list(angles) if angles is not None else [s for s in states if angle_named(s)]
    unknown = [a for a in angles if a not in states]
    if unknown:
        raise DataError(f"angles names {', '.join(unknown)}, which are not states; the "
                        f"states are {', '.join(states)}.")
    library = _library(basis, all_states, controls,
                       [states, list(kinematics.values())] if kinematics else [], angles,
                       _one_signed(runs, [*states, *controls], angles))
    if weak is None:
        weak = derivative == "auto"
    equations: dict[str, Model] = {}
    inner: dict[str, Saturated] = {}
    if weak:
        # Velocities (order 2) are estimated; their own law is then fitted weakly,
        # so only first derivatives of the data are ever taken.
        with_velocities = [_with_velocities(run, time, kinematics, derivative) for run in runs]
        tables, meta, weak_columns = _weak_table(with_velocities, time, searched, inputs,
                                                 library, {v: x for x, v in kinematics.items()})
        clean = not _noisy(runs, time, states)
        for state in searched:
            equations[state] = _weak_equation(tables[state], library, inputs, state,
                                              constants, n_bootstrap, confidence,
                                              random_state, options, clean)
            if equations[state].verdict.get("status") != "law" and basis is None:
                def refit(table: tuple[np.ndarray, ...], extended: Library,
                          state: str = state) -> Model:
                    return _weak_equation(table, extended, inputs, state, constants,
                                          n_bootstrap, confidence, random_state, options,
                                          clean)

                saturated = _saturated_equation(tables[state], library, weak_columns,
                                                all_states, equations[state],
                                                refit, int(options.get("max_terms", 12)),
                                                clean)
                if saturated is not None:
                    equations[state], inner[state] = saturated
    else:
        rows, meta = _derivative_table(runs, time, states, controls, order, kinematics,
                                       derivative)
        for state in searched:
            target = _target(state)
            model = discover(rows[[*inputs, target]], target=target, inputs=inputs,
                             basis=library, constants=constants, n_bootstrap=0,
                             random_state=random_state, **options)
            if n_bootstrap:
                model = _block_intervals(model, _term_columns(model.terms, rows, inputs),
                                         rows[target].to_numpy(dtype=float),
                                         rows["__run__"].to_numpy(), n_bootstrap, confidence,
                                         random_state)
            equations[state] = model
    meta["rows_dropped"] = int(len(frame) - sum(len(r) for r in runs))
    info = {"derivative": "weak" if weak else derivative, "order": order,
            "trajectories": len(runs), **meta}
    system = OdeModel(equations=equations, states=tuple(all_states), controls=tuple(controls),
                      kinematics=kinematics, time=time, info=info)
    if refine is not False:
        refined = _trajectory_refit(system, runs, constants or {}, confidence,
                                    required=bool(refine), inner=inner)
        if refined is not None:
            system = refined
    return system


def _target(state: str) -> str:
    return f"d{state}/dt"


def _frame(data: object) -> pd.DataFrame:
    if isinstance(data, (str, Path)):
        return read_table(data)
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, Mapping):
        return pd.DataFrame({str(k): np.asarray(v) for k, v in data.items()})
    raise DataError(f"Trajectories must be a DataFrame, a mapping of columns or a file path, "
                    f"not {type(data).__name__}.")


def _runs(frame: pd.DataFrame, time: str, trajectory: str | None) -> list[pd.DataFrame]:
    """Each trajectory's rows, sorted by time."""
    groups = [frame] if trajectory is None else [g for _, g in frame.groupby(trajectory,
                                                                               sort=True)]
    return [g.sort_values(time, kind="stable") for g in groups]


def _with_velocities(run: pd.DataFrame, time: str, kinematics: Mapping[str, str],
                     method: str = "auto") -> pd.DataFrame:
    """``run`` with its velocity columns estimated (for a second-order system)."""
    if not kinematics:
        return run
    out = run.copy()
    t = run[time].to_numpy(dtype=float)
    if method == "weak":
        method = "auto"
    for state, velocity in kinematics.items():
        out[velocity] = derivatives(run[state].to_numpy(dtype=float), t, method)[0]
    return out


#: A variable is one-signed (its reciprocal a candidate) where its smallest
#: magnitude on the data is at least this share of its largest.
_ONE_SIGNED_FLOOR = 0.02


def _one_signed(runs: Sequence[pd.DataFrame], names: Sequence[str],
                angles: Sequence[str] = ()) -> list[str]:
    """The measured variables, and the sin and cos of the ``angles``, that keep
    one sign on every row, away from 0 (:func:`ode_library`'s ``one_signed``)."""
    column = {n: np.concatenate([run[n].to_numpy(dtype=float) for run in runs])
              for n in {*names, *angles}}
    candidates = [(n, column[n]) for n in names] + [
        (f"{f}({a})", getattr(np, f)(column[a])) for a in angles for f in ("sin", "cos")]
    out = []
    for name, values in candidates:
        magnitude = np.abs(values)
        if (np.all(values > 0) or np.all(values < 0)) and (
                magnitude.min() >= _ONE_SIGNED_FLOOR * magnitude.max()):
            out.append(name)
    return out


def _library(basis: Library | Sequence[str] | None, states: list[str], controls: list[str],
             norms: Sequence[Sequence[str]], angles: Sequence[str],
             one_signed: Sequence[str] = ()) -> Library:
    if basis is None:
        return ode_library(states, controls, norms=norms, angles=angles, one_signed=one_signed)
    if isinstance(basis, Library):
        return basis
    if isinstance(basis, str):
        raise DataError("basis for discover_ode is a Library or a list of terms, e.g. "
                        "['x', 'x*y', 'sin(x)'].")
    from basis_library import custom

    names = [*states, *controls]
    return custom(*basis, symbols=dict(zip(names, as_symbols(names))))


def _clean_runs(frame: pd.DataFrame, time: str, columns: list[str], trajectory: str | None
                ) -> list[pd.DataFrame]:
    """Each trajectory's finite rows, sorted by time; runs under 3 rows left out."""
    runs = []
    for run in _runs(frame, time, trajectory):
        finite = np.all(np.isfinite(run[[time, *columns]].to_numpy(dtype=float)), axis=1)
        run = run[finite]
        if len(run) < 3:
            continue
        if not np.all(np.diff(run[time].to_numpy(dtype=float)) > 0):
            where = "" if trajectory is None else f" in trajectory {run[trajectory].iloc[0]!r}"
            raise DataError(f"Times repeat{where}; give the column that names each run "
                            "with trajectory=... (--trajectory).")
        runs.append(run)
    if not runs:
        raise DataError("No trajectory has 3 finite samples; derivatives need at least 3.")
    return runs


def _noisy(runs: list[pd.DataFrame], time: str, states: list[str]) -> bool:
    """Whether the derivative filter's cross-validated window is wider than 7 samples
    on the longest run for any state (noise, not the sampling, limits it)."""
    from .derivatives import gcv_window

    run = max(runs, key=len)
    t = run[time].to_numpy(dtype=float)
    return len(t) >= 9 and any(gcv_window(run[s].to_numpy(dtype=float), t) > 7
                               for s in states)


def _derivative_table(runs: list[pd.DataFrame], time: str, states: list[str],
                      controls: list[str], order: int, kinematics: Mapping[str, str],
                      method: str) -> tuple[pd.DataFrame, dict[str, object]]:
    """The rows the equations are fitted to: states (velocities), controls and
    each searched state's derivative, per trajectory, ends left out under noise."""
    tables = []
    for number, run in enumerate(runs):
        t = run[time].to_numpy(dtype=float)
        table = {c: run[c].to_numpy(dtype=float) for c in [*states, *controls]}
        keep = np.ones(len(t), dtype=bool)
        for state in states:
            x = table[state]
            found = derivatives(x, t, method, order=order)
            keep &= trusted_rows(x, t, method)
            if order == 1:
                table[_target(state)] = found[0]
            else:
                table[kinematics[state]] = found[0]
                table[_target(kinematics[state])] = found[1]
        part = pd.DataFrame(table)[keep]
        part["__run__"] = number
        tables.append(part)
    rows = pd.concat(tables, ignore_index=True)
    return rows, {"rows": int(len(rows))}


#: Exponent of the weak form's test functions ``(4s(1 − s))^p``: smooth to order
#: p − 1 at the ends, so trapezoid sums of them are accurate (Messenger & Bortz 2021).
_TEST_POWER = 8


def _weak_table(runs: list[pd.DataFrame], time: str, searched: list[str], inputs: list[str],
                library: Library, positions: Mapping[str, str] | None = None
                ) -> tuple[dict[str, tuple[np.ndarray, ...]], dict[str, object], WeakColumns]:
    """The weak form of every searched state's equation: for test functions ``φₖ``
    on windows of each run, ``−∫φₖ' x dt = Σⱼ cⱼ ∫φₖ θⱼ dt`` (integration by
    parts, φ vanishing at the window's ends), both sides divided by ``∫φₖ``.

    This is weak SINDy (Messenger & Bortz 2021; PySINDy's ``WeakPDELibrary``):
    no derivative of the data is taken, and each row averages the noise of a
    window. A window spans the derivative filter's cross-validated width (at
    least 21 samples, at most a third of the run) and windows start every
    quarter window. Returns, per state, the library's columns, the target,
    each row's run and the target again from every other sample (its
    difference from the target measures the quadrature's resolution), and
    a summary. For a second-order system (``positions`` maps each searched
    velocity to its position), the target is ``∫φₖ'' x dt`` from the measured
    positions: only the library's columns use estimated velocities. The
    last value weighs any other term the same way (:class:`WeakColumns`).
    """
    from .derivatives import gcv_window

    measured = {s: (positions or {}).get(s, s) for s in searched}
    operators: list[np.ndarray] = []
    samples: list[np.ndarray] = []
    targets: dict[str, list[np.ndarray]] = {s: [] for s in searched}
    coarse: dict[str, list[np.ndarray]] = {s: [] for s in searched}
    runs_of: list[np.ndarray] = []
    widths = []
    for number, run in enumerate(runs):
        t = run[time].to_numpy(dtype=float)
        data = [run[c].to_numpy(dtype=float) for c in inputs]
        n = len(t)
        w = max(gcv_window(run[measured[s]].to_numpy(dtype=float), t)
                for s in searched) if n >= 9 else 3
        m = min(max(w, 21), max(n // 3, 5), n)
        widths.append(m)
        starts = np.unique(np.r_[np.arange(0, n - m + 1, max(1, m // 4)), n - m])
        phi, dphi, ddphi = _test_functions(t, starts, m)
        weights = _trapezoid(t)
        half = np.zeros(n)
        half[::2] = _trapezoid(t[::2])
        mass, half_mass = phi @ weights, phi @ half
        operators.append(phi * weights / mass[:, None])
        samples.append(np.column_stack(data))
        for s in searched:
            if measured[s] != s:  # ∫φ ẍ = ∫φ'' x: the position itself, twice by parts
                x = run[measured[s]].to_numpy(dtype=float)
                targets[s].append((ddphi * weights) @ x / mass)
                coarse[s].append((ddphi * half) @ x / half_mass)
                continue
            x = run[s].to_numpy(dtype=float)
            targets[s].append(-(dphi * weights) @ x / mass)
            coarse[s].append(-(dphi * half) @ x / half_mass)
        runs_of.append(np.full(len(starts), number))
    weak = WeakColumns(inputs, operators, samples)
    G = weak.columns(library.terms)
    run_index = np.concatenate(runs_of)
    tables: dict[str, tuple[np.ndarray, ...]] = {
        s: (G, np.concatenate(targets[s]), run_index, np.concatenate(coarse[s]))
        for s in searched}
    return tables, {"rows": int(G.shape[0]), "window_samples": int(np.median(widths))}, weak


@dataclass(frozen=True)
class WeakColumns:
    """The weak form's weighing of any term: each run's test-function weights
    (rows: test functions, columns: samples) and the inputs at its samples."""

    inputs: Sequence[str]
    operators: Sequence[np.ndarray]
    samples: Sequence[np.ndarray]

    def values(self, terms: Sequence[sympy.Expr]) -> list[np.ndarray]:
        """Each run's terms at its samples (samples × terms)."""
        from ..symbolic.evaluate import evaluate_terms

        every = evaluate_terms(terms, self.inputs, np.vstack(self.samples))
        return np.split(every, np.cumsum([len(d) for d in self.samples])[:-1])

    def columns(self, terms: Sequence[sympy.Expr]) -> np.ndarray:
        """The terms' weak columns, ``∫φₖ θ dt / ∫φₖ`` for every test function."""
        return self.weigh(self.values(terms))

    def weigh(self, values: Sequence[np.ndarray]) -> np.ndarray:
        """Weak columns of per-run sample values (as :meth:`values` gives)."""
        return np.vstack([op @ v for op, v in zip(self.operators, values)])


def _test_functions(t: np.ndarray, starts: np.ndarray, m: int
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``φₖ(t) = (4s(1 − s))^p`` on the window of ``m`` samples from each start
    (``s`` the window's time from 0 to 1; zero outside), ``dφₖ/dt`` and ``d²φₖ/dt²``."""
    n, p = len(t), _TEST_POWER
    phi, dphi, ddphi = (np.zeros((len(starts), n)) for _ in range(3))
    for k, a in enumerate(starts):
        lo, hi = t[a], t[a + m - 1]
        length = hi - lo
        s = (t[a:a + m] - lo) / length
        base, slope = 4 * s * (1 - s), 4 * (1 - 2 * s)
        phi[k, a:a + m] = base**p
        dphi[k, a:a + m] = p * base ** (p - 1) * slope / length
        ddphi[k, a:a + m] = (p * (p - 1) * base ** (p - 2) * slope**2
                             - 8 * p * base ** (p - 1)) / length**2
    return phi, dphi, ddphi


def _trapezoid(t: np.ndarray) -> np.ndarray:
    """Trapezoid-rule weights on the (possibly uneven) times ``t``."""
    gaps = np.diff(t)
    weights = np.zeros(len(t))
    weights[:-1] += gaps / 2
    weights[1:] += gaps / 2
    return weights


def _weak_equation(table: tuple[np.ndarray, ...], library: Library, inputs: list[str],
                   state: str, constants: Mapping[str, float] | None, n_bootstrap: int,
                   confidence: float, random_state: int | None, options: Mapping[str, Any],
                   clean: bool) -> Model:
    """The engine on the weak form of one equation, its terms then written back
    in the states: the search sees one input per library term (its weak
    column) and a library of those inputs alone. On clean data the terms
    below the quadrature's resolution are then dropped
    (:func:`_above_resolution`) and the rest refitted."""
    from .._discover import discover

    G, b, run, b_coarse = table
    terms = list(library.terms)
    names = [f"w{j}" for j in range(len(terms))]
    constant = [j for j, t in enumerate(terms) if t == 1]
    others = [j for j in range(len(terms)) if j not in constant]
    inner = [names[j] for j in others]
    frame = pd.DataFrame({names[j]: G[:, j] for j in others})
    frame["__b__"] = b
    basis = (["1"] if constant else []) + inner

    def fit(basis: list[str]) -> Model:
        return discover(frame, target="__b__", inputs=inner, basis=basis,
                        constants=constants, n_bootstrap=0, random_state=random_state,
                        **dict(options))

    model = fit(basis)
    if clean:
        resolution = float(np.sqrt(np.mean((b - b_coarse) ** 2)))
        A = _term_columns(model.terms, frame, inner)
        kept = _above_resolution(A, b, resolution)
        if len(kept) < len(model.terms):
            model = fit([str(model.terms[i].term) for i in kept])
        model = model.replace(verdict=_at_resolution(model.verdict, resolution))
    if n_bootstrap:
        model = _block_intervals(model, _term_columns(model.terms, frame, inner), b, run,
                                 n_bootstrap, confidence, random_state)
    back = dict(zip(as_symbols(inner), [terms[j] for j in others]))
    return _rewritten(model, back, inputs, _target(state))


@dataclass(frozen=True)
class Saturated:
    """An equation's denominator ``1 + q·g``, for the trajectory refit to free q again:
    its symbol, its value as fitted, and each of the equation's terms over it
    written with the symbol."""

    symbol: sympy.Symbol
    value: float
    terms: Mapping[sympy.Expr, sympy.Expr]


def _saturated_equation(table: tuple[np.ndarray, ...], library: Library, weak: WeakColumns,
                        states: Sequence[str], base: Model,
                        refit: Callable[[tuple[np.ndarray, ...], Library], Model],
                        max_terms: int, clean: bool) -> tuple[Model, Saturated] | None:
    """The equation refitted with saturating terms ``f/(1 + q·g)`` joining the library
    (:mod:`discovery.routes.saturating`), where the extended BIC prefers it to ``base``.

    ``f`` ranges over the monomials of the states up to degree 2, ``g`` over each
    state that keeps one sign on the data (with the sign that makes it
    nonnegative) and every state's square, so ``1 + q·g`` never vanishes on the
    data (q > 0). As every coefficient, q must be at least 3 standard errors
    from 0.
    """
    from ..routes.compare import route_bic
    from ..routes.saturating import saturating_terms
    from ..stats.criteria import log_comb

    symbols = dict(zip(states, as_symbols(states)))
    numerators = list(monomials(list(states), 2).terms)
    denominators: list[sympy.Expr] = []
    for name in states:
        x = symbols[name]
        values = np.concatenate([v[:, 0] for v in weak.values([x])])
        if np.all(values >= 0) or np.all(values <= 0):
            denominators.append(x if np.any(values > 0) else -x)
        denominators.append(x**2)
    G, b = table[0], table[1]
    # Noise-free, the fit's residual is the quadrature's error, not noise: q is
    # known no better than that resolution allows.
    floor = float(np.mean((b - table[3]) ** 2)) if clean else 0.0
    found = saturating_terms(b, G, numerators, denominators, weak.values, weak.weigh,
                             max_terms, floor)
    if found is None or not found.q > 3 * found.q_se:
        return None  # a q the data cannot tell from 0 (or from any value) is no law's
    extended = Library([*library.terms, *found.terms],
                       spec=f"{library.spec} with terms over 1 + q*({found.g})")
    table = (np.hstack([G, weak.columns(extended.terms[len(library.terms):])]), *table[1:])
    model = refit(table, extended)
    ratio = set(found.terms)
    if not any(t.term in ratio for t in model.terms):
        return None
    n = len(b)

    def score(m: Model, p: int) -> float:
        return route_bic(m, n, 0, 0.0, log_comb(p, len(m.terms)))

    charge = math.log(n) + math.log(len(denominators))
    if score(model, len(extended.terms)) + charge >= score(base, len(library.terms)):
        return None
    symbol = sympy.Symbol(f"_q_{base.target}")
    over = {term: f / (1 + symbol * found.g) for f, term in zip(numerators, found.terms)}
    model = model.updated(info={"saturation": {"denominator": str(1 + found.q * found.g),
                                               "q": found.q, "q_std_error": found.q_se}})
    return model, Saturated(symbol, found.q, over)


def _at_resolution(verdict: Mapping[str, Any], resolution: float) -> dict[str, Any]:
    """The verdict of a clean-data fit whose only fault is structured residuals that
    are within three times the quadrature's resolution: ``law`` (what is left is
    the error of the sums, smooth in time, not a missing term)."""
    out = dict(verdict)
    reasons = [str(r) for r in out.get("reasons", [])]
    evidence = dict(out.get("evidence") or {})
    residual = math.sqrt(max(float(evidence.get("residual_var", math.inf)), 0.0))
    if (out.get("status") == "approximation" and reasons
            and all(r.startswith("the residuals are structured") for r in reasons)
            and residual <= 3 * resolution):
        out["status"] = "law"
        out["reasons"] = [f"the residuals (RMS {residual:.2g}) are within 3 times the weak "
                          f"form's quadrature resolution ({resolution:.2g}): the data are "
                          "noise-free and the terms explain them to that resolution"]
        out["evidence"] = {**evidence, "resolution": resolution}
    return out


def _above_resolution(A: np.ndarray, y: np.ndarray, resolution: float) -> list[int]:
    """The columns of ``A`` left after dropping, one at a time, the column whose
    removal raises the RSS least while that rise is below ``n·(3·resolution)²``.

    On clean data the fit's residual is the error of the weak form's sums
    (or of estimated derivatives), not noise, and it is smooth in time: a
    term can fit it and pass every test made against noise. A term that
    explains no more than three times that error's size is not resolved by
    the data (PySINDy's threshold plays this part, as a fixed number).
    """
    n = len(y)
    keep = list(range(A.shape[1]))
    limit = n * (3 * resolution) ** 2

    def rss(columns: list[int]) -> float:
        if not columns:
            return float(y @ y)
        coef = np.linalg.lstsq(A[:, columns], y, rcond=None)[0]
        r = y - A[:, columns] @ coef
        return float(r @ r)

    current = rss(keep)
    while len(keep) > 1:
        rises = [(rss(keep[:i] + keep[i + 1:]) - current, i) for i in range(len(keep))]
        rise, i = min(rises)
        if rise >= limit:
            break
        keep.pop(i)
        current = rss(keep)
    return keep


def _rewritten(model: Model, back: Mapping[sympy.Symbol, sympy.Expr], inputs: list[str],
               target: str) -> Model:
    """``model`` over the weak columns, written back over the states."""
    table = dict(back)
    terms = [replace(t, term=t.term.xreplace(table)) for t in model.terms]
    names = {str(k): str(v) for k, v in table.items()}
    verdict = dict(model.verdict)
    verdict["reasons"] = [re.sub(r"\bw\d+\b", lambda m: names.get(m.group(0), m.group(0)),
                                 str(r)) for r in verdict.get("reasons", [])]
    # The engine's state is over the weak columns: it does not travel.
    return model.updated(expression=model.expression.xreplace(table),
                         raw_expression=model.raw_expression.xreplace(table), inputs=inputs,
                         target=target, terms=terms, library={**model.library, "weak": True},
                         info={"weak_form": True}, verdict=verdict, fit_state=None)


def _control_function(controls: object, names: Sequence[str], times: np.ndarray
                      ) -> Callable[[float], np.ndarray]:
    if not names:
        return lambda time: np.zeros(0)
    if controls is None:
        raise DataError(f"The system has controls ({', '.join(names)}); pass controls=...")
    if callable(controls):
        return lambda time: np.atleast_1d(np.asarray(controls(time), dtype=float))
    if isinstance(controls, Mapping):
        missing = [c for c in names if c not in controls]
        if missing:
            raise DataError(f"controls lacks {', '.join(missing)}.")
        series = [np.asarray(controls[c], dtype=float) for c in names]
        if any(s.shape != times.shape for s in series):
            raise DataError("Each control needs one value per simulated time.")
        return lambda time: np.array([np.interp(time, times, s) for s in series])
    raise DataError("controls must be a callable u(t) or a mapping of name to values at t.")


def _term_columns(terms: Sequence[Any], rows: pd.DataFrame, inputs: list[str]) -> np.ndarray:
    """Each model term's values on ``rows`` (columns in term order)."""
    from ..symbolic.evaluate import evaluate_terms

    return evaluate_terms([t.term for t in terms], inputs, rows[inputs].to_numpy(dtype=float))


def _block_intervals(model: Model, A: np.ndarray, y: np.ndarray, run: np.ndarray,
                     n_resamples: int, level: float, random_state: int | None) -> Model:
    """``model`` with percentile intervals of its coefficients from a moving-block
    bootstrap of each trajectory's rows (Künsch 1989), blocks of the cube root
    of the rows (Hall, Horowitz & Jing 1995), never across two runs; ``A``
    holds the model's term columns. Only for a library fit (linear in its
    coefficients); other models are returned as they are."""
    if model.metrics.get("strategy") not in (None, "library") or A.shape[1] == 0:
        return model
    if not (np.all(np.isfinite(A)) and np.all(np.isfinite(y))):
        return model
    n = len(y)
    length = max(2, round(n ** (1 / 3)))
    starts = []
    for r in np.unique(run):
        where = np.flatnonzero(run == r)
        starts.append(where[: max(1, len(where) - length + 1)])
    first = np.concatenate(starts)
    rng = np.random.default_rng(random_state)
    blocks = math.ceil(n / length)
    samples = np.empty((n_resamples, A.shape[1]))
    for b in range(n_resamples):
        picked = rng.choice(first, blocks)
        index = np.minimum((picked[:, None] + np.arange(length)[None, :]).ravel()[:n], n - 1)
        samples[b] = np.linalg.lstsq(A[index], y[index], rcond=None)[0]
    low, high = np.percentile(samples, [50 * (1 - level), 50 * (1 + level)], axis=0)
    return model.replace(
        terms=[replace(t, interval=(float(lo), float(hi)))
               for t, lo, hi in zip(model.terms, low, high)],
        uncertainty={**model.uncertainty, "level": level,
                     "interval": f"moving-block bootstrap percentile ({n_resamples} "
                                 f"resamples, blocks of {length} rows)",
                     "n_resamples": n_resamples})


#: Relative RMS simulation error under which ``refine=None`` refits on trajectories.
_TRACKS = 0.1
#: Terms a round of the trajectory refit's backward elimination refits without.
_TRIALS = 2


def _trajectory_refit(system: OdeModel, runs: list[pd.DataFrame],
                      constants: Mapping[str, float], level: float, required: bool = False,
                      inner: Mapping[str, Saturated] | None = None) -> OdeModel | None:
    """The system with its equations' coefficients refitted to the measured states.

    Output-error least squares (Ljung 1999, ch. 7; the "trajectory matching"
    of parameter estimation in ODEs): every coefficient of the searched
    equations and every run's initial state are fitted so that the
    simulated trajectories match the measured ones, each state weighted by
    its noise (estimated from local cubic residuals). Terms are then dropped
    one at a time by likelihood-ratio tests: each round refits without each
    of the two terms weakest by their Wald ratio, and drops the cheaper while
    its cost is below the 99% quantile of χ²(1) (backward elimination on the
    likelihood of the data themselves). Closed forms are then claimed only by
    :func:`~discovery.stats.nls.snap_parameters`, and intervals are Student-t
    intervals from the fit's Jacobian. A saturating denominator's q
    (``inner``) is fitted with the coefficients, while a term over it is
    left. None where an equation
    is not a library fit, the start does not follow the data (``required``
    false) or the fit fails.
    """
    from scipy.optimize import least_squares

    from ..stats.intervals import t_interval
    from ..stats.nls import standard_errors
    from ..symbolic.snap import snap_parameters

    searched = list(system.equations)
    if any(m.metrics.get("strategy") not in (None, "library") for m in system.equations.values()):
        return None
    measured = [s for s in system.states if s not in system.kinematics.values()]
    names = [*system.states, *system.controls]
    symbols = as_symbols(names)
    index = {s: i for i, s in enumerate(system.states)}
    # Every searched equation's coefficients, in equation and term order.
    start_coef = np.array([t.coefficient for state in searched
                           for t in system.equations[state].terms])
    k = len(start_coef)
    # Inner parameters follow the coefficients; each knows the coefficients of
    # the terms over it.
    inner = {s: v for s, v in (inner or {}).items() if s in searched}
    inner_states = list(inner)
    over: dict[int, list[int]] = {}
    # The whole right-hand side as one compiled function of the states, controls
    # and coefficients: the integrator calls it thousands of times a run.
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
    compiled = sympy.lambdify([*symbols, *weights, *q_symbols], rhs_exprs, "math")
    k_all = k + len(q_symbols)
    prepared = [_with_velocities(run, system.time, system.kinematics, "auto") for run in runs]
    noise = {s: _noise_level(prepared, system.time, s) for s in measured}
    if not all(np.isfinite(v) and v > 0 for v in noise.values()):
        return None

    def simulate(coef: np.ndarray, x0: np.ndarray, run: pd.DataFrame) -> np.ndarray | None:
        from scipy.integrate import odeint

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

    starts = [np.array([float(_smoothed_start(run, system.time, s)) for s in system.states])
              for run in prepared]
    n_states = len(system.states)

    def residual(theta: np.ndarray) -> np.ndarray:
        coef = theta[:k_all]
        parts = []
        for r, run in enumerate(prepared):
            x0 = theta[k_all + r * n_states:k_all + (r + 1) * n_states]
            path = simulate(coef, x0, run)
            for s in measured:
                data = run[s].to_numpy(dtype=float)
                value = path[index[s]] if path is not None else np.full(len(data), 1e6 * noise[s])
                parts.append((value - data) / noise[s])
        return np.concatenate(parts)

    theta0 = np.concatenate([start_coef, [inner[s].value for s in inner_states], *starts])
    first = residual(theta0)
    rows = len(first)
    scale = {s: float(np.sqrt(np.mean(np.concatenate(
        [run[s].to_numpy(dtype=float) for run in prepared]) ** 2))) for s in measured}
    tracked = float(np.sqrt(np.mean(first**2))) * float(np.mean(
        [noise[s] / scale[s] for s in measured]))
    if not required and not tracked <= _TRACKS:
        return None
    # Backward elimination on the trajectories (a likelihood-ratio test by refits):
    # each round refits the system without each of the _TRIALS weakest terms and
    # drops the one whose removal costs least, while that cost is below the 99%
    # quantile of χ²(1) in noise variances. The equation-error fit may keep a term that noise
    # in its regressors bought (errors in variables); the data's own likelihood
    # has no such bias. A refit without a term may also leave a poorer local
    # optimum of the trajectories (oscillators' phases), which a Wald test of
    # the coefficient would not see.
    from scipy import stats

    def on_free(base: np.ndarray, free: list[int]) -> Callable[[np.ndarray], np.ndarray]:
        """:func:`residual` of the ``free`` parameters, the others held at ``base``."""
        def of(q: np.ndarray) -> np.ndarray:
            theta = base.copy()
            theta[free] = q
            return residual(theta)

        return of

    def refit(base: np.ndarray, free: list[int]) -> tuple[np.ndarray, float, np.ndarray] | None:
        try:
            fit = least_squares(on_free(base, free), base[free], method="trf", x_scale="jac",
                                max_nfev=200)
        except (ValueError, np.linalg.LinAlgError):
            return None
        if not np.all(np.isfinite(fit.x)):
            return None
        theta = base.copy()
        theta[free] = fit.x
        return theta, float(fit.fun @ fit.fun), standard_errors(fit.jac, float(fit.fun @ fit.fun),
                                                                rows)

    free = list(range(len(theta0)))
    fitted = refit(theta0, free)
    if fitted is None or not fitted[1] < float(first @ first):
        return None
    base, rss, se_free = fitted
    limit = float(stats.chi2.ppf(0.99, 1))
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
            smaller = [j for j in smaller if j not in over or set(over[j]) & set(smaller)]
            tried = refit(start, smaller)
            if tried is not None:
                trials.append((tried[1], i, smaller, tried))
        if not trials:
            break
        cost, _, smaller, tried = min(trials, key=lambda trial: trial[0])
        if cost - rss > limit * rss / max(rows - len(free), 1):
            break
        free, (base, rss, se_free) = smaller, tried
    dropped = set(range(k)) - set(free)

    position = {i: j for j, i in enumerate(free)}
    snapped, q, rss = snap_parameters(on_free(base, free), base[free], rss, se_free, constants,
                                      0.0, rows, keep=lambda j: free[j] < k_all)
    values = base.copy()
    values[free] = q
    se = np.full(len(values), np.nan)
    se[free] = se_free
    exprs: list[sympy.Expr | None] = [None] * len(values)
    for i in free:
        exprs[i] = snapped[position[i]]
    dof = rows - len(free)
    low, high = t_interval(values[:k], se[:k], dof, level)
    equations = dict(system.equations)
    at = 0
    for state in searched:
        model = system.equations[state]
        refitted: list[ModelTerm] = []
        # The terms over a saturating denominator, with q as refitted (or closed).
        numeric: dict[sympy.Expr, sympy.Expr] = {}
        saturation: dict[str, Any] = {}
        if state in inner:
            i = k + inner_states.index(state)
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
    final = residual(values)
    kept = [i for i in free if i < k]
    verdict = _trajectory_verdict(final, [len(run) * len(measured) for run in prepared],
                                  len(measured), dof, values[kept], se[kept])
    if verdict is not None:
        equations = {s: _with_verdict(m, verdict) for s, m in equations.items()}
    info = {**system.info, "refit": "trajectories",
            "refit_rms": float(np.sqrt(rss / rows)), "noise": noise}
    return replace(system, equations=equations, info=info)


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
                        f"(χ²/dof = {rss / max(dof, 1):.3f}, lag-one autocorrelation "
                        f"{correlation:.2f}) and every coefficient is at least 3 standard "
                        "errors from 0"],
            "evidence": {"chi2_per_dof": rss / max(dof, 1), "lag1_autocorrelation": correlation,
                         "samples": int(len(residual))}}


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


#: The least noise a state is weighted by, as a share of its largest magnitude:
#: ten times the trajectory refit's relative integration tolerance (1e-7).
_NOISE_FLOOR = 1e-6


def _smoothed_start(run: pd.DataFrame, time: str, state: str) -> float:
    """``state`` at the run's first time, from the cross-validated local cubic."""
    from .derivatives import gcv_window, polynomial_windows

    x = run[state].to_numpy(dtype=float)
    t = run[time].to_numpy(dtype=float)
    if len(t) < 9:
        return float(x[0])
    coef, _, _ = polynomial_windows(x, t, gcv_window(x, t))
    return float(coef[0, 0])


def write_ode_report(system: OdeModel, data: object, directory: str | Path,
                     trajectory: str | None = None) -> list[Path]:
    """Write ``system.json``, ``summary.md`` and, with matplotlib, ``simulation.png``:
    each measured state of each trajectory (up to six) against the system
    simulated from a start fitted to it (the runs :meth:`OdeModel.simulation_error`
    measures)."""
    from ..report import report_folder

    out = report_folder(directory)
    written = [system.save(out / "system.json")]
    frame = _frame(data)
    simulations = system._fitted_simulations(frame, trajectory)
    errors = system._errors(frame, simulations)
    lines = ["# Discovered system", "", "```", str(system), "```", "", "$$", system.latex(),
             "$$", "", "| equation | verdict | why |", "|---|---|---|"]
    for state, model in system.equations.items():
        reasons = "; ".join(str(r) for r in model.verdict.get("reasons", []))
        lines.append(f"| d{state}/dt | {model.verdict.get('status', '')} | {reasons} |")
    lines += ["", "Simulated from a start fitted to each trajectory, RMS error relative to "
              "the state's RMS: " + ", ".join(f"{s} {v:.3g}" for s, v in errors.items()), ""]
    try:
        from ..plots import figure

        measured = system._measured()
        fig = figure(4.2 * len(measured), 3.0)
        axes = fig.subplots(1, len(measured), squeeze=False)[0]
        for number, (run, simulated) in enumerate(simulations[:6]):
            t = run[system.time].to_numpy(dtype=float)
            for ax, state in zip(axes, measured):
                color = f"C{number}"
                ax.plot(t, run[state], ".", ms=2, color=color, alpha=0.5,
                        label="data" if number == 0 else None)
                ax.plot(t, simulated[state], "-", lw=1, color=color,
                        label="simulated" if number == 0 else None)
        for ax, state in zip(axes, measured):
            ax.set_xlabel(system.time)
            ax.set_ylabel(state)
            ax.legend(fontsize=7)
        path = out / "simulation.png"
        fig.savefig(path)
        written.append(path)
        lines.append("![data and simulation](simulation.png)")
    except ImportError as exc:
        lines.append(f"(no picture: {exc})")
    summary = out / "summary.md"
    summary.write_text("\n".join(lines) + "\n")
    written.append(summary)
    return written
