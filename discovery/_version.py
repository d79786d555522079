"""The installed distribution's version, read once from its metadata."""

from __future__ import annotations

__all__ = ["installed_version"]


def installed_version() -> str:
    """The installed distribution's version (``discovery.__version__``, ``discover
    --version``); ``0+unknown`` for a source tree that was not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("discovery-sr")
    except PackageNotFoundError:
        return "0+unknown"
