"""The one place optional dependencies are imported."""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import BackendUnavailable

__all__ = ["optional_import"]


def optional_import(module: str, extra: str, *, purpose: str | None = None) -> ModuleType:
    """Import ``module`` or raise :class:`BackendUnavailable` naming the extra to install.

    Examples
    --------
    >>> optional_import("no_such_module_xyz", "plots")
    Traceback (most recent call last):
    ...
    discovery.errors.BackendUnavailable: no_such_module_xyz is needed ...
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        what = f" for {purpose}" if purpose else ""
        raise BackendUnavailable(
            f"{module} is needed{what} but is not installed; "
            f"install with: pip install 'discovery-sr[{extra}]'") from exc
