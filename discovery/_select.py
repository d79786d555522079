"""Model selection over candidate supports: BIC, AIC or k-fold CV, and the Pareto front."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import sympy
import torch

from basis_library import FitError, term_complexity

from ._sparse import refit

__all__ = ["Candidate", "score_candidates", "choose", "ebic", "pareto_front", "backward_prune",
           "CRITERIA"]

CRITERIA = ("bic", "aic", "cv")

# An exact fit's RSS is rounding noise; below this fraction of the total sum
# of squares, a smaller RSS is no evidence for more terms.
_RSS_FLOOR = 1e-20


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
    cv_mse: float = math.nan

    @property
    def n_terms(self) -> int:
        return len(self.support)


def model_complexity(terms: Sequence[sympy.Expr]) -> int:
    """Nodes of ``c1*t1 + c2*t2 + ...``: each term, its coefficient and the joins."""
    nodes = sum(1 if t == 1 else term_complexity(t) + 2 for t in terms)
    return nodes + max(len(terms) - 1, 0)


def score_candidates(X: torch.Tensor, y: torch.Tensor, supports: Sequence[tuple[int, ...]],
                     terms: Sequence[sympy.Expr], *, cv_folds: int = 0,
                     random_state: int | None = 0, ebic_gamma: float = 0.5) -> list[Candidate]:
    """Refit every support by least squares and score it.

    ``bic`` is the extended BIC of Chen & Chen (2008),
    ``n log(RSS/n) + k log n + 2 gamma log C(p, k)``: choosing k terms out of
    a library of p is itself evidence to pay for, or a large library would
    always find some spurious term that beats plain BIC's ``log n``.
    ``ebic_gamma=0`` gives the classic BIC.
    """
    n, p = X.shape
    tss = float(y @ y)
    floor = max(_RSS_FLOOR * tss, 1e-300)
    folds = _folds(n, cv_folds, random_state) if cv_folds else []
    out = []
    for support in supports:
        fit = refit(X, y, support)
        k = len(support)
        rss = max(fit.rss, floor)
        cv = _cv_mse(X, y, support, folds) if folds else math.nan
        out.append(Candidate(
            support=support, coef=fit.coef.cpu().numpy(), std_error=fit.std_error.cpu().numpy(),
            rss=fit.rss, mse=fit.rss / n,
            complexity=model_complexity([terms[i] for i in support]),
            bic=ebic(rss, n, p, k, floor, ebic_gamma),
            aic=n * math.log(rss / n) + 2 * k, cv_mse=cv))
    return out


def ebic(rss: float, n: int, p: int, k: int, floor: float, gamma: float = 0.5) -> float:
    """Extended BIC (Chen & Chen): k of p terms, RSS floored; ``gamma=0`` is plain BIC."""
    penalty = 2 * gamma * _log_comb(p, k) if gamma else 0.0
    return n * math.log(max(rss, floor) / n) + k * math.log(n) + penalty


def backward_prune(X: torch.Tensor, y: torch.Tensor, support: tuple[int, ...],
                   ebic_gamma: float = 0.5) -> tuple[int, ...]:
    """Drop terms one at a time while the extended BIC improves.

    Forward selection cannot take back a term; a term that was the best single
    choice early on may be redundant once others are in. Each step removes the
    term whose removal gives the lowest criterion.
    """
    n, p = X.shape
    floor = max(_RSS_FLOOR * float(y @ y), 1e-300)
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


def _log_comb(p: int, k: int) -> float:
    return math.lgamma(p + 1) - math.lgamma(k + 1) - math.lgamma(p - k + 1)


def _folds(n: int, k: int, random_state: int | None) -> list[np.ndarray]:
    if k < 2 or k > n:
        raise FitError(f"k-fold CV needs 2 <= k <= n rows; got k={k} with {n} rows.")
    order = np.random.default_rng(random_state).permutation(n)
    return np.array_split(order, k)


def _cv_mse(X: torch.Tensor, y: torch.Tensor, support: tuple[int, ...],
            folds: list[np.ndarray]) -> float:
    n = X.shape[0]
    errors = 0.0
    for held in folds:
        train = np.setdiff1d(np.arange(n), held)
        if len(train) <= len(support):
            return math.inf
        t = torch.as_tensor(train, device=X.device)
        h = torch.as_tensor(held, device=X.device)
        fit = refit(X[t], y[t], support)
        idx = torch.as_tensor(list(support), device=X.device)
        resid = y[h] - X[h][:, idx] @ fit.coef
        errors += float(resid @ resid)
    return errors / n


def choose(candidates: Sequence[Candidate], criterion: str = "bic") -> int:
    """Index of the chosen candidate: least BIC/AIC/CV error, ties to the simpler."""
    if not candidates:
        raise FitError("No candidate model could be fitted.")
    if criterion not in CRITERIA:
        raise FitError(f"Unknown selection criterion {criterion!r}; "
                       f"expected one of {', '.join(CRITERIA)}.")
    key = {"bic": lambda c: c.bic, "aic": lambda c: c.aic, "cv": lambda c: c.cv_mse}[criterion]
    if criterion == "cv":
        # One-standard-error flavour: the simplest model within 1% of the best CV error.
        best = min(key(c) for c in candidates)
        near = [i for i, c in enumerate(candidates) if key(c) <= best * 1.01 + 1e-300]
        return min(near, key=lambda i: (candidates[i].complexity, key(candidates[i])))
    return min(range(len(candidates)), key=lambda i: (key(candidates[i]),
                                                       candidates[i].complexity))


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
