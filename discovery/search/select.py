"""Model selection over candidate supports: BIC, AIC or a validation split, and the Pareto front.

Validation splits are k-fold CV, a random hold-out, or an extrapolation split
(train on the low part of one input, validate on the high part).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import sympy
import torch

from basis_library import term_complexity

from ..errors import FitError
from ..stats.criteria import aic, ebic, exact_floor
from .sparse import refit

__all__ = [
    "Candidate", "score_candidates", "choose", "pareto_front", "backward_prune", "term_cap",
    "identifiability", "CRITERIA", "SELECTIONS", "VALIDATIONS", "Splits", "validation_splits",
    "validation_error",
]

CRITERIA = ("bic", "aic", "validation")
#: The validation strategies; ``"cv"`` is kept as another name for ``"kfold"``.
VALIDATIONS = ("kfold", "holdout", "extrapolation")
#: What ``discover(selection=...)`` accepts.
SELECTIONS = ("bic", "aic", "cv", *VALIDATIONS)


@dataclass(frozen=True)
class Candidate:
    """One refitted support with its scores."""

    support: tuple[int, ...]
    coef: np.ndarray
    std_error: np.ndarray
    rss: float
    mse: float
    complexity: int
    bic: float
    aic: float
    #: Mean squared error on the held-out rows of the validation splits
    validation_mse: float = math.nan
    #: Its standard error (the spread of the held-out squared errors over sqrt(rows))
    validation_se: float = math.nan
    #: The residual is at float64's rounding floor: the data are fitted exactly
    exact: bool = False
    #: Small enough for the rows to identify it (:func:`term_cap`); exact fits may be larger
    admissible: bool = True

    @property
    def n_terms(self) -> int:
        return len(self.support)


def model_complexity(terms: Sequence[sympy.Expr]) -> int:
    """Nodes of ``c1*t1 + c2*t2 + ...``: each term, its coefficient and the joins."""
    nodes = sum(1 if t == 1 else term_complexity(t) + 2 for t in terms)
    return nodes + max(len(terms) - 1, 0)


def score_candidates(X: torch.Tensor, y: torch.Tensor, supports: Sequence[tuple[int, ...]],
                     terms: Sequence[sympy.Expr], *, splits: Splits | None = None,
                     ebic_gamma: float = 0.5, searched: int | None = None) -> list[Candidate]:
    """Refit every support by least squares and score it.

    ``bic`` is the extended BIC of Chen & Chen (2008),
    ``n log(RSS/n) + k log n + 2 gamma log C(p, k)``: choosing k terms out of
    a library of p is itself evidence to pay for, or a large library would
    always find some spurious term that beats plain BIC's ``log n``.
    ``ebic_gamma=0`` gives the classic BIC. ``searched`` stands for p where the
    columns were themselves picked from more (terms grown on the data). With
    ``splits``, each support is also refitted on each training part and
    scored on the held-out rows.
    """
    n, p = X.shape
    p = max(searched or p, p)
    tss = float(y @ y)
    floor = max(exact_floor(tss), 1e-300)
    out = []
    for support in supports:
        fit = refit(X, y, support)
        k = len(support)
        rss = max(fit.rss, floor)
        held, held_se = (validation_error(X, y, support, splits.parts) if splits
                         else (math.nan, math.nan))
        exact = fit.rss <= floor
        out.append(Candidate(
            support=support, coef=fit.coef.cpu().numpy(), std_error=fit.std_error.cpu().numpy(),
            rss=fit.rss, mse=fit.rss / n,
            complexity=model_complexity([terms[i] for i in support]),
            bic=ebic(rss, n, p, k, floor, ebic_gamma),
            aic=aic(rss, n, k, floor), validation_mse=held,
            validation_se=held_se, exact=exact,
            admissible=k <= term_cap(n, exact)))
    return out


def term_cap(n: int, exact: bool = False) -> int:
    """The most terms a model fitted on ``n`` rows may have.

    A model that is not exact needs about four rows a term before its
    coefficients and residual variance mean anything (Harrell's rule of thumb
    asks for 10–20; on 20 rows a greedy fit otherwise buys 11 terms). An exact
    fit is evidence by itself (k < n generic columns never fit exactly), so it
    may use up to half the rows, less one.
    """
    return max(1, (n - 2) // 2 if exact else n // 4)


def backward_prune(X: torch.Tensor, y: torch.Tensor, support: tuple[int, ...],
                   ebic_gamma: float = 0.5, searched: int | None = None) -> tuple[int, ...]:
    """Drop terms one at a time while the extended BIC improves.

    Forward selection cannot take back a term; a term that was the best single
    choice early on may be redundant once others are in. Each step removes the
    term whose removal gives the lowest criterion (``searched`` as in
    :func:`score_candidates`).
    """
    n, p = X.shape
    p = max(searched or p, p)
    floor = max(exact_floor(y), 1e-300)
    current = tuple(support)
    score = ebic(refit(X, y, current).rss, n, p, len(current), floor, ebic_gamma)
    while len(current) > 1:
        trials = []
        for i in range(len(current)):
            smaller = current[:i] + current[i + 1:]
            trials.append((ebic(refit(X, y, smaller).rss, n, p, len(smaller), floor,
                                 ebic_gamma), smaller))
        best_score, best = min(trials)
        if best_score > score:
            break
        score, current = best_score, best
    return current


@dataclass(frozen=True)
class Splits:
    """Train/validation index pairs and a description of how they were drawn."""

    strategy: str
    parts: tuple[tuple[np.ndarray, np.ndarray], ...]
    description: str


def validation_splits(n: int, strategy: str = "kfold", *, folds: int = 5, fraction: float = 0.25,
                      values: np.ndarray | None = None, name: str = "",
                      random_state: int | None = 0) -> Splits:
    """Train/validation splits of ``n`` rows.

    Parameters
    ----------
    strategy
        ``"kfold"`` (``folds`` folds, each held out once), ``"holdout"`` (a
        random ``fraction`` held out) or ``"extrapolation"`` (the rows where
        ``values`` is above its ``1 - fraction`` quantile held out, so a model
        is judged on inputs beyond those it was fitted on).
    values, name
        The input column the extrapolation split is made on, and its name.

    Examples
    --------
    >>> s = validation_splits(8, "extrapolation", fraction=0.25, values=np.arange(8.0), name="v")
    >>> s.parts[0][1].tolist(), s.description
    ([6, 7], 'extrapolation on v: train v <= 5, validate v > 5 (2 of 8 rows)')
    """
    rng = np.random.default_rng(random_state)
    if strategy == "kfold":
        if folds < 2 or folds > n:
            raise FitError(f"k-fold CV needs 2 <= k <= n rows; got k={folds} with {n} rows.")
        order = rng.permutation(n)
        parts = tuple((np.setdiff1d(order, h), np.sort(h)) for h in np.array_split(order, folds))
        return Splits(strategy, parts, f"{folds}-fold CV")
    if not 0 < fraction < 1:
        raise FitError(f"The validation fraction must be between 0 and 1; got {fraction!r}.")
    n_held = min(max(int(round(fraction * n)), 1), n - 2)
    if strategy == "holdout":
        order = rng.permutation(n)
        return Splits(strategy, ((np.sort(order[n_held:]), np.sort(order[:n_held])),),
                      f"hold-out: {n_held} of {n} random rows")
    if strategy == "extrapolation":
        if values is None:
            raise FitError("The extrapolation split needs an input to split on (split_on=...).")
        order = np.argsort(values, kind="stable")
        train, held = np.sort(order[:n - n_held]), np.sort(order[n - n_held:])
        edge = float(values[order[n - n_held - 1]])
        return Splits(strategy, ((train, held),),
                      f"extrapolation on {name}: train {name} <= {edge:.4g}, validate "
                      f"{name} > {edge:.4g} ({n_held} of {n} rows)")
    raise FitError(f"Unknown validation strategy {strategy!r}; "
                   f"expected one of {', '.join(VALIDATIONS)}.")


def validation_error(X: torch.Tensor, y: torch.Tensor, support: tuple[int, ...],
                     parts: Sequence[tuple[np.ndarray, np.ndarray]]) -> tuple[float, float]:
    """Mean squared error on the held-out rows (the support refitted on each training
    part), and its standard error: the held-out squared errors' spread over √rows."""
    idx = torch.as_tensor(list(support), device=X.device)
    errors = []
    for train, held in parts:
        if len(train) <= len(support):
            return math.inf, math.nan
        t = torch.as_tensor(train, device=X.device)
        h = torch.as_tensor(held, device=X.device)
        fit = refit(X[t], y[t], support)
        errors.append((y[h] - X[h][:, idx] @ fit.coef) ** 2)
    squared = torch.cat(errors)
    se = float(squared.std()) / math.sqrt(len(squared)) if len(squared) > 1 else math.nan
    return float(squared.mean()), se


def choose(candidates: Sequence[Candidate], criterion: str = "bic") -> int:
    """Index of the chosen candidate: least BIC/AIC/validation error, ties to the simpler.

    The smallest exact fit wins outright; otherwise only candidates small
    enough for the rows (:func:`term_cap`) compete, unless none is.
    """
    if not candidates:
        raise FitError("No candidate model could be fitted.")
    if criterion not in CRITERIA:
        raise FitError(f"Unknown selection criterion {criterion!r}; "
                       f"expected one of {', '.join(CRITERIA)}.")
    key = {"bic": lambda c: c.bic, "aic": lambda c: c.aic,
           "validation": lambda c: c.validation_mse if not math.isnan(c.validation_mse)
           else math.inf}[criterion]
    # An exact fit ends the search: the fewest terms that fit exactly win, whatever
    # the criterion (below the rounding floor no criterion has evidence to spend).
    exact = [i for i, c in enumerate(candidates) if c.exact and c.admissible]
    if exact:
        return min(exact, key=lambda i: (candidates[i].n_terms, candidates[i].complexity,
                                         candidates[i].rss))
    pool = [i for i, c in enumerate(candidates) if c.admissible] or list(range(len(candidates)))
    if criterion == "validation":
        # The one-standard-error rule: the simplest model whose validation error is
        # within one standard error of the best (1% where the error has none).
        best = min(pool, key=lambda i: key(candidates[i]))
        se = candidates[best].validation_se
        margin = se if math.isfinite(se) else 0.01 * key(candidates[best])
        near = [i for i in pool if key(candidates[i]) <= key(candidates[best]) + margin + 1e-300]
        return min(near, key=lambda i: (candidates[i].complexity, key(candidates[i])))
    return min(pool, key=lambda i: (key(candidates[i]), candidates[i].complexity))


def pareto_front(candidates: Sequence[Candidate]) -> list[int]:
    """Indices of candidates no other beats on both complexity and error, by complexity."""
    order = sorted(range(len(candidates)),
                   key=lambda i: (candidates[i].complexity, candidates[i].mse))
    front, best = [], math.inf
    for i in order:
        if candidates[i].mse < best * (1 - 1e-12):
            front.append(i)
            best = candidates[i].mse
    return front


def identifiability(candidates: Sequence[Candidate], chosen: int, n: int,
                    criterion: str = "bic") -> list[str]:
    """Why the rows may not identify the law: notes for the user (empty when they do).

    - another exact fit with as few terms (the data cannot tell them apart);
    - a model the row cap (:func:`term_cap`) excluded scored better (more rows needed);
    - another support of at most as many terms within 2 of the chosen BIC
      (Kass & Raftery 1995: a difference below 2 is "not worth more than a bare mention").
    """
    notes: list[str] = []
    best = candidates[chosen]
    if best.exact:
        rivals = [c for c in candidates if c.exact and c.support != best.support
                  and c.n_terms <= best.n_terms]
        if rivals:
            notes.append(f"{len(rivals)} other exact fit(s) with {best.n_terms} term(s): "
                         "these rows cannot tell them apart")
        return notes
    key = {"aic": lambda c: c.aic}.get(criterion, lambda c: c.bic)
    capped = [c for c in candidates if not c.admissible and key(c) < key(best) - 2]
    if capped:
        k = min(c.n_terms for c in capped)
        notes.append(f"a {k}-term fit scores better, but {n} rows allow at most "
                     f"{term_cap(n)} terms: more data are needed to identify it")
    close = [c for c in candidates if c.admissible and c.support != best.support
             and c.n_terms <= best.n_terms and abs(key(c) - key(best)) < 2]
    if close and criterion != "validation":
        notes.append(f"{len(close)} other model(s) of at most {best.n_terms} term(s) score "
                     f"within 2 of it ({criterion.upper()}): the data barely prefer this one")
    return notes
