"""Which few candidate terms explain the data, and what formula is that.

Importing this package has no side effects: no Julia, no printing, no logging
handlers.
"""

from ._data import Dataset, prepare, read_table
from ._discover import METHODS, SOLVERS, discover
from ._version import installed_version
from .backends.pysr import from_pysr, read_hall_of_fame
from .datasets import CANNON_TRUTH, cannon_data
from .dynamics import OdeModel, discover_ode, load_ode
from .errors import (
    BackendUnavailable,
    DataError,
    DiscoveryError,
    FitError,
    LibraryError,
    ParseError,
    UnitsError,
)
from .estimator import SparseSymbolicRegressor
from .model import Diagnostics, Model, ModelTerm, Uncertainty, Verdict, load
from .symbolic.check import CheckResult, check
from .symbolic.constants import ClosedForm, consistent_with, recognise
from .symbolic.simplify import simplify_expression

#: The installed distribution's version (``discovery-sr``); a source tree that was not
#: installed says so (``0+unknown``).
__version__ = installed_version()

__all__ = [
    "BackendUnavailable",
    "CANNON_TRUTH",
    "CheckResult",
    "ClosedForm",
    "DataError",
    "Dataset",
    "Diagnostics",
    "DiscoveryError",
    "FitError",
    "LibraryError",
    "METHODS",
    "Model",
    "ModelTerm",
    "OdeModel",
    "ParseError",
    "SOLVERS",
    "SparseSymbolicRegressor",
    "Uncertainty",
    "UnitsError",
    "Verdict",
    "cannon_data",
    "check",
    "consistent_with",
    "discover",
    "discover_ode",
    "from_pysr",
    "read_hall_of_fame",
    "load",
    "load_ode",
    "prepare",
    "read_table",
    "recognise",
    "simplify_expression",
]
