"""The route of sums of grown monomials: y fitted with the terms a matching pursuit
grows where the data ask for them (:mod:`discovery.routes.pursuit`)."""

from __future__ import annotations

from collections.abc import Iterator

from basis_library import LibraryError

from .._data import Dataset
from ..errors import FitError
from ..model import Model
from ..stats.criteria import exact_floor
from .base import NUMERICAL, Proposal, RouteContext, RouteKind, route_bic
from .library import Settings, fit_library
from .shapes import shape_libraries

__all__ = ["GrownRoute", "grown_route"]


def grown_route(dataset: Dataset, settings: Settings, started: float
                ) -> tuple[float, Model] | None:
    """The fit of y with the terms grown by matching pursuit, and its BIC."""
    floor = exact_floor(dataset.y, per_row=True)
    for shapes in shape_libraries(None, None, dataset, settings):
        try:
            model = fit_library(dataset, shapes.library, shapes.settings(settings),
                                started=started, timings={}, design=shapes.design,
                                search=shapes.search)
        except (FitError, LibraryError, *NUMERICAL):
            continue
        model = model.updated(metrics={"strategy": RouteKind.GROWN.value})
        return route_bic(model, dataset.n, 0, floor, shapes.charge(len(model.terms))), model
    return None


class GrownRoute:
    """Sums of grown monomials (the most flexible route: tried after every route it
    could pre-empt with a series); a formula found before is no new proposal."""

    kind = RouteKind.GROWN

    def propose(self, context: RouteContext) -> Iterator[Proposal]:
        scored = grown_route(context.dataset, context.settings, context.started)
        if scored is not None:
            yield Proposal(*scored, new_only=True)
