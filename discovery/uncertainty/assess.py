"""How sure, and how well chosen: intervals, inclusion and selection diagnostics on a model.

:func:`assess` runs once, on the model :func:`discovery.discover` returns,
from the state the sparse engine kept when it chose that model
(:class:`FitState`): the design matrix, the candidate supports and their
scores.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import sympy
import torch

from ..model import Model, ModelTerm, finite_or_none
from ..search.select import CRITERIA, Candidate, Splits, choose, validation_error
from ..search.sparse import lasso_solutions, refit, scale_columns
from ..stats.intervals import percentile_interval, t_interval
from ..stats.noise import noise_variance
from .bootstrap import (
    bootstrap_selection,
    candidate_columns,
)

__all__ = ["FitState", "assess", "constant_interval", "constant_intervals"]

PATH_TERMS = 12


@dataclass(frozen=True)
class FitState:
    """What the sparse engine knew when it chose a model (kept on the model, never saved)."""

    X: torch.Tensor
    y: torch.Tensor
    terms: tuple[sympy.Expr, ...]
    candidates: tuple[Candidate, ...]
    chosen: int
    #: The splits the candidates were chosen by; None when an information criterion chose
    splits: Splits | None
    criterion: str
    #: Indices of the candidates in the model's Pareto table, in its order
    front: tuple[int, ...] = ()

    def with_validation(self, splits: Splits) -> FitState:
        """This state with every candidate's validation error on ``splits`` (where missing)."""
        if all(not math.isnan(c.validation_mse) for c in self.candidates):
            return self

        def scored(c: Candidate) -> Candidate:
            if not math.isnan(c.validation_mse):
                return c
            mse, se = validation_error(self.X, self.y, c.support, splits.parts)
            return replace(c, validation_mse=mse, validation_se=se)

        return replace(self, candidates=tuple(scored(c) for c in self.candidates), splits=splits)


def assess(model: Model, state: FitState, splits: Splits, *, n_bootstrap: int, level: float,
           max_terms: int, random_state: int | None, selection: str
           ) -> tuple[Model, dict[str, float]]:
    """``model`` with intervals, inclusion probabilities and selection diagnostics.

    ``splits`` gives the validation errors reported (the same as
    ``state.splits`` where those chose).

    Coefficient intervals are bootstrap percentiles when ``n_bootstrap > 0``,
    Student-t intervals from the refit's standard errors otherwise; the
    covariance for prediction intervals is always the refit's.

    Returns the new model and the seconds taken by the ``bootstrap`` and the
    ``diagnostics``.
    """
    started = time.perf_counter()
    state = state.with_validation(splits)
    pareto = model.pareto
    if len(pareto) == len(state.front) and "validation_mse" in pareto:
        pareto["validation_mse"] = [state.candidates[i].validation_mse for i in state.front]
    chosen = state.candidates[state.chosen]
    support = chosen.support
    n, k = state.X.shape[0], len(support)
    fit = refit(state.X, state.y, support)
    coef = fit.coef.cpu().numpy()
    dof = n - k
    uncertainty: dict[str, Any] = {
        "level": level, "interval": "t", "dof": dof,
        "noise_std": math.sqrt(noise_variance(fit.rss, dof)),
        "covariance": fit.covariance.cpu().numpy().tolist()}
    intervals = t_interval(coef, fit.std_error.cpu().numpy(), dof, level)
    inclusion: list[float | None] = [None] * k
    seconds = {"bootstrap": 0.0}
    if n_bootstrap:
        t = time.perf_counter()
        boot = bootstrap_selection(
            state.X, state.y, [c.support for c in state.candidates], support,
            n_resamples=n_bootstrap, criterion="aic" if state.criterion == "aic" else "bic",
            max_terms=max_terms, random_state=random_state)
        seconds["bootstrap"] = time.perf_counter() - t
        intervals = percentile_interval(boot.coef, level)
        inclusion = [float(p) for p in boot.inclusion[:k]]
        order = np.argsort(-boot.inclusion, kind="stable")
        uncertainty.update(
            interval="bootstrap percentile", n_resamples=boot.n_resamples,
            support_rate=boot.support_rate,
            inclusion=[{"term": str(state.terms[boot.columns[i]]),
                        "probability": float(boot.inclusion[i])}
                       for i in order if boot.inclusion[i] > 0])
    terms = [replace(t, interval=(float(lo), float(hi)), inclusion=p)
             for t, lo, hi, p in zip(model.terms, intervals[0], intervals[1], inclusion)]
    uncertainty["constants"] = constant_intervals(terms, model.constants)
    summary = _summaries(state)
    model = model.replace(
        terms=terms, pareto=pareto, uncertainty=uncertainty,
        diagnostics={"selection": _selection(state, splits, selection, summary),
                     "complexity": _complexity_curve(state, summary), "path": _path(state)})
    seconds["diagnostics"] = time.perf_counter() - started - seconds["bootstrap"]
    return model, seconds


def constant_interval(form: sympy.Expr, symbol: sympy.Symbol, coefficient: float,
                      interval: tuple[float, float]) -> dict[str, float] | None:
    """The value of ``symbol`` that a coefficient implies, and its interval.

    ``form`` is a closed form ``r * symbol**a`` the coefficient was recognised
    as (``1/g``); solving ``r * g**a = c`` maps the coefficient and its
    interval's ends onto ``g``. None where an end has the wrong sign.

    Examples
    --------
    >>> g = sympy.Symbol("g", positive=True)
    >>> out = constant_interval(1 / g, g, 0.10194, (0.10192, 0.10196))
    >>> round(out["estimate"], 3), round(out["low"], 3), round(out["high"], 3)
    (9.81, 9.808, 9.812)
    """
    r, a = form.as_coeff_exponent(symbol)
    if a == 0 or not r.is_number:
        return None
    r, a = float(r), float(a)
    values = [coefficient, *interval]
    if any(v / r <= 0 for v in values):
        return None
    estimate, *ends = [(v / r) ** (1 / a) for v in values]
    return {"estimate": estimate, "low": min(ends), "high": max(ends)}


def constant_intervals(terms: Sequence[ModelTerm], constants: Mapping[str, float]
                       ) -> dict[str, dict[str, object]]:
    """For each named constant a coefficient was recognised as, its narrowest interval."""
    out: dict[str, dict[str, object]] = {}
    for t in terms:
        if t.closed_form is None or t.interval is None:
            continue
        for symbol in t.closed_form.free_symbols:
            name = symbol.name  # type: ignore[attr-defined]
            if name not in constants:
                continue
            found = constant_interval(t.closed_form, symbol, t.coefficient,  # type: ignore[arg-type]
                                      t.interval)
            if found is None:
                continue
            width = found["high"] - found["low"]
            if name not in out or width < out[name]["high"] - out[name]["low"]:  # type: ignore[operator]
                out[name] = {"value": constants[name], **found, "term": str(t.term),
                             "closed_form": str(t.closed_form)}
    return out


def _summaries(state: FitState) -> Callable[[int], dict[str, object]]:
    """A summary of candidate ``i`` (sizes, errors, scores, formula), each built once."""
    cache: dict[int, dict[str, object]] = {}

    def summary(i: int) -> dict[str, object]:
        if i not in cache:
            c = state.candidates[i]
            cache[i] = {
                "n_terms": c.n_terms, "complexity": c.complexity, "train_mse": c.mse,
                "validation_mse": finite_or_none(c.validation_mse),
                "validation_se": finite_or_none(c.validation_se), "bic": c.bic, "aic": c.aic,
                "expression": str(sympy.Add(*[sympy.Float(v, 6) * state.terms[j]
                                              for v, j in zip(c.coef, c.support)]))}
        return dict(cache[i])

    return summary


def _selection(state: FitState, splits: Splits, selection: str,
               summary: Callable[[int], dict[str, object]]) -> dict[str, object]:
    """The criterion used, the validation split, and what each criterion would choose."""
    return {"selection": selection, "criterion": state.criterion,
            "validation": splits.description, "chosen": summary(state.chosen),
            "choices": {c: summary(choose(state.candidates, c)) for c in CRITERIA}}


def _complexity_curve(state: FitState,
                      summary: Callable[[int], dict[str, object]]) -> list[dict[str, object]]:
    """The best-fitting candidate of each size: training against validation error."""
    best: dict[int, int] = {}
    for i, c in enumerate(state.candidates):
        if c.n_terms not in best or c.mse < state.candidates[best[c.n_terms]].mse:
            best[c.n_terms] = i
    chosen = state.candidates[state.chosen].support
    return [{**summary(i), "chosen": state.candidates[i].support == chosen}
            for _, i in sorted(best.items())]


def _path(state: FitState) -> dict[str, object]:
    """The L1 path over every term a candidate holds (unit-RMS columns): the largest ones."""
    Xs, _ = scale_columns(state.X)
    chosen = state.candidates[state.chosen].support
    columns = candidate_columns([c.support for c in state.candidates], chosen)
    y_rms = float(torch.linalg.vector_norm(state.y)) / math.sqrt(len(state.y)) or 1.0
    alphas, coef = lasso_solutions(Xs[:, columns], state.y / y_rms)
    if alphas.numel() == 0:
        return {"alphas": [], "terms": [], "coefficients": []}
    largest = coef.abs().max(dim=1).values
    keep = [int(i) for i in torch.argsort(largest, descending=True)[:PATH_TERMS]
            if float(largest[i]) > 0]
    return {"alphas": alphas.cpu().numpy().tolist(),
            "terms": [str(state.terms[columns[i]]) for i in keep],
            "chosen": [columns[i] in chosen for i in keep],
            "coefficients": coef[keep].cpu().numpy().tolist(),
            "scale": "coefficients of unit-RMS columns, target divided by its RMS"}
