"""The project's exception classes, in one place.

Every error a user can cause derives from :class:`DiscoveryError`; the CLI turns
these into one line on stderr and exit code 2.
"""

from __future__ import annotations

__all__ = [
    "DiscoveryError",
    "ParseError",
    "LibraryError",
    "DataError",
    "FitError",
    "BackendUnavailable",
]


class DiscoveryError(Exception):
    """Base class of every error this project raises on bad input."""


class ParseError(DiscoveryError, ValueError):
    """A formula or basis specification could not be parsed safely."""


class LibraryError(DiscoveryError, ValueError):
    """A basis library cannot be built or evaluated as asked."""


class DataError(DiscoveryError, ValueError):
    """The data given to a fit is missing, malformed or too small."""


class FitError(DiscoveryError, RuntimeError):
    """A fit could not produce a model."""


class BackendUnavailable(DiscoveryError, ImportError):
    """An optional backend (PySR, Operon, plotting) is not installed or cannot run."""
