"""The routes to a formula besides the plain library fit, in the order they are tried.

Constrained shapes first, the most flexible last: a power law (alone or times
factors), a factor common to every term, a rational law, a family with constants
inside functions, the transformed targets with the first fit's library, the sums of
grown monomials, and the transformed targets with grown monomials. A flexible route
tried earlier could pre-empt a law with a series. A new route is a module with a
class that follows :class:`~discovery.routes.base.Route` and an entry here.
"""

from __future__ import annotations

from .base import Route
from .factors import FactorRoute
from .grown import GrownRoute
from .inner import InnerRoute
from .powers import PowerLawRoute
from .rational import RationalRoute
from .transforms import TransformRoute

__all__ = ["ROUTES"]

ROUTES: tuple[Route, ...] = (
    PowerLawRoute(),
    FactorRoute(),
    RationalRoute(),
    InnerRoute(),
    TransformRoute(first=True),
    GrownRoute(),
    TransformRoute(first=False),
)
