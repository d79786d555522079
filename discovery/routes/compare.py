"""Routes to a formula besides the plain library fit, compared by BIC on the original target.

Power laws (with factors), sums of grown monomials, a factor common to every
term, rational laws, families with constants inside functions and
transformed targets; the winner is replicated on halves of the rows and its
rivals within 2 of BIC are noted.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace

import numpy as np
import sympy
import torch

from basis_library import (
    Design,
    Library,
    LibraryError,
    as_symbols,
    compile_numpy,
)

from .._data import Dataset
from ..errors import FitError
from ..model import Model
from ..stats.criteria import ebic, exact_floor, log_comb
from ..stats.nls import NonlinearFit
from .library import Settings, fit_library

__all__ = [
    "route_bic", "other_routes", "route_refit", "replication", "exact_enough",
]

#: Numerical failures of an alternative route: the route is skipped, the fit goes on.
_NUMERICAL = (np.linalg.LinAlgError, torch.linalg.LinAlgError)


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


def other_routes(model: Model, library: Library, design: Design, dataset: Dataset,
                 settings: Settings, started: float) -> Model:
    """Try power laws (with factors), grown monomials, a factor common to every term,
    rational laws, families with inner constants and fits of transformed targets;
    keep the lowest BIC.

    Every alternative is judged on the original target, with its extra fitted
    parameters (exponents, inner scales, the factor's exponents, inner
    constants, the choice of transform) and its search charged to it. The other routes reuse
    ``library``, already built (with the user's variable hints), compiled and
    evaluated (``design``) for the first fit.
    """
    from .powers import power_laws
    from .transforms import TRANSFORMS

    n = dataset.n
    floor = exact_floor(dataset.y, per_row=True)
    p = len(design.terms)
    best, best_bic = model, route_bic(model, n, 0, floor, log_comb(p, len(model.terms)))
    if exact_enough(model, dataset):
        return model
    tried = [(best_bic, model)]
    for shape, n_exponents, search in power_laws(dataset, random_state=settings.random_state):
        if _settled(best, dataset, settings):
            break
        try:
            alternative = fit_library(dataset, Library([shape], spec="power law (log-space fit)"),
                                      settings, started=started, timings={})
        except (FitError, LibraryError, *_NUMERICAL):
            continue
        alternative = alternative.updated(metrics={"strategy": "power law"})
        score = route_bic(alternative, n, n_exponents, floor, search)
        tried.append((score, alternative))
        if score < best_bic:
            best, best_bic = alternative, score
    factored = None if _settled(best, dataset, settings) else _best_factored(
        dataset, library, design, settings, started)
    if factored is not None:
        score, chosen = factored
        tried.append((score, chosen))
        if score < best_bic:
            best, best_bic = chosen, score
    for route in (lambda: _rational_route(dataset, library, design, settings, model),
                  lambda: _inner_route(dataset, settings, model)):
        found = None if _settled(best, dataset, settings) else route()
        if found is not None:
            score = _nonlinear_bic(found, n, floor)
            tried.append((score, found))
            if score < best_bic:
                best, best_bic = found, score
    # The transforms with the library and a power law; then the grown monomials, for
    # y and for each transform: the most flexible route comes after every route it
    # could otherwise pre-empt with a series.
    names = [name for name, *_ in TRANSFORMS]
    stages: list[tuple[str | None, tuple[Library, Design] | None]] = [
        *[(name, (library, design)) for name in names], (None, None),
        *[(name, None) for name in names]]
    for name, first in stages:
        if _settled(best, dataset, settings):
            break
        scored = (_grown_route(dataset, settings, started) if name is None
                  else _transform_route(name, dataset, settings, started, first))
        # A formula an earlier route already found is no new candidate: the grown
        # products price a snapped power law's exponents below its own route (and
        # the root of a fitted y² is |x₃x₇/x₁₂| where y = x₃x₇/x₁₂ was found).
        if scored is not None and not any(_skeleton(scored[1].expression, True)
                                          == _skeleton(other.expression, True)
                                          for _, other in tried):
            tried.append(scored)
            if scored[0] < best_bic:
                best_bic, best = scored
    if not _settled(best, dataset, settings):
        best_bic, best = _simplest_close(best_bic, tried)
    return _note_rival_routes(best, best_bic, tried, dataset)


def _simplest_close(best_bic: float, tried: list[tuple[float, Model]]) -> tuple[float, Model]:
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


def _grown_route(dataset: Dataset, settings: Settings, started: float
                 ) -> tuple[float, Model] | None:
    """The fit of y with the terms grown by matching pursuit, and its BIC."""
    floor = exact_floor(dataset.y, per_row=True)
    for shapes in _shape_libraries(None, dataset, settings):
        try:
            model = fit_library(dataset, shapes.library, shapes.settings(settings),
                                started=started, timings={}, design=shapes.design,
                                search=shapes.search)
        except (FitError, LibraryError, *_NUMERICAL):
            continue
        model = model.updated(metrics={"strategy": "grown monomials"})
        return route_bic(model, dataset.n, 0, floor, shapes.charge(len(model.terms))), model
    return None


def _transform_route(name: str, dataset: Dataset, settings: Settings, started: float,
                     first: tuple[Library, Design] | None) -> tuple[float, Model] | None:
    """The fit of transformed target ``name`` of lowest BIC on y over the
    libraries of :func:`_shape_libraries` (in turn, until one is exact), and its
    BIC: ``first`` and a power law, or (``first`` None) the grown monomials."""
    floor = exact_floor(dataset.y, per_row=True)
    best: tuple[float, Model] | None = None
    for shapes in _shape_libraries(name, dataset, settings, first):
        fitted = _transform_fit(name, dataset, shapes, settings, started)
        if fitted is None:
            continue
        inner, inverted = fitted
        # Every inner coefficient and exponent is a fitted parameter, plus the
        # choice of transform.
        score = route_bic(inverted, dataset.n,
                     len(inner.terms) + shapes.exponents + 1 - len(inverted.terms),
                     floor, shapes.charge(len(inner.terms)))
        if best is None or score < best[0]:
            best = (score, inverted)
        if exact_enough(inverted, dataset):
            break
    return best


def _transformed(name: str, y: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Transform ``name`` of ``y`` and each row's root weight 1/|g'(y)| (the delta
    method: the fit of g(y) then approximates least squares on y), normalised;
    None where the transform does not apply."""
    from .transforms import TRANSFORMS

    _, forward, _, slope = next(t for t in TRANSFORMS if t[0] == name)
    with np.errstate(all="ignore"):
        z = forward(y)
        root_weight = 1 / np.abs(slope(y))
    if not (np.all(np.isfinite(z)) and np.all(np.isfinite(root_weight))) or np.ptp(z) == 0:
        return None
    # The linearisation fails where the noise is comparable to y (1/|2y| for y² grows
    # without bound as a noisy y nears 0, and a few such rows would steer the fit):
    # no row weighs more than ten times the median.
    root_weight = np.minimum(root_weight, 10 * float(np.median(root_weight)))
    return z, root_weight / math.sqrt(float(np.mean(root_weight**2)))


@dataclass(frozen=True)
class _Shapes:
    """A library a route fits, evaluated (``design``), with what a model of k of
    its terms is charged: ``exponents`` fitted beyond the coefficients, and the
    search ``fixed + 2γ·log C(size, k)`` (``search`` = (size, γ) for the fit's
    own extended BIC); ``max_terms`` caps the fit's terms below the settings'.
    ``target``: the transformed target and its rows' root weights
    (:func:`_transformed`) the library is for; None for y itself."""

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


def _shape_libraries(name: str | None, dataset: Dataset, settings: Settings,
                     first: tuple[Library, Design] | None = None) -> Iterator[_Shapes]:
    """Libraries for target ``name`` (a transform, or None for y), each built
    only when the one before it was not enough.

    With ``first``: that library (of the first fit, searched among its p
    terms), then, for a transform, the plain power law (no factors: the
    transform is the nonlinearity; asin(λ/(d·n)) has sin y a monomial the
    library lacks). Without: the terms grown by
    :func:`~discovery.routes.grown.grown_monomials` (ω²/c² and 1/d² for
    sqrt(ω²/c² − π²/d²)).
    """
    from .grown import grown_monomials
    from .library import evaluate_library
    from .powers import power_laws

    transformed = None if name is None else _transformed(name, dataset.y)
    if name is not None and transformed is None:
        return
    z, root_weight = (dataset.y, None) if transformed is None else transformed
    if first is not None:
        yield _Shapes(first[0], first[1], search=(len(first[1].terms), 0.5),
                      target=transformed)
        for shape, exponents, search in ([] if name is None else power_laws(
                replace(dataset, y=z), max_factors=0, random_state=settings.random_state)[:1]):
            law = Library([shape], spec=f"power law of {name} (log-space fit)")
            try:
                yield _Shapes(law, evaluate_library(law, dataset, settings), exponents,
                              fixed=search, target=transformed)
            except (LibraryError, *_NUMERICAL):
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
            yield _Shapes(grown, evaluate_library(grown, dataset, settings), search=(explored, 1.0),
                          max_terms=chosen + 1, target=transformed)
        except (LibraryError, *_NUMERICAL):
            pass


def _rational_route(dataset: Dataset, library: Library, design: Design,
                    settings: Settings, base: Model) -> Model | None:
    """The rational law P/Q of :mod:`discovery.routes.rational` as a Model, or None."""
    from .rational import rational_fit

    return _nonlinear_model(
        rational_fit(dataset, library, design, settings), dataset, base, "rational",
        "it is a rational fit P/Q refined by nonlinear least squares; the linearised terms "
        "are in info['inner_terms']")


def _inner_route(dataset: Dataset, settings: Settings, base: Model) -> Model | None:
    """The law with constants inside functions (:mod:`discovery.routes.inner`) as a Model,
    or None."""
    from .inner import inner_fit

    fitted = inner_fit(dataset, dict(settings.constants))
    return None if fitted is None else _nonlinear_model(
        fitted, dataset, base, f"inner constants ({fitted.structure[0]})",
        "its inner constants (rates, frequencies, shifts) were fitted by variable projection; "
        "the family and its terms are in info['inner_terms']")


def _nonlinear_model(fitted: NonlinearFit | None, dataset: Dataset, base: Model, strategy: str,
                     reason: str) -> Model | None:
    """A nonlinear route's fit as a Model (:func:`_model_of`) carrying its parameter
    count and search for :func:`_nonlinear_bic`; None for no fit."""
    model = None if fitted is None else _model_of(
        fitted.expression, dataset, base, strategy, [{"term": t} for t in fitted.structure],
        reason)
    if model is not None and fitted is not None:
        model = model.updated(info={"n_parameters": fitted.n_parameters,
                                    "search": fitted.search})
    return model


def _nonlinear_bic(model: Model, n: int, floor: float) -> float:
    """:func:`route_bic` of a :func:`_nonlinear_model`, every parameter and its search charged."""
    return route_bic(model, n,
                int(model.info["n_parameters"]) - len(model.terms),  # type: ignore[call-overload]
                floor, float(model.info["search"]))  # type: ignore[arg-type]


def route_refit(model: Model, dataset: Dataset, settings: Settings
                ) -> Callable[[np.ndarray, np.ndarray], np.ndarray | None] | None:
    """For the verdict's held-out test: refit ``model``'s route on some rows, predict others.

    Only for routes whose laws the library cannot approximate (families with
    inner constants); None for the others, which the library search stands for.
    """
    from .inner import inner_fit

    if not str(model.metrics.get("strategy") or "").startswith("inner constants"):
        return None
    symbols = as_symbols(dataset.inputs)

    def refit(train: np.ndarray, test: np.ndarray) -> np.ndarray | None:
        fitted = inner_fit(_rows(dataset, train), dict(settings.constants))
        if fitted is None:
            return None
        f = compile_numpy(symbols, fitted.expression)
        out = f(*(dataset.columns[name][test] for name in dataset.inputs))
        return np.broadcast_to(out, (len(test),))

    return refit


def _rows(dataset: Dataset, rows: np.ndarray) -> Dataset:
    """``dataset`` restricted to ``rows``."""
    return replace(dataset, y=dataset.y[rows],
                   columns={k: v[rows] for k, v in dataset.columns.items()})


def _factored_fit(factor: sympy.Expr, dataset: Dataset, library: Library, design: Design,
                  settings: Settings, started: float) -> Model | None:
    """The library fit of y with every column multiplied by the monomial ``factor``."""
    from .factors import evaluate_shape as values_of

    values = values_of(factor, dataset)
    if values is None:
        return None
    scale = torch.tensor(np.array(values), dtype=design.matrix.dtype, device=design.matrix.device)
    scaled = replace(design, matrix=design.matrix * scale[:, None],
                     terms=tuple(factor * t for t in design.terms))
    try:
        model = fit_library(dataset, library, settings, started=started, timings={},
                            design=scaled)
    except (FitError, LibraryError, *_NUMERICAL):
        return None
    return model.updated(metrics={"strategy": f"library times {factor}"},
                         info={"common_factor": str(factor)})


def _best_factored(dataset: Dataset, library: Library, design: Design, settings: Settings,
                   started: float, also: sympy.Expr | None = None
                   ) -> tuple[float, Model] | None:
    """The factored fit (:func:`_factored_fit`) of lowest BIC over the factors
    proposed for ``dataset`` (and ``also``), with its BIC; the exponents of
    every input were estimated to propose the factor, so each is charged."""
    from .factors import common_factors

    factors = common_factors(dataset)
    if also is not None and also not in factors:
        factors.append(also)
    best, best_bic = None, math.inf
    floor = exact_floor(dataset.y, per_row=True)
    for factor in factors:
        fitted = _factored_fit(factor, dataset, library, design, settings, started)
        if fitted is None:
            continue
        score = route_bic(fitted, dataset.n, len(dataset.inputs), floor,
                     log_comb(len(design.terms), len(fitted.terms)))
        if score < best_bic:
            best, best_bic = fitted, score
        if exact_enough(fitted, dataset):
            break
    return None if best is None else (best_bic, best)


def _transform_fit(name: str, dataset: Dataset, shapes: _Shapes, settings: Settings,
                   started: float) -> tuple[Model, Model] | None:
    """The fit of transformed target ``name`` with ``shapes`` (built for it by
    :func:`_shape_libraries`) and the model it gives for y.

    Rows are weighted by 1/|g'(y)| (the delta method), so the fit approximates
    least squares on y. None where the transform does not apply or its
    weighted R² is below 0.99.
    """
    from .transforms import TRANSFORMS

    inverse = next(t for t in TRANSFORMS if t[0] == name)[2]
    if shapes.target is None:
        return None
    z, root_weight = shapes.target
    design = shapes.design
    scale = torch.as_tensor(root_weight, dtype=design.matrix.dtype, device=design.matrix.device)
    weighted = replace(design, matrix=design.matrix * scale[:, None])
    try:
        inner = fit_library(replace(dataset, y=z * root_weight), shapes.library,
                            shapes.settings(settings), started=started, timings={},
                            design=weighted, search=shapes.search)
    except (FitError, LibraryError, *_NUMERICAL):
        return None
    # R² of the weighted fit; training metrics on z would mix weighted and not.
    zw = z * root_weight
    mean = float(np.sum(zw * root_weight) / np.sum(root_weight**2))
    tss = float(np.sum((zw - mean * root_weight) ** 2))
    rss = float(inner.metrics["mse_refit"]) * dataset.n  # type: ignore[arg-type]
    if tss <= 0 or 1 - rss / tss < 0.99:
        return None
    expression, inner_terms = _refit_inverted(inverse, inner, dataset, settings.constants)
    inverted = _model_of(expression, dataset, inner, f"fit of {name}, inverted", inner_terms,
                         f"it is a fit of {name}, inverted and refined by least squares on "
                         "y; its terms are in info['inner_terms']")
    return None if inverted is None else (inner, inverted)


def _refit_inverted(inverse: Callable[[sympy.Expr], sympy.Expr], inner: Model, dataset: Dataset,
                    named: Mapping[str, float]
                    ) -> tuple[sympy.Expr, list[dict[str, object]]]:
    """``inverse(Σ cⱼ φⱼ)`` with the inner fit's terms φⱼ, its coefficients refitted
    on y, then snapped to closed forms only where honest; and the terms' records.

    The weighted fit of g(y) is only the linearisation of least squares on y:
    g(y + ε) is biased where the noise is not small against y (E[1/(y + ε)] ≠
    1/y), and its standard errors are of the transformed scale, so a closed
    form judged on them is judged on the wrong precision. Nonlinear least
    squares of ``y − g⁻¹(Σ cⱼ φⱼ)`` from the inner coefficients is the
    maximum-likelihood fit under noise on y; its Jacobian gives the standard
    errors that :func:`snap_parameters` weighs (its look-elsewhere test and
    likelihood-ratio test, as for a library fit). Where the refit fails the
    inner fit is inverted as it is.
    """
    from ..stats.nls import fit_parameters, standard_errors
    from ..symbolic.evaluate import term_columns
    from ..symbolic.snap import snap_parameters

    records = [t.to_dict() for t in inner.terms]
    plain = inverse(inner.expression)
    u = sympy.Symbol("u")
    outer = compile_numpy([u], inverse(u))
    terms = [t.term for t in inner.terms]
    Phi = term_columns(terms, dataset)
    y = dataset.y

    def residual(c: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            return np.asarray(outer(Phi @ c), dtype=float) - y

    start = np.array([t.coefficient for t in inner.terms], dtype=float)
    try:
        if not np.all(np.isfinite(residual(start))):
            return plain, records
        coef, rss, J = fit_parameters(residual, start)
    except (ValueError, np.linalg.LinAlgError):
        return plain, records
    if not (np.all(np.isfinite(coef)) and math.isfinite(rss)
            and np.all(np.isfinite(residual(coef)))):
        return plain, records
    se = standard_errors(J, rss, dataset.n)
    floor = exact_floor(y)
    exprs, values, _ = snap_parameters(residual, coef, rss, se, named, floor, dataset.n)
    for record, expr, value, error in zip(records, exprs, values, se):
        record.update(coefficient=float(value), std_error=float(error),
                      closed_form=None if isinstance(expr, sympy.Float) else str(expr))
    return inverse(sympy.Add(*[e * t for e, t in zip(exprs, terms)])), records


def _structure(model: Model) -> frozenset[str]:
    """The terms a route chose: the inner fit's for a transformed target, else the model's."""
    inner: list[dict[str, object]] = model.info.get("inner_terms") or []  # type: ignore[assignment]
    if inner:
        return frozenset(str(t["term"]) for t in inner)
    return frozenset(str(t.term) for t in model.terms)


def replication(model: Model, library: Library, design: Design, dataset: Dataset,
                settings: Settings) -> dict[str, object]:
    """Refit the winning route on each half of the rows: do both halves choose its terms?

    Split-half replication (the two-half case of stability selection,
    Meinshausen & Bühlmann 2010), for models the bootstrap did not assess
    (power laws, transformed targets, ``n_bootstrap=0``): a formula whose
    terms only one half of the data would choose is not established by them.
    """
    from .powers import power_laws

    strategy = str(model.metrics.get("strategy") or "library")
    generator = np.random.default_rng(0 if settings.random_state is None
                                      else settings.random_state + 11)
    order = generator.permutation(dataset.n)
    mine = _structure(model)
    halves = []
    for rows in (np.sort(order[: dataset.n // 2]), np.sort(order[dataset.n // 2:])):
        half = _rows(dataset, rows)
        half_design = replace(design, matrix=design.matrix[torch.as_tensor(
            rows, device=design.matrix.device)])
        try:
            if strategy == "power law":
                # The same law may come back spelled otherwise (c³/(v·sqrt(c²/v² − 1))
                # is c²/sqrt(1 − v²/c²) for positive c, v): compared by values; and
                # an inner scale left a decimal is estimated anew on each half.
                shapes = [s for s, *_ in power_laws(half, random_state=settings.random_state)]
                same = any(_proportional(s, model.terms[0].term, dataset)
                           or _skeleton(s) == _skeleton(model.terms[0].term) for s in shapes)
                halves.append(mine if same else frozenset(str(s) for s in shapes))
            elif strategy.startswith("library times "):
                # Another factor may carry the same terms (G m₁m₂/(r₁r₂) · r₁ is G m₁m₂ · 1/r₂).
                factored = _best_factored(half, library, half_design, settings, 0.0,
                                          sympy.sympify(model.info["common_factor"], locals={
                                              str(s): s for s in as_symbols(dataset.inputs)}))
                halves.append(frozenset() if factored is None else _structure(factored[1]))
            elif strategy == "rational":
                from .rational import rational_fit

                rational = rational_fit(half, library, half_design, settings)
                halves.append(frozenset() if rational is None else frozenset(rational.structure))
            elif strategy.startswith("inner constants"):
                from .inner import inner_fit

                inner = inner_fit(half, dict(settings.constants))
                halves.append(frozenset() if inner is None else frozenset(inner.structure))
            elif strategy.startswith("fit of "):
                name = strategy[len("fit of "):].split(",")[0]
                # The library and power law first; the grown terms only where those
                # do not choose this structure again (as the route itself goes on).
                fits = [f for f in [_transform_route(name, half, settings, 0.0,
                                                     (library, half_design))] if f is not None]
                if not fits or _structure(fits[0][1]) != mine:
                    fits += [f for f in [_transform_route(name, half, settings, 0.0, None)]
                             if f is not None]
                halves.append(_structure(min(fits, key=lambda f: f[0])[1]) if fits
                              else frozenset())
            elif strategy == "grown monomials":
                grown = _grown_route(half, settings, 0.0)
                halves.append(frozenset() if grown is None else _structure(grown[1]))
            else:
                halves.append(_structure(fit_library(half, library, settings, started=0.0,
                                                     timings={}, design=half_design)))
        except (FitError, LibraryError, *_NUMERICAL):
            halves.append(frozenset())
    return {"replicated": all(h == mine for h in halves),
            "halves": [sorted(h) for h in halves]}


def _skeleton(expr: sympy.Expr, signless: bool = False) -> sympy.Expr:
    """``expr`` with every decimal constant replaced by one symbol: its shape
    (``signless``: and every ``Abs(u)`` by ``u``)."""
    c = sympy.Symbol("_decimal_")
    shape = expr.xreplace({f: c for f in expr.atoms(sympy.Float)})
    return shape.replace(sympy.Abs, lambda u: u) if signless else shape


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


def _settled(model: Model, dataset: Dataset, settings: Settings) -> bool:
    """:func:`exact_enough`, and, where the user named constants, no decimal left
    inside a function: an inner scale no closed form matched may be one of them,
    which a later route states (sqrt(z)·sqrt(0.10194·x/z + 1) is sqrt(x/g + z)
    with g = 9.81 named)."""
    if not exact_enough(model, dataset):
        return False
    return not settings.constants or not any(
        f.has(sympy.Float) for t in model.terms for f in t.term.atoms(sympy.Function, sympy.Pow))


def exact_enough(model: Model, dataset: Dataset) -> bool:
    """A fit at the rounding floor (:data:`EXACT_RSS` of y·y) needs no other route.

    Not R² > 1 - 1e-12: twelve smooth terms found by the subset search can
    approximate exp(-θ²/2) that closely on a finite range, and would then
    hide the exact one-term power law.
    """
    rss = float(model.metrics["mse"]) * dataset.n  # type: ignore[arg-type]
    return rss <= exact_floor(dataset.y)


def _model_of(expression: sympy.Expr, dataset: Dataset, inner: Model, strategy: str,
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

