"""Genetic search backends behind the same Model: run, translate, polish."""

from __future__ import annotations

import logging
import math
import time
from typing import TYPE_CHECKING, Any

import sympy

from basis_library import Library, as_symbols, normalise_term, term_complexity

from ..errors import FitError
from ..model import Model
from ..routes.library import front_frame, model_from_expression
from ..stats.noise import noise_variance
from ..stats.tests import lr_allowance
from ..symbolic.snap import snap_floats
from .registry import GeneticResult, backend

if TYPE_CHECKING:
    from .._data import Dataset
    from ..routes.library import Settings

__all__ = ["GeneticResult", "discover_genetic", "additive_terms",
           "pick_from_front", "polish_model"]

log = logging.getLogger(__name__)

_MAX_TERMS_AFTER_EXPANSION = 300


def additive_terms(expr: sympy.Expr) -> list[sympy.Expr]:
    """The distinct additive terms of ``expr`` once expanded, coefficients stripped.

    Examples
    --------
    >>> import sympy
    >>> x, y = sympy.symbols("x y")
    >>> additive_terms(0.003 + 70.0 * x * (1 + 0.5 * y))
    [1, x, x*y]
    """
    expanded = sympy.expand(expr)
    parts = sympy.Add.make_args(expanded)
    if len(parts) > _MAX_TERMS_AFTER_EXPANSION:
        parts = sympy.Add.make_args(expr)
    terms: dict[sympy.Expr, None] = {}
    for part in parts:
        term = normalise_term(part)
        if term != 0:
            terms.setdefault(term, None)
    return sorted(terms, key=lambda t: (term_complexity(t), str(t)))


def _translate(expr: sympy.Expr, dataset: Dataset) -> sympy.Expr:
    """Map a backend's symbols onto the dataset's input symbols, by name."""
    table = {s.name: s for s in as_symbols(dataset.inputs)}
    unknown = sorted(s.name for s in expr.free_symbols if s.name not in table)  # type: ignore[attr-defined]
    if unknown:
        raise FitError(f"The backend's expression uses {', '.join(unknown)}, which are not "
                       f"inputs; inputs are: {', '.join(dataset.inputs)}.")
    return expr.xreplace({s: table[s.name] for s in expr.free_symbols})  # type: ignore[attr-defined]


def discover_genetic(dataset: Dataset, method: str, settings: Settings, *, started: float,
                     polish: bool, time_limit: float | None,
                     options: dict[str, Any]) -> Model:
    """Run a genetic backend and return the same Model as the sparse method."""
    runner = backend(method)
    result = runner.run(dataset.matrix(), dataset.y, dataset.inputs,
                        time_limit=runner.default_time_limit if time_limit is None else time_limit,
                        random_state=settings.random_state, options=options)
    front = [{**r, "expression": _translate(r["expression"], dataset)} for r in result.front]
    backend_pick = _translate(result.expression, dataset)
    raw = pick_from_front(front, dataset, settings.criterion) or backend_pick
    for r in front:
        r["chosen"] = r["expression"] == raw
    info = {"backend": result.backend, "backend_seconds": result.seconds,
            "backend_expression": str(raw), "backend_pick": str(backend_pick),
            "chosen_by": "aic" if settings.criterion == "aic" else "bic", **result.info}
    if not polish:
        model = model_from_expression(raw, dataset, method=method, front=front, info=info)
        return model.updated(timings={"total": time.perf_counter() - started})
    return polish_model(raw, dataset, settings, method=method, front=front, info=info,
                        started=started)


def pick_from_front(front: list[dict[str, Any]], dataset: Dataset,
                    criterion: str = "bic") -> sympy.Expr | None:
    """The front's expression with the least BIC (AIC where ``criterion`` is "aic").

    The same criterion as the sparse engine, on the original target in
    float64: ``n log(RSS/n) + k log n`` plus the small-sample correction, ``k``
    the expression's fitted constants (its floats) plus one. Backends' own
    picks differ (pyoperon's default is a description length with an assumed
    noise level of 1, which returned a straight line for I.6.2a while its
    front held the law), so a model is chosen from every backend's front alike.
    """
    from ..stats.criteria import aic, ebic, exact_floor

    n = dataset.n
    floor = max(exact_floor(dataset.y), 1e-300)
    best, best_score = None, math.inf
    for entry in front:
        expr = entry["expression"]
        try:
            mse = float(model_from_expression(expr, dataset, method="front", front=[],
                                              info={}).metrics["mse"])  # type: ignore[arg-type]
        except (FitError, ValueError, TypeError, ZeroDivisionError, OverflowError):
            continue
        if not math.isfinite(mse):
            continue
        k = len(expr.atoms(sympy.Float)) + 1
        score = (aic(mse * n, n, k, floor) if criterion == "aic"
                 else ebic(mse * n, n, 0, k, floor, gamma=0.0))
        if score < best_score:
            best, best_score = expr, score
    return best


def polish_model(raw: sympy.Expr, dataset: Dataset, settings: Settings, *, method: str,
                 front: list[dict[str, Any]], info: dict[str, Any], started: float) -> Model:
    """Refit a genetic expression's additive terms with the sparse engine.

    Terms with their inner constants snapped to closed forms are used when that
    raises the residual sum of squares by no more than the likelihood-ratio test
    allows (:func:`~discovery.stats.tests.lr_allowance`, one degree of freedom a
    snapped constant); otherwise the terms as found.
    """
    from ..routes.library import fit_library

    t0 = time.perf_counter()
    terms = additive_terms(raw)
    snapped = [snap_floats(t) for t in terms]
    n_snapped = sum(len(t.atoms(sympy.Float)) for t in terms) - sum(
        len(t.atoms(sympy.Float)) for t in snapped)
    timings = {"library": time.perf_counter() - t0}
    as_found = fit_library(dataset, Library(terms, spec="polish"), settings, started=started,
                           timings=timings, method=method)
    model = as_found
    if n_snapped:
        try:
            tidy = fit_library(dataset, Library(snapped, spec="polish, snapped"), settings,
                               started=started, timings=timings, method=method)
        except FitError:
            tidy = None
        if tidy is not None:
            n = dataset.n
            rss_found = as_found.metrics["mse"] * n  # type: ignore[operator]
            sigma2 = noise_variance(rss_found, n - len(as_found.terms))
            rise = tidy.metrics["mse"] * n - rss_found  # type: ignore[operator]
            if rise <= lr_allowance(n_snapped, sigma2) + 1e-12 * rss_found:
                model = tidy
    return model.updated(raw_expression=raw, pareto=front_frame(front),
                         info={**info, "polished": str(model.expression),
                               "polish_terms": [str(t) for t in terms],
                               "snapped": model is not as_found})
