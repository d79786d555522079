"""The genetic search backends, in one registry: what runs each and its defaults."""

from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass, field
from typing import Any

import sympy

from ..errors import FitError

__all__ = ["Backend", "BACKENDS", "GeneticResult", "backend"]


@dataclass(frozen=True)
class GeneticResult:
    """What a genetic backend found: its chosen expression and its front."""

    expression: sympy.Expr
    front: list[dict[str, Any]]  # complexity, loss, expression (sympy), chosen
    backend: str
    seconds: float
    info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Backend:
    """A genetic backend: the function that runs it and how it is bounded."""

    name: str
    #: Module (in this package) and function: ``run(X, y, inputs, *, time_limit,
    #: random_state, options) -> GeneticResult``.
    module: str
    function: str
    #: Seconds of search when the caller gives no time limit.
    default_time_limit: float
    #: The backend's own name for an evaluation budget; None where it has none.
    budget_option: str | None
    #: What to use instead, where there is no budget.
    no_budget_hint: str = ""

    def run(self, *args: Any, **kwargs: Any) -> Any:
        """Import the backend's module (optional dependencies load here) and run it."""
        module = importlib.import_module(f".{self.module}", __package__)
        return getattr(module, self.function)(*args, **kwargs)

    def options(self, options: dict[str, Any], max_evaluations: int | None) -> dict[str, Any]:
        """``options`` with the evaluation budget under the backend's own name."""
        out = dict(options)
        if max_evaluations is not None:
            if self.budget_option is None:
                raise FitError(f"max_evaluations is not available for {self.name}; "
                               f"{self.no_budget_hint}.")
            out.setdefault(self.budget_option, int(max_evaluations))
        return out


BACKENDS: dict[str, Backend] = {b.name: b for b in (
    Backend("operon", "operon", "run_operon", 20.0, "max_evaluations"),
    Backend("gplearn", "gplearn", "run_gplearn", 20.0, None,
            "bound it with time_limit or backend_options={'generations': N}"),
    Backend("pysr", "pysr", "run_pysr", 60.0, "max_evals"),
)}


def backend(name: str) -> Backend:
    """The backend called ``name``; an unknown name fails naming the choices."""
    try:
        return BACKENDS[name]
    except KeyError:
        near = difflib.get_close_matches(str(name), list(BACKENDS), n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        raise FitError(f"Unknown genetic backend {name!r}{hint}; expected one of: "
                       f"{', '.join(BACKENDS)}.") from None
