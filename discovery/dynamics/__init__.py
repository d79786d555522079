"""Laws of motion from trajectories: derivatives, the weak form, the trajectory
refit, the ODE model and its simulation.
"""

from .derivatives import DERIVATIVES, check_method, derivatives, trusted_rows
from .discover import discover_ode
from .intervals import block_intervals, term_values
from .model import FORMAT, OdeModel, load_ode, write_ode_report
from .refit import trajectory_refit
from .runs import (
    as_frame,
    clean_runs,
    derivative_table,
    noisy,
    one_signed,
    smoothed_start,
    split_runs,
    target_name,
    with_velocities,
)
from .saturated import Saturated, saturated_equation
from .weak import WeakColumns, weak_equation, weak_table

__all__ = [
    "DERIVATIVES", "FORMAT", "OdeModel", "Saturated", "WeakColumns", "as_frame",
    "block_intervals", "check_method", "clean_runs", "derivative_table", "derivatives",
    "discover_ode", "load_ode", "noisy", "one_signed", "saturated_equation", "smoothed_start",
    "split_runs", "target_name", "term_values", "trajectory_refit", "trusted_rows",
    "weak_equation", "weak_table", "with_velocities", "write_ode_report",
]
