"""The libraries a flexible route fits, built only when the one before was not enough:
the first fit's library and a power law (for a transformed target), or the terms
grown by matching pursuit (:mod:`discovery.routes.pursuit`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np
import sympy

from basis_library import Design, Library, LibraryError

from .._data import Dataset
from ..stats.criteria import log_comb
from .base import NUMERICAL
from .library import Settings, evaluate_library

__all__ = ["Shapes", "shape_libraries"]


@dataclass(frozen=True)
class Shapes:
    """A library a route fits, evaluated (``design``), with what a model of k of
    its terms is charged: ``exponents`` fitted beyond the coefficients, and the
    search ``fixed + 2γ·log C(size, k)`` (``search`` = (size, γ) for the fit's
    own extended BIC); ``max_terms`` caps the fit's terms below the settings'.
    ``target``: the transformed target and its rows' root weights
    (:func:`~discovery.routes.transforms.transformed`) the library is for; None
    for y itself."""

    library: Library
    design: Design
    exponents: int = 0
    search: tuple[int, float] = (1, 0.0)
    fixed: float = 0.0
    max_terms: int | None = None
    target: tuple[np.ndarray, np.ndarray] | None = None

    def charge(self, k: int) -> float:
        size, gamma = self.search
        return self.fixed + (2 * gamma * log_comb(max(size, k), k) if gamma else 0.0)

    def settings(self, settings: Settings) -> Settings:
        if self.max_terms is None:
            return settings
        return replace(settings, max_terms=min(settings.max_terms, self.max_terms))


def shape_libraries(name: str | None, transformed: tuple[np.ndarray, np.ndarray] | None,
                    dataset: Dataset, settings: Settings,
                    first: tuple[Library, Design] | None = None) -> Iterator[Shapes]:
    """Libraries for target ``name`` (a transform, whose values and root weights are
    ``transformed``; or None for y), each built only when the one before it was not
    enough.

    With ``first``: that library (of the first fit, searched among its p
    terms), then, for a transform, the plain power law (no factors: the
    transform is the nonlinearity; asin(λ/(d·n)) has sin y a monomial the
    library lacks). Without: the terms grown by
    :func:`~discovery.routes.pursuit.grown_monomials` (ω²/c² and 1/d² for
    sqrt(ω²/c² − π²/d²)).
    """
    from .powers import power_laws
    from .pursuit import grown_monomials

    z, root_weight = (dataset.y, None) if transformed is None else transformed
    if first is not None:
        yield Shapes(first[0], first[1], search=(len(first[1].terms), 0.5),
                     target=transformed)
        for shape, exponents, search in ([] if name is None else power_laws(
                replace(dataset, y=z), max_factors=0, random_state=settings.random_state)[:1]):
            law = Library([shape], spec=f"power law of {name} (log-space fit)")
            try:
                yield Shapes(law, evaluate_library(law, dataset, settings), exponents,
                             fixed=search, target=transformed)
            except (LibraryError, *NUMERICAL):
                pass
        return
    terms, explored, chosen = grown_monomials(dataset, z, root_weight, settings.random_state)
    if terms:
        grown = Library([sympy.Integer(1), *terms], spec="grown monomials")
        try:
            # γ = 1, twice the extended BIC's usual charge (the risk inflation
            # criterion's 2·log p a term: Foster & George 1994): the products were
            # picked by how well they fit this very residual, so a spurious one
            # fits noise as the best of all those scored does. And no more terms
            # than the pursuit chose (and an intercept): with more, a series (of
            # x^(k/2) z^(−k/2) for sqrt(x/g + z)) can reach the rounding floor.
            yield Shapes(grown, evaluate_library(grown, dataset, settings),
                         search=(explored, 1.0), max_terms=chosen + 1, target=transformed)
        except (LibraryError, *NUMERICAL):
            pass
