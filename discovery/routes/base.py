"""What every route shares: its typed identity, the protocol it follows, and the score
that compares routes (BIC on the original target, every fitted parameter and the
search charged).

A route (:class:`Route`) proposes formulas for a dataset; the registry
(:mod:`discovery.routes.registry`) lists the routes in the order they are tried, and
:func:`discovery.routes.compare.other_routes` keeps the best. Adding a route means a
module with a class that follows :class:`Route` and one entry in the registry, as
PySINDy adds an optimizer.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from enum import Enum
from typing import Protocol

import numpy as np
import sympy
import torch

from basis_library import Design, Library

from .._data import Dataset
from ..errors import FitError
from ..model import Model
from ..stats.criteria import ebic, exact_floor
from ..stats.nls import NonlinearFit
from .library import Settings

__all__ = [
    "NUMERICAL", "Proposal", "Route", "RouteContext", "RouteKind", "exact_enough", "model_of",
    "nonlinear_bic", "nonlinear_model", "route_bic", "rows_of", "skeleton", "structure_of",
]

#: Numerical failures of an alternative route: the route is skipped, the fit goes on.
NUMERICAL = (np.linalg.LinAlgError, torch.linalg.LinAlgError)


class RouteKind(str, Enum):
    """Which route a model came from. Its value begins the model's
    ``metrics["strategy"]``, which may add what the route chose (the factor, the
    family, the transform): ``"library times m1*m2"``, ``"fit of y**2, inverted"``."""

    LIBRARY = "library"
    POWER_LAW = "power law"
    FACTORED = "library times"
    RATIONAL = "rational"
    INNER = "inner constants"
    TRANSFORM = "fit of"
    GROWN = "grown monomials"

    @classmethod
    def of(cls, model: Model) -> RouteKind:
        """The route of ``model`` (a plain library fit where none is recorded).

        Examples
        --------
        >>> RouteKind.of_strategy("library times m1*m2") is RouteKind.FACTORED
        True
        """
        return cls.of_strategy(model.metrics.get("strategy"))

    @classmethod
    def of_strategy(cls, strategy: object) -> RouteKind:
        """The route whose name begins ``strategy`` (the only reading of that string)."""
        text = str(strategy or cls.LIBRARY.value)
        for kind in cls:
            if kind is not cls.LIBRARY and (text == kind.value
                                            or text.startswith(kind.value + " ")):
                return kind
        return cls.LIBRARY


@dataclass(frozen=True)
class RouteContext:
    """What a route may use: the plain library fit (``base``) and its library,
    already built and evaluated (``design``), the data, the settings, when the fit
    started, and the floor of a mean squared error (:func:`exact_floor` per row)."""

    base: Model
    library: Library
    design: Design
    dataset: Dataset
    settings: Settings
    started: float
    floor: float


@dataclass(frozen=True)
class Proposal:
    """A route's formula with its score (:func:`route_bic`). ``new_only``: skipped
    where a formula tried before has the same shape (:func:`skeleton`), so a
    flexible route does not re-price a law a more constrained one found."""

    score: float
    model: Model
    new_only: bool = False


class Route(Protocol):
    """A route to a formula: its kind, and its proposals for a dataset.

    ``propose`` is a generator: the comparison asks for the next proposal only
    while no formula so far is exact, so a route's costly fits are made only
    when needed.
    """

    kind: RouteKind

    def propose(self, context: RouteContext) -> Iterator[Proposal]: ...


def route_bic(model: Model, n: int, extra: int, floor: float, search: float = 0.0) -> float:
    """BIC on the original scale; ``extra`` counts fitted parameters beyond the terms.

    ``search`` is the log of the number of structures the route chose among
    (``log C(p, k)`` for k terms picked from p library columns, the extended
    BIC's price of the search, Chen & Chen 2008, γ = 1/2): twelve terms
    picked from hundreds fit noise better than a power law with two exponents
    and must not win by that alone; a factor picked from hundreds of
    candidates likewise pays for the picking.
    """
    rss = float(model.metrics["mse"]) * n  # type: ignore[arg-type]
    return ebic(rss, n, 0, len(model.terms) + extra, floor * n, gamma=0.0) + search


def exact_enough(model: Model, dataset: Dataset) -> bool:
    """A fit at the rounding floor (:data:`~discovery.stats.criteria.EXACT_RSS` of y·y)
    needs no other route.

    Not R² > 1 - 1e-12: twelve smooth terms found by the subset search can
    approximate exp(-θ²/2) that closely on a finite range, and would then
    hide the exact one-term power law.
    """
    rss = float(model.metrics["mse"]) * dataset.n  # type: ignore[arg-type]
    return rss <= exact_floor(dataset.y)


def rows_of(dataset: Dataset, rows: np.ndarray) -> Dataset:
    """``dataset`` restricted to ``rows``."""
    return replace(dataset, y=dataset.y[rows],
                   columns={k: v[rows] for k, v in dataset.columns.items()})


def skeleton(expr: sympy.Expr, signless: bool = False) -> sympy.Expr:
    """``expr`` with every decimal constant replaced by one symbol: its shape
    (``signless``: and every ``Abs(u)`` by ``u``)."""
    c = sympy.Symbol("_decimal_")
    shape = expr.xreplace({f: c for f in expr.atoms(sympy.Float)})
    return shape.replace(sympy.Abs, lambda u: u) if signless else shape


def model_of(expression: sympy.Expr, dataset: Dataset, inner: Model, strategy: str,
             inner_terms: list[dict[str, object]], reason: str) -> Model | None:
    """A model that is ``expression`` on the original target, from a route whose
    own fit (``inner``: its library and front are reported) is not linear in y."""
    from .library import model_from_expression

    try:
        model = model_from_expression(expression, dataset, method="sparse", front=[],
                                      info=dict(inner.info), constants=dict(inner.constants))
    except (FitError, ValueError, TypeError, ZeroDivisionError):
        return None
    if not math.isfinite(float(model.metrics["mse"])):  # type: ignore[arg-type]
        return None
    return model.updated(pareto=inner.pareto, library=inner.library,
                         metrics={"strategy": strategy},
                         info={"inner_terms": inner_terms, "no_uncertainty": reason})


def nonlinear_model(fitted: NonlinearFit | None, dataset: Dataset, base: Model, strategy: str,
                    reason: str) -> Model | None:
    """A nonlinear route's fit as a Model (:func:`model_of`) carrying its parameter
    count and search for :func:`nonlinear_bic`; None for no fit."""
    model = None if fitted is None else model_of(
        fitted.expression, dataset, base, strategy, [{"term": t} for t in fitted.structure],
        reason)
    if model is not None and fitted is not None:
        model = model.updated(info={"n_parameters": fitted.n_parameters,
                                    "search": fitted.search})
    return model


def nonlinear_bic(model: Model, n: int, floor: float) -> float:
    """:func:`route_bic` of a :func:`nonlinear_model`, every parameter and its search
    charged."""
    return route_bic(model, n,
                     int(model.info["n_parameters"]) - len(model.terms),  # type: ignore[call-overload]
                     floor, float(model.info["search"]))  # type: ignore[arg-type]


def structure_of(model: Model) -> frozenset[str]:
    """The terms a route chose: the inner fit's for a transformed target, else the model's."""
    inner: list[Mapping[str, object]] = model.info.get("inner_terms") or []  # type: ignore[assignment]
    if inner:
        return frozenset(str(t["term"]) for t in inner)
    return frozenset(str(t.term) for t in model.terms)
