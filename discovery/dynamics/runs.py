"""A system's trajectories as the fits need them: runs, velocities, derivatives."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .._data import read_table
from ..errors import DataError
from .derivatives import derivatives, trusted_rows

__all__ = [
    "target_name", "as_frame", "split_runs", "with_velocities", "one_signed", "clean_runs",
    "noisy", "derivative_table", "smoothed_start",
]

#: A variable is one-signed (its reciprocal a candidate) where its smallest
#: magnitude on the data is at least this share of its largest.
_ONE_SIGNED_FLOOR = 0.02


def target_name(state: str) -> str:
    return f"d{state}/dt"


def as_frame(data: object) -> pd.DataFrame:
    if isinstance(data, (str, Path)):
        return read_table(data)
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, Mapping):
        return pd.DataFrame({str(k): np.asarray(v) for k, v in data.items()})
    raise DataError(f"Trajectories must be a DataFrame, a mapping of columns or a file path, "
                    f"not {type(data).__name__}.")


def split_runs(frame: pd.DataFrame, time: str, trajectory: str | None) -> list[pd.DataFrame]:
    """Each trajectory's rows, sorted by time."""
    groups = [frame] if trajectory is None else [g for _, g in frame.groupby(trajectory,
                                                                               sort=True)]
    return [g.sort_values(time, kind="stable") for g in groups]


def with_velocities(run: pd.DataFrame, time: str, kinematics: Mapping[str, str],
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


def one_signed(runs: Sequence[pd.DataFrame], names: Sequence[str],
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


def clean_runs(frame: pd.DataFrame, time: str, columns: list[str], trajectory: str | None
               ) -> list[pd.DataFrame]:
    """Each trajectory's finite rows, sorted by time; runs under 3 rows left out."""
    runs = []
    for run in split_runs(frame, time, trajectory):
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


def noisy(runs: list[pd.DataFrame], time: str, states: list[str]) -> bool:
    """Whether the derivative filter's cross-validated window is wider than 7 samples
    on the longest run for any state (noise, not the sampling, limits it)."""
    from .derivatives import gcv_window

    run = max(runs, key=len)
    t = run[time].to_numpy(dtype=float)
    return len(t) >= 9 and any(gcv_window(run[s].to_numpy(dtype=float), t) > 7
                               for s in states)


def derivative_table(runs: list[pd.DataFrame], time: str, states: list[str],
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
                table[target_name(state)] = found[0]
            else:
                table[kinematics[state]] = found[0]
                table[target_name(kinematics[state])] = found[1]
        part = pd.DataFrame(table)[keep]
        part["__run__"] = number
        tables.append(part)
    rows = pd.concat(tables, ignore_index=True)
    return rows, {"rows": int(len(rows))}


def smoothed_start(run: pd.DataFrame, time: str, state: str) -> float:
    """``state`` at the run's first time, from the cross-validated local cubic."""
    from .derivatives import gcv_window, polynomial_windows

    x = run[state].to_numpy(dtype=float)
    t = run[time].to_numpy(dtype=float)
    if len(t) < 9:
        return float(x[0])
    coef, _, _ = polynomial_windows(x, t, gcv_window(x, t))
    return float(coef[0, 0])
