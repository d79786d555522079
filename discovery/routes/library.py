"""The sparse engine on one library: evaluate, search, refit, select, recognise constants.

Shared by every route and backend (``discover``, the other routes, polishing
a genetic expression), so that the data flow one way: library → design matrix →
search → selection → expression → Model.
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass
from typing import Any

import pandas as pd
import sympy
import torch

from basis_library import (
    Design,
    Library,
    LibraryError,
    normalise_term,
    term_complexity,
)

from .._data import Dataset
from ..errors import FitError
from ..model import Model, ModelTerm
from ..search.select import (
    Splits,
    backward_prune,
    choose,
    identifiability,
    pareto_front,
    score_candidates,
    validation_splits,
)
from ..search.sparse import candidate_supports, scale_columns
from ..symbolic.simplify import simplify_expression
from ..symbolic.snap import Snapped, closed_forms
from ..uncertainty.assess import FitState
from ..units import Units

__all__ = [
    "Settings", "PRUNE_BEST", "evaluate_library", "fit_library", "expressions", "term_cost",
    "training_metrics", "fit_metrics", "model_from_expression", "front_frame",
]

PRUNE_BEST = 5


def evaluate_library(library: Library, dataset: Dataset, settings: Settings) -> Design:
    """``library`` on ``dataset``'s inputs, with the message fit_library gives for unknown names."""
    unknown = sorted(s.name for s in library.symbols if s.name not in dataset.columns)
    if unknown:
        raise LibraryError(f"The basis uses {', '.join(unknown)}, which are not inputs; "
                           f"inputs are: {', '.join(dataset.inputs)}.")
    return library.evaluate(dataset.columns, device=settings.device)


@dataclass(frozen=True)
class Settings:
    """The sparse engine's settings, validated once by :func:`discover`."""

    solver: str
    selection: str
    max_terms: int
    cv_folds: int
    constants: dict[str, float]
    simplify: bool
    device: torch.device
    random_state: int | None
    validation: str = "kfold"
    validation_fraction: float = 0.25
    split_on: str | None = None
    #: Declared units (:class:`~discovery.units.Units`): terms must balance them.
    units: Units | None = None

    @property
    def criterion(self) -> str:
        """``"bic"``, ``"aic"`` or ``"validation"``."""
        return self.selection if self.selection in ("bic", "aic") else "validation"

    def splits(self, dataset: Dataset) -> Splits:
        values = None if self.split_on is None else dataset.columns[self.split_on]
        return validation_splits(dataset.n, self.validation, folds=self.cv_folds,
                                 fraction=self.validation_fraction, values=values,
                                 name=self.split_on or "", random_state=self.random_state)


def fit_library(dataset: Dataset, library: Library, settings: Settings, *,
                started: float, timings: dict[str, float], method: str = "sparse",
                design: Design | None = None,
                search: tuple[int, float] | None = None) -> Model:
    """The sparse engine on one library: evaluate, search, refit, select, recognise.

    ``design`` is the library already evaluated on ``dataset``'s inputs (fits
    of a transformed target reuse it; only y changes). ``search`` (the number
    of terms searched, the extended BIC's γ) replaces the library's size and
    γ = 1/2 where its terms were themselves picked from more.
    """
    t1 = time.perf_counter()
    if design is None:
        design = evaluate_library(library, dataset, settings)
    if design.matrix.shape[1] == 0:
        raise FitError("Every candidate term is non-finite or zero on the data; "
                       "try another basis.")
    t2 = time.perf_counter()
    X = design.matrix
    y = torch.tensor(dataset.y, dtype=X.dtype, device=X.device)
    Xs, _ = scale_columns(X)
    supports = candidate_supports(Xs, y, solver=settings.solver, max_terms=settings.max_terms,
                                  complexity=[term_cost(t) for t in design.terms])
    if not supports:
        raise FitError("No candidate model was found; the target may be constant zero.")
    # Validation errors are needed here only to choose by them; otherwise the
    # assessment draws the splits and scores the winning route's candidates alone.
    splits = settings.splits(dataset) if settings.criterion == "validation" else None
    searched, gamma = search or (None, 0.5)
    candidates = score_candidates(X, y, supports, design.terms, splits=splits,
                                  ebic_gamma=gamma, searched=searched)
    # Backward elimination from the best few candidates adds what forward
    # selection cannot reach (a support without its early, now redundant, terms).
    best_few = sorted(candidates, key=lambda c: c.bic)[:PRUNE_BEST]
    pruned = {backward_prune(X, y, c.support, gamma, searched) for c in best_few} - set(supports)
    if pruned:
        candidates += score_candidates(X, y, sorted(pruned), design.terms, splits=splits,
                                       ebic_gamma=gamma, searched=searched)
    best = choose(candidates, settings.criterion)
    t3 = time.perf_counter()

    chosen = candidates[best]
    chosen_terms = [design.terms[i] for i in chosen.support]
    named = settings.constants
    snapped = closed_forms(X, y, chosen, chosen_terms, named, units=settings.units)
    raw, expression = expressions(chosen.coef, snapped, chosen_terms, settings.simplify)
    t4 = time.perf_counter()

    model_terms = [ModelTerm(term=t, coefficient=float(c), std_error=float(s), closed_form=f,
                             consistent_with=w)
                   for t, c, s, f, w in zip(chosen_terms, snapped.coef, snapped.std_error,
                                            snapped.closed, snapped.consistent)]
    front = pareto_front(candidates)
    if best not in front:
        front = sorted([*front, best], key=lambda i: candidates[i].complexity)
    pareto = pd.DataFrame([{
        "complexity": candidates[i].complexity, "n_terms": candidates[i].n_terms,
        "error": candidates[i].mse, "bic": candidates[i].bic, "aic": candidates[i].aic,
        "validation_mse": candidates[i].validation_mse,
        "expression": str(sympy.Add(*[sympy.Float(c, 6) * design.terms[j] for c, j in
                                      zip(candidates[i].coef, candidates[i].support)])),
        "chosen": i == best} for i in front])
    model = Model(expression=expression, raw_expression=raw, inputs=dataset.inputs,
                  target=dataset.target, terms=model_terms, constants=named, pareto=pareto,
                  library={**library.to_dict(), "evaluated": len(design.terms),
                           "dropped": design.dropped, "collinear": design.collinear},
                  method=method)
    metrics = {**training_metrics(model, dataset), "mse_refit": chosen.mse,
               "n_terms": chosen.n_terms, "library_size": len(library),
               "constants_fixed": snapped.fixed, "selection": settings.selection,
               **({"shared_constants": snapped.sharing.to_dict(chosen_terms)}
                  if snapped.sharing.tested else {}),
               "solver": settings.solver, "n_candidates": len(candidates),
               "exact_fit": bool(chosen.exact),
               "identifiability": identifiability(candidates, best, dataset.n,
                                                  settings.criterion)}
    info = {"device": str(settings.device), "source": dataset.source, "timings": {
        "library": timings.get("library", 0.0), "evaluate": timings.get("evaluate", t2 - t1),
        "fit": t3 - t2, "constants_simplify": t4 - t3, "total": time.perf_counter() - started}}
    state = FitState(X=X, y=y, terms=tuple(design.terms), candidates=tuple(candidates),
                     chosen=best, splits=splits, criterion=settings.criterion,
                     front=tuple(front))
    model = model.replace(metrics=metrics, info=info, fit_state=state)
    return model


def expressions(coef, snapped: Snapped, terms, simplify: bool  # noqa: ANN001
                ) -> tuple[sympy.Expr, sympy.Expr]:
    """The fitted sum as found, and with its shared constants and closed forms
    (:func:`closed_forms`; simplified if asked)."""
    raw = sympy.Add(*[sympy.Float(float(c), 15) * t for c, t in zip(coef, terms)])
    expression = snapped.expression()
    if simplify:
        expression = simplify_expression(expression)
    return raw, expression


@functools.lru_cache(maxsize=20_000)
def term_cost(term: sympy.Expr) -> int:
    """:func:`term_complexity`, remembered: every route of one fit sizes the same terms."""
    return term_complexity(term)


def training_metrics(model: Model, dataset: Dataset) -> dict[str, object]:
    """R², MSE, complexity and row counts of a model on its training data."""
    residual = dataset.y - model.predict(dataset.columns)
    return fit_metrics(model, float((residual**2).sum()),
                       float(((dataset.y - dataset.y.mean()) ** 2).sum()), dataset.n,
                       dataset.n_dropped)


def fit_metrics(model: Model, rss: float, tss: float, n: int, dropped: int) -> dict[str, object]:
    """R², MSE, complexity and row counts from a fit's sums of squares (one table, or the
    sums of its parts)."""
    mse = rss / n
    return {"r2": 1.0 - rss / tss if tss > 0 else float(mse == 0), "mse": mse,
            "n_samples": n, "rows_dropped": dropped, "complexity": model.complexity}


def model_from_expression(expr: sympy.Expr, dataset: Dataset, *, method: str,
                          front: list[dict[str, Any]], info: dict[str, Any],
                          constants: dict[str, float] | None = None) -> Model:
    """A Model that is exactly ``expr`` (no polishing); ``constants`` name symbols in it."""
    terms = [ModelTerm(term=normalise_term(p), coefficient=float(p.as_coeff_Mul()[0]),
                       std_error=math.nan) for p in sympy.Add.make_args(expr)]
    model = Model(expression=expr, raw_expression=expr, inputs=dataset.inputs,
                  target=dataset.target, terms=terms, constants=constants,
                  pareto=front_frame(front), method=method, info=info)
    return model.replace(metrics=training_metrics(model, dataset))


def front_frame(front: list[dict[str, Any]]) -> pd.DataFrame:
    """A genetic front as the Pareto table of a Model (constants to six digits)."""
    return pd.DataFrame([{"complexity": r["complexity"], "error": r["loss"],
                          "expression": str(_short(r["expression"])),
                          "chosen": bool(r["chosen"])}
                         for r in front])


def _short(expr: sympy.Expr, digits: int = 6) -> sympy.Expr:
    return expr.xreplace({f: sympy.Float(f, digits) for f in expr.atoms(sympy.Float)})
