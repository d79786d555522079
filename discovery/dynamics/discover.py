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

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from basis_library import Library, as_symbols, ode_library
from basis_library.generators import angle_named

from ..errors import DataError
from ..model import Model
from .derivatives import check_method
from .intervals import block_intervals, term_values
from .model import OdeModel
from .refit import trajectory_refit
from .runs import (
    as_frame,
    clean_runs,
    derivative_table,
    noisy,
    one_signed,
    target_name,
    with_velocities,
)
from .saturated import Saturated, saturated_equation
from .units import equation_units, units_library, with_units
from .weak import weak_equation, weak_table

__all__ = ["discover_ode"]


def discover_ode(data: object, time: str = "t", states: Sequence[str] | None = None, *,
                 trajectory: str | None = None, controls: Sequence[str] = (),
                 order: int = 1, velocities: Sequence[str] | None = None,
                 angles: Sequence[str] | None = None,
                 derivative: str = "auto", weak: bool | None = None,
                 basis: Library | Sequence[str] | None = None,
                 refine: bool | None = None,
                 constants: Mapping[str, float] | None = None, n_bootstrap: int = 200,
                 confidence: float = 0.95, random_state: int | None = 0,
                 units: object = None, **options: Any) -> OdeModel:
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
        Fit the weak (integral) form (:func:`weak_table`): the law's side is
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
        themselves (:func:`trajectory_refit`, the output-error method): the
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
    units
        Units of the time, the states, the controls and named constants (a mapping
        or ``"t=s,x=m,theta=rad"``; any unit pint reads): a state's rate then has
        the state's unit per unit of time, terms that do not balance inside
        (``sin(x)`` of a length) leave the library, states in ``rad`` are angles,
        and each equation's ``info["units"]`` gives its coefficients' units (a
        rate's coefficients are the system's parameters and may carry any unit).
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
    frame = as_frame(data)
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
    runs = clean_runs(frame, time, [*states, *controls], trajectory)
    angles = list(angles) if angles is not None else [s for s in states if angle_named(s)]
    unknown = [a for a in angles if a not in states]
    if unknown:
        raise DataError(f"angles names {', '.join(unknown)}, which are not states; the "
                        f"states are {', '.join(states)}.")
    per = {} if units is None else equation_units(
        units, time=time, states=states, kinematics=kinematics, controls=controls,
        constants=constants)
    if per:
        declared = next(iter(per.values()))
        angles += [s for s in states if s not in angles and (u := declared.unit(s)) is not None
                   and u.angle]
    library = units_library(_library(basis, all_states, controls,
                                     [states, list(kinematics.values())] if kinematics else [],
                                     angles, one_signed(runs, [*states, *controls], angles)),
                            per)
    if weak is None:
        weak = derivative == "auto"
    equations: dict[str, Model] = {}
    inner: dict[str, Saturated] = {}
    if weak:
        # Velocities (order 2) are estimated; their own law is then fitted weakly,
        # so only first derivatives of the data are ever taken.
        prepared = [with_velocities(run, time, kinematics, derivative) for run in runs]
        tables, meta, weak_columns = weak_table(prepared, time, searched, inputs,
                                                library, {v: x for x, v in kinematics.items()})
        clean = not noisy(runs, time, states)
        for state in searched:
            equations[state] = weak_equation(tables[state], library, inputs, state,
                                             constants, n_bootstrap, confidence,
                                             random_state, options, clean)
            if equations[state].verdict.get("status") != "law" and basis is None:
                def refit(table: tuple[np.ndarray, ...], extended: Library,
                          state: str = state) -> Model:
                    return weak_equation(table, extended, inputs, state, constants,
                                         n_bootstrap, confidence, random_state, options,
                                         clean)

                saturated = saturated_equation(tables[state], library, weak_columns,
                                               all_states, equations[state],
                                               refit, int(options.get("max_terms", 12)),
                                               clean)
                if saturated is not None:
                    equations[state], inner[state] = saturated
    else:
        rows, meta = derivative_table(runs, time, states, controls, order, kinematics,
                                      derivative)
        for state in searched:
            target = target_name(state)
            model = discover(rows[[*inputs, target]], target=target, inputs=inputs,
                             basis=library, constants=constants, n_bootstrap=0,
                             random_state=random_state, **options)
            if n_bootstrap:
                model = block_intervals(model, term_values(model.terms, rows, inputs),
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
        refined = trajectory_refit(system, runs, constants or {}, confidence,
                                   required=bool(refine), inner=inner)
        if refined is not None:
            system = refined
    if per:
        system = replace(system, equations={s: with_units(m, per[s])
                                            for s, m in system.equations.items()})
    return system


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
