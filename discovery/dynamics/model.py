"""The discovered system, :class:`OdeModel`: printed, simulated, saved and reported."""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sympy

from basis_library import as_symbols, compile_numpy

from .._frozen import freeze, thaw
from ..errors import DataError, ParseError
from ..model import Model, check_format
from .runs import as_frame, smoothed_start, split_runs, with_velocities

__all__ = ["FORMAT", "OdeModel", "load_ode", "write_ode_report"]

#: The ``format`` of a saved :class:`OdeModel`.
FORMAT = "discovery-ode/1"


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

    def _repr_latex_(self) -> str:
        """Jupyter's typeset system (:meth:`latex`)."""
        return f"$${self.latex()}$$"

    def _repr_html_(self) -> str:
        """Jupyter's view: each equation typeset, with its verdict and terms
        (:func:`~discovery.model.model_html`); kinematic ones as formulas alone."""
        from html import escape

        from ..model import model_html

        parts = []
        for state, expr in self.rhs(numeric=False).items():
            name = sympy.latex(sympy.Symbol(state))
            if state in self.kinematics:
                formula = rf"\dot{{{name}}} = {sympy.latex(expr)}"
                parts.append(f"<p>$${escape(formula)}$$</p>")
            else:
                model = self.equations[state]
                parts.append(model_html(model, rf"\dot{{{name}}} = {model.latex()}"))
        return '<div class="discovery-system">' + "".join(parts) + "</div>"

    # --- use -----------------------------------------------------------------

    def _function(self) -> Callable[..., np.ndarray]:
        names = [*self.states, *self.controls]
        rhs = self.rhs()
        return compile_numpy(as_symbols(names), [rhs[s] for s in self.states])

    def predict(self, data: object) -> pd.DataFrame:
        """The time derivative of every state at each row of ``data`` (which holds
        the states, velocities for ``order=2``, and controls by name)."""
        frame = as_frame(data)
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
        frame = as_frame(data)
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
        for run in split_runs(frame, self.time, trajectory):
            prepared = with_velocities(run, self.time, self.kinematics,
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

            start = np.array([smoothed_start(prepared, self.time, s) for s in self.states])
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
        check_format(data, FORMAT, "system")
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


def write_ode_report(system: OdeModel, data: object, directory: str | Path,
                     trajectory: str | None = None) -> list[Path]:
    """Write ``system.json``, ``summary.md`` and, with matplotlib, ``simulation.png``:
    each measured state of each trajectory (up to six) against the system
    simulated from a start fitted to it (the runs :meth:`OdeModel.simulation_error`
    measures)."""
    from ..report import report_folder

    out = report_folder(directory)
    written = [system.save(out / "system.json")]
    frame = as_frame(data)
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
