"""The errors of building and parsing candidate terms, and the base of every error.

Every error a user can cause derives from :class:`DiscoveryError`; the CLI turns
these into one line on stderr and exit code 2. The fitting engine's own errors
(bad data, a fit that cannot be made, a missing backend) are in
:mod:`discovery.errors`, which re-exports these: the one module to import
errors from.
"""

from __future__ import annotations

__all__ = ["DiscoveryError", "ParseError", "LibraryError"]


class DiscoveryError(Exception):
    """Base class of every error this project raises on bad input."""


class ParseError(DiscoveryError, ValueError):
    """A formula or basis specification could not be parsed safely."""


class LibraryError(DiscoveryError, ValueError):
    """A basis library cannot be built or evaluated as asked."""
