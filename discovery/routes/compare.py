"""The routes compared: every route of the registry proposes formulas, judged by BIC on
the original target; the winner is replicated on halves of the rows and its rivals
within 2 of BIC are noted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np
import sympy
import torch

from basis_library import (
    Design,
    Library,
    LibraryError,
    as_symbols,
    compile_numpy,
    normalise_term,
)

from .._data import Dataset
from ..errors import FitError
from ..model import Model
from ..stats.criteria import exact_floor, log_comb
from .base import (
    NUMERICAL,
    RouteContext,
    RouteKind,
    exact_enough,
    route_bic,
    rows_of,
    skeleton,
    structure_of,
)
from .factors import best_factored
from .grown import grown_route
from .inner import inner_fit
from .library import Settings, fit_library
from .powers import power_laws
from .rational import rational_fit
from .registry import ROUTES
from .transforms import transform_route

__all__ = ["other_routes", "replication", "route_refit", "settled", "simplest_close"]


def other_routes(model: Model, library: Library, design: Design, dataset: Dataset,
                 settings: Settings, started: float) -> Model:
    """Try every route of :data:`~discovery.routes.registry.ROUTES` in turn and keep the
    formula of lowest BIC (of those within 2 of it, the simplest).

    Every alternative is judged on the original target, with its extra fitted
    parameters (exponents, inner scales, the factor's exponents, inner
    constants, the choice of transform) and its search charged to it. The routes
    reuse ``library``, already built (with the user's variable hints), compiled
    and evaluated (``design``) for the first fit. A route is asked for its next
    proposal only while no formula so far settles the question (:func:`settled`).
    """
    n = dataset.n
    floor = exact_floor(dataset.y, per_row=True)
    p = len(design.terms)
    best, best_bic = model, route_bic(model, n, 0, floor, log_comb(p, len(model.terms)))
    if exact_enough(model, dataset):
        return model
    tried = [(best_bic, model)]
    context = RouteContext(model, library, design, dataset, settings, started, floor)
    for route in ROUTES:
        proposals = route.propose(context)
        while not settled(best, dataset, settings):
            proposal = next(proposals, None)
            if proposal is None:
                break
            # A formula an earlier route already found is no new candidate: the grown
            # products price a snapped power law's exponents below its own route (and
            # the root of a fitted y² is |x₃x₇/x₁₂| where y = x₃x₇/x₁₂ was found).
            if settings.units is not None and not settings.units.admits(
                    proposal.model.expression):
                continue  # a formula that cannot balance the declared units
            if proposal.new_only and any(
                    skeleton(proposal.model.expression, True) == skeleton(other.expression, True)
                    for _, other in tried):
                continue
            tried.append((proposal.score, proposal.model))
            if proposal.score < best_bic:
                best, best_bic = proposal.model, proposal.score
    if not settled(best, dataset, settings):
        best_bic, best = simplest_close(best_bic, tried)
    return _note_rival_routes(best, best_bic, tried, dataset)


def simplest_close(best_bic: float, tried: list[tuple[float, Model]]) -> tuple[float, Model]:
    """Of the routes' formulas within 2 of the lowest BIC, the one of fewest nodes
    (ties to the route tried first: the same law found by two routes is
    reported as the more constrained one found it), with its BIC.

    Within 2 the data do not decide (Kass & Raftery 1995), and the simplest
    formula is then the one to state: the one-standard-error rule of
    Breiman et al. (1984) in BIC's currency. The routes price their searches
    differently (a power law's snapped exponents at log n each, a grown
    product's factors by the products scored), so a flexible approximation,
    ``(1.003 + 0.41 (v/c)^{5/2})²·m₀``, may edge out ``m₀/√(1 − v²/c²)`` by
    a fraction of a unit on 1% noise.
    """
    close = [(i, score, model) for i, (score, model) in enumerate(tried)
             if score < best_bic + 2]
    _, score, model = min(close, key=lambda t: (t[2].complexity, t[0]))
    return score, model


def route_refit(model: Model, dataset: Dataset, settings: Settings,
                library: Sequence[sympy.Expr] | None = None
                ) -> Callable[[np.ndarray, np.ndarray], np.ndarray | None] | None:
    """For the verdict's held-out test: refit ``model``'s route on some rows, predict others.

    Only for laws the library search cannot approximate: families with inner
    constants (their search run again on the rows), and sums of terms that are
    not among the ``library``'s (the symmetry and dimensional routes' terms in
    combined inputs, ``sin²(2πE t/h)``: their coefficients refitted on the rows).
    None for the others, which the library search stands for.
    """
    symbols = as_symbols(dataset.inputs)
    if RouteKind.of(model) is RouteKind.LIBRARY and library is not None and model.terms:
        known = set(library)  # a library's terms are normalised when it is made
        own = [t.term for t in model.terms]
        if all(normalise_term(t) in known for t in own):
            return None
        columns = np.atleast_2d(np.asarray(compile_numpy(symbols, own)(
            *(dataset.columns[name] for name in dataset.inputs)), dtype=float))
        matrix = np.broadcast_to(columns, (len(own), dataset.n)).T
        if not np.all(np.isfinite(matrix)):
            return None

        def refit_terms(train: np.ndarray, test: np.ndarray) -> np.ndarray | None:
            coef, *_ = np.linalg.lstsq(matrix[train], dataset.y[train], rcond=None)
            return matrix[test] @ coef

        return refit_terms
    if RouteKind.of(model) is not RouteKind.INNER:
        return None

    def refit(train: np.ndarray, test: np.ndarray) -> np.ndarray | None:
        fitted = inner_fit(rows_of(dataset, train), dict(settings.constants))
        if fitted is None:
            return None
        f = compile_numpy(symbols, fitted.expression)
        out = f(*(dataset.columns[name][test] for name in dataset.inputs))
        return np.broadcast_to(out, (len(test),))

    return refit


def replication(model: Model, library: Library, design: Design, dataset: Dataset,
                settings: Settings) -> dict[str, object]:
    """Refit the winning route on each half of the rows: do both halves choose its terms?

    Split-half replication (the two-half case of stability selection,
    Meinshausen & Bühlmann 2010), for models the bootstrap did not assess
    (power laws, transformed targets, ``n_bootstrap=0``): a formula whose
    terms only one half of the data would choose is not established by them.
    """
    kind = RouteKind.of(model)
    generator = np.random.default_rng(0 if settings.random_state is None
                                      else settings.random_state + 11)
    order = generator.permutation(dataset.n)
    mine = structure_of(model)
    halves = []
    for rows in (np.sort(order[: dataset.n // 2]), np.sort(order[dataset.n // 2:])):
        half = rows_of(dataset, rows)
        half_design = replace(design, matrix=design.matrix[torch.as_tensor(
            rows, device=design.matrix.device)])
        try:
            if kind is RouteKind.POWER_LAW:
                # The same law may come back spelled otherwise (c³/(v·sqrt(c²/v² − 1))
                # is c²/sqrt(1 − v²/c²) for positive c, v): compared by values; and
                # an inner scale left a decimal is estimated anew on each half.
                shapes = [s for s, *_ in power_laws(half, random_state=settings.random_state)]
                same = any(_proportional(s, model.terms[0].term, dataset)
                           or skeleton(s) == skeleton(model.terms[0].term) for s in shapes)
                halves.append(mine if same else frozenset(str(s) for s in shapes))
            elif kind is RouteKind.FACTORED:
                # Another factor may carry the same terms (G m₁m₂/(r₁r₂) · r₁ is G m₁m₂ · 1/r₂).
                factored = best_factored(half, library, half_design, settings, 0.0,
                                          sympy.sympify(model.info["common_factor"], locals={
                                              str(s): s for s in as_symbols(dataset.inputs)}))
                halves.append(frozenset() if factored is None else structure_of(factored[1]))
            elif kind is RouteKind.RATIONAL:
                rational = rational_fit(half, library, half_design, settings)
                halves.append(frozenset() if rational is None else frozenset(rational.structure))
            elif kind is RouteKind.INNER:
                inner = inner_fit(half, dict(settings.constants))
                halves.append(frozenset() if inner is None else frozenset(inner.structure))
            elif kind is RouteKind.TRANSFORM:
                strategy = str(model.metrics["strategy"])
                name = strategy[len(RouteKind.TRANSFORM.value) + 1:].split(",")[0]
                # The library and power law first; the grown terms only where those
                # do not choose this structure again (as the route itself goes on).
                fits = [f for f in [transform_route(name, half, settings, 0.0,
                                                     (library, half_design))] if f is not None]
                if not fits or structure_of(fits[0][1]) != mine:
                    fits += [f for f in [transform_route(name, half, settings, 0.0, None)]
                             if f is not None]
                halves.append(structure_of(min(fits, key=lambda f: f[0])[1]) if fits
                              else frozenset())
            elif kind is RouteKind.GROWN:
                grown = grown_route(half, settings, 0.0)
                halves.append(frozenset() if grown is None else structure_of(grown[1]))
            else:
                halves.append(structure_of(fit_library(half, library, settings, started=0.0,
                                                     timings={}, design=half_design)))
        except (FitError, LibraryError, *NUMERICAL):
            halves.append(frozenset())
    return {"replicated": all(h == mine for h in halves),
            "halves": [sorted(h) for h in halves]}


def _proportional(a: sympy.Expr, b: sympy.Expr, dataset: Dataset) -> bool:
    """Whether ``a`` is a constant multiple of ``b`` on ``dataset``'s rows (to 1e-6)."""
    from .factors import evaluate_shape, proportional

    va, vb = evaluate_shape(a, dataset), evaluate_shape(b, dataset)
    return va is not None and vb is not None and proportional(va, vb, rtol=1e-6)


def _note_rival_routes(best: Model, best_bic: float, tried: list[tuple[float, Model]],
                       dataset: Dataset) -> Model:
    """``best`` with a note of the other routes' formulas that score within 2 of it.

    A formula of another shape that predicts the rows differently but scores
    as well means the data do not decide between them (Kass & Raftery 1995:
    a BIC difference below 2 is "not worth more than a bare mention").
    Formulas that predict the same rows to 1e-6 are the same law.
    """
    if exact_enough(best, dataset):
        return best
    mine = best.predict(dataset.columns)
    scale = float(np.sqrt(np.mean(mine**2))) or 1.0
    rivals = []
    for score, other in tried:
        if other is best or not score < best_bic + 2:
            continue
        with np.errstate(all="ignore"):
            theirs = other.predict(dataset.columns)
        if np.all(np.isfinite(theirs)) and np.max(np.abs(theirs - mine)) > 1e-6 * scale:
            rivals.append(str(other.metrics.get("strategy", "library fit")))
    if rivals:
        notes: list[str] = list(best.metrics.get("identifiability") or [])  # type: ignore[call-overload]
        notes.append(f"{len(rivals)} formula(s) of another shape ({', '.join(rivals)}) score "
                     "within 2 of it (BIC): the data barely prefer this one")
        return best.updated(metrics={"identifiability": notes})
    return best


def settled(model: Model, dataset: Dataset, settings: Settings) -> bool:
    """:func:`exact_enough`, and, where the user named constants, no decimal left
    inside a function: an inner scale no closed form matched may be one of them,
    which a later route states (sqrt(z)·sqrt(0.10194·x/z + 1) is sqrt(x/g + z)
    with g = 9.81 named)."""
    if not exact_enough(model, dataset):
        return False
    return not settings.constants or not any(
        f.has(sympy.Float) for t in model.terms for f in t.term.atoms(sympy.Function, sympy.Pow))
