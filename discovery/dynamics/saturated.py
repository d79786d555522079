"""Saturating terms ``f/(1 + q·g)`` joining an equation's library where they pay."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import sympy

from basis_library import Library, as_symbols, monomials

from ..model import Model
from .weak import WeakColumns

__all__ = ["Saturated", "saturated_equation"]


@dataclass(frozen=True)
class Saturated:
    """An equation's denominator ``1 + q·g``, for the trajectory refit to free q again:
    its symbol, its value as fitted, and each of the equation's terms over it
    written with the symbol."""

    symbol: sympy.Symbol
    value: float
    terms: Mapping[sympy.Expr, sympy.Expr]


def saturated_equation(table: tuple[np.ndarray, ...], library: Library, weak: WeakColumns,
                       states: Sequence[str], base: Model,
                       refit: Callable[[tuple[np.ndarray, ...], Library], Model],
                       max_terms: int, clean: bool) -> tuple[Model, Saturated] | None:
    """The equation refitted with saturating terms ``f/(1 + q·g)`` joining the library
    (:mod:`discovery.routes.saturating`), where the extended BIC prefers it to ``base``.

    ``f`` ranges over the monomials of the states up to degree 2, ``g`` over each
    state that keeps one sign on the data (with the sign that makes it
    nonnegative) and every state's square, so ``1 + q·g`` never vanishes on the
    data (q > 0). As every coefficient, q must be at least 3 standard errors
    from 0.
    """
    from ..routes.base import route_bic
    from ..routes.saturating import saturating_terms
    from ..stats.criteria import log_comb

    symbols = dict(zip(states, as_symbols(states)))
    numerators = list(monomials(list(states), 2).terms)
    denominators: list[sympy.Expr] = []
    for name in states:
        x = symbols[name]
        values = np.concatenate([v[:, 0] for v in weak.values([x])])
        if np.all(values >= 0) or np.all(values <= 0):
            denominators.append(x if np.any(values > 0) else -x)
        denominators.append(x**2)
    G, b = table[0], table[1]
    # Noise-free, the fit's residual is the quadrature's error, not noise: q is
    # known no better than that resolution allows.
    floor = float(np.mean((b - table[3]) ** 2)) if clean else 0.0
    found = saturating_terms(b, G, numerators, denominators, weak.values, weak.weigh,
                             max_terms, floor)
    if found is None or not found.q > 3 * found.q_se:
        return None  # a q the data cannot tell from 0 (or from any value) is no law's
    extended = Library([*library.terms, *found.terms],
                       spec=f"{library.spec} with terms over 1 + q*({found.g})")
    table = (np.hstack([G, weak.columns(extended.terms[len(library.terms):])]), *table[1:])
    model = refit(table, extended)
    ratio = set(found.terms)
    if not any(t.term in ratio for t in model.terms):
        return None
    n = len(b)

    def score(m: Model, p: int) -> float:
        return route_bic(m, n, 0, 0.0, log_comb(p, len(m.terms)))

    charge = math.log(n) + math.log(len(denominators))
    if score(model, len(extended.terms)) + charge >= score(base, len(library.terms)):
        return None
    symbol = sympy.Symbol(f"_q_{base.target}")
    over = {term: f / (1 + symbol * found.g) for f, term in zip(numerators, found.terms)}
    model = model.updated(info={"saturation": {"denominator": str(1 + found.q * found.g),
                                               "q": found.q, "q_std_error": found.q_se}})
    return model, Saturated(symbol, found.q, over)
