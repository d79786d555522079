"""Every error the project raises, in one module.

:class:`DiscoveryError` is the base of them all; the CLI turns each into one
line on stderr and exit code 2. The errors of building candidate terms come
from :mod:`basis_library.errors` (which cannot import this package); the
engine's are defined here.
"""

from __future__ import annotations

from basis_library.errors import DiscoveryError, LibraryError, ParseError

__all__ = ["BackendUnavailable", "DataError", "DiscoveryError", "FitError", "LibraryError",
           "ParseError", "UnitsError"]


class DataError(DiscoveryError, ValueError):
    """The data given to a fit is missing, malformed or too small."""


class FitError(DiscoveryError, RuntimeError):
    """A fit could not produce a model."""


class BackendUnavailable(DiscoveryError, ImportError):
    """An optional backend (PySR, Operon, plotting) is not installed or cannot run."""


class UnitsError(DataError):
    """Declared units that cannot be read, name nothing, or contradict the data."""
