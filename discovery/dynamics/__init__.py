"""Laws of motion from trajectories: derivatives, the weak form, the trajectory
refit, the ODE model and its simulation.
"""

from .derivatives import DERIVATIVES, check_method, derivatives, trusted_rows
from .ode import FORMAT, OdeModel, discover_ode, load_ode, ode_library, write_ode_report

__all__ = [
    "DERIVATIVES", "FORMAT", "OdeModel", "check_method", "derivatives", "discover_ode",
    "load_ode", "ode_library", "trusted_rows", "write_ode_report",
]
